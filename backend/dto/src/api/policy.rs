use serde::{Deserialize, Serialize};

/// The security policy of this duban: rules an administrator may set for
/// the whole installation. Every change is audited.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// A policy stored before a setting existed takes its default.
#[serde(default)]
pub struct SecurityPolicy {
    /// Separation of duties in the review: nobody (no account, no unit)
    /// reviews work it submitted, and final approval comes from someone
    /// other than who accepted. On by default; only an office too small to
    /// staff it should switch it off.
    pub separation_of_duties: bool,
    /// Passwords have at least this many characters (8 to 64) …
    pub password_min_length: u32,
    /// … from at least this many of the four classes: lower case, upper
    /// case, digits, other characters (1 to 4).
    pub password_min_classes: u32,
    /// A new password may not be one of the last this many (0 to 24).
    pub password_history: u32,
    /// A password expires after this many days and must then be changed
    /// (0: never; at most 365).
    pub password_max_age_days: u32,
    /// A session ends after this many minutes without a request (5 to 480) …
    pub session_idle_minutes: u32,
    /// … and this many hours after signing in, in any case (1 to 72).
    pub session_absolute_hours: u32,
    /// A second factor for every account, not only the administrators'.
    pub mfa_required_for_all: bool,
}

impl Default for SecurityPolicy {
    /// The defaults meet 等保 2.0 level 3.
    fn default() -> Self {
        SecurityPolicy {
            separation_of_duties: true,
            password_min_length: 8,
            password_min_classes: 3,
            password_history: 5,
            password_max_age_days: 90,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            mfa_required_for_all: false,
        }
    }
}

impl SecurityPolicy {
    /// Says which setting is out of its range, if one is.
    pub fn check(&self) -> Result<(), String> {
        let ranges: [(&str, u32, u32, u32); 6] = [
            ("password_min_length", self.password_min_length, 8, 64),
            ("password_min_classes", self.password_min_classes, 1, 4),
            ("password_history", self.password_history, 0, 24),
            ("password_max_age_days", self.password_max_age_days, 0, 365),
            ("session_idle_minutes", self.session_idle_minutes, 5, 480),
            ("session_absolute_hours", self.session_absolute_hours, 1, 72),
        ];
        for (name, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err(format!("{name} must be between {low} and {high}"));
            }
        }
        Ok(())
    }
}

/// A change of the security policy; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicyPatch {
    #[serde(default)]
    pub separation_of_duties: Option<bool>,
    #[serde(default)]
    pub password_min_length: Option<u32>,
    #[serde(default)]
    pub password_min_classes: Option<u32>,
    #[serde(default)]
    pub password_history: Option<u32>,
    #[serde(default)]
    pub password_max_age_days: Option<u32>,
    #[serde(default)]
    pub session_idle_minutes: Option<u32>,
    #[serde(default)]
    pub session_absolute_hours: Option<u32>,
    #[serde(default)]
    pub mfa_required_for_all: Option<bool>,
}

impl SecurityPolicyPatch {
    /// The policy with this patch applied.
    pub fn applied_to(&self, policy: &SecurityPolicy) -> SecurityPolicy {
        SecurityPolicy {
            separation_of_duties: self.separation_of_duties.unwrap_or(policy.separation_of_duties),
            password_min_length: self.password_min_length.unwrap_or(policy.password_min_length),
            password_min_classes: self.password_min_classes.unwrap_or(policy.password_min_classes),
            password_history: self.password_history.unwrap_or(policy.password_history),
            password_max_age_days: self.password_max_age_days.unwrap_or(policy.password_max_age_days),
            session_idle_minutes: self.session_idle_minutes.unwrap_or(policy.session_idle_minutes),
            session_absolute_hours: self.session_absolute_hours.unwrap_or(policy.session_absolute_hours),
            mfa_required_for_all: self.mfa_required_for_all.unwrap_or(policy.mfa_required_for_all),
        }
    }
}
