use serde::{Deserialize, Serialize};

use super::UnitRef;
use crate::{Restriction, Role};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub password: String,
    /// The current code of the account's authenticator (TOTP, six digits),
    /// when it has a second factor.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 16))]
    pub otp: Option<String>,
    /// One of the account's one-time recovery codes, instead of `otp`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 32))]
    pub recovery_code: Option<String>,
}

/// A fresh pair of tokens. The access token goes in `Authorization: Bearer`;
/// the refresh token is used once, at `POST /api/v1/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: Me,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub current_password: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub new_password: String,
}

/// The signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitRef>,
    /// The region the account works in; absent: the whole installation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A demo account, whose password is published.
    pub is_demo: bool,
    /// What the user must do before anything else; the API refuses every
    /// other request (403 with this code) until it is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<Restriction>,
    /// Whether the account signs in with a second factor (TOTP).
    #[serde(default)]
    pub mfa_enabled: bool,
    /// Whether the policy requires a second factor of this account.
    #[serde(default)]
    pub mfa_required: bool,
    /// When the password expires (the policy's maximum age), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Enrolling an authenticator: the secret (base32, for typing in), the
/// `otpauth://` URI, and the same as a QR code (SVG, drawn by the server).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// A code from the authenticator, to confirm enrolment or to turn the
/// second factor off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    #[cfg_attr(feature = "openapi", schema(max_length = 16))]
    pub code: String,
}

/// One-time recovery codes, shown once: each signs in once instead of a
/// code from the authenticator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// A signed-in session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: chrono::DateTime<chrono::Utc>,
    /// When it ends without activity (the policy's idle timeout) …
    pub idle_until: chrono::DateTime<chrono::Utc>,
    /// … and when it ends in any case.
    pub ends_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}
