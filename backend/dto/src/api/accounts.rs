use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UnitRef;
use crate::{Role, Scope};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitRef>,
    /// The region the account works in (its area is this region and the
    /// regions below it); absent: the whole installation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub is_demo: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Lower-case letters, digits and `._@-`, 2 to 64 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub display_name: String,
    pub role: Role,
    /// Required for unit roles; absent for admins and inspectors.
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// The region (county, or a province's or city's) the account works
    /// in, by name: it sees that region and the regions below it. Required
    /// for an area office; a unit's account takes its unit's; absent for
    /// the administrators (the whole installation).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub region: Option<String>,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub password: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// null detaches the user from its unit.
    #[serde(default, with = "super::double_option", skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<Option<i64>>,
    /// Disabling signs the user out everywhere.
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub new_password: String,
}

/// A third-party portal or script that calls the API with keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiClient {
    pub id: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    pub keys: Vec<ApiKeyInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiClient {
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub description: Option<String>,
}

/// An API key as listed: never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyInfo {
    pub id: i64,
    /// The public part of the key, `dbk_<prefix>_…`, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub scopes: Vec<Scope>,
    /// When the key stops working; absent for no expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new key. `key` is shown this once and never again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: String,
    pub info: ApiKeyInfo,
}
