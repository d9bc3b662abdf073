use serde::{Deserialize, Serialize};

/// The security policy of this duban: rules an administrator may set for
/// the whole installation. Every change is audited.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityPolicy {
    /// Separation of duties in the review: nobody (no account, no unit)
    /// reviews work it submitted, and final approval comes from someone
    /// other than who accepted. On by default; only an office too small to
    /// staff it should switch it off.
    pub separation_of_duties: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy { separation_of_duties: true }
    }
}

/// A change of the security policy; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicyPatch {
    #[serde(default)]
    pub separation_of_duties: Option<bool>,
}
