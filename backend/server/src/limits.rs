//! Length limits on every text a request brings (`duban_dto::limits`),
//! checked before anything reaches the database: longer text is refused
//! with `invalid` / `too_long`, naming the field and its limit.

use duban_dto::api::{
    AssignmentPatch, CalendarOverride, LoginRequest, NewApiClient, NewMeasurement, NewNegativeReport, NewUnit, NewUnitGroup, NewUser,
    PasswordChange, PasswordReset, ReferenceValue, RefreshRequest, Review, UnitGroupPatch, UnitPatch, UserPatch,
};
use duban_dto::limits::{ALIASES, CODE, NAME, NOTE, PASSWORD, USERNAME};

use crate::error::Error;

/// Refuses `value` when it is longer than `max` characters.
pub fn at_most(field: &str, value: &str, max: usize) -> Result<(), Error> {
    let length = value.chars().count();
    if length > max {
        return Err(Error::invalid("too_long", format!("{field} may have at most {max} characters; it has {length}")));
    }
    Ok(())
}

/// The text values of a field, whatever its shape.
trait TextField {
    fn texts(&self) -> Vec<&str>;
}

impl TextField for String {
    fn texts(&self) -> Vec<&str> {
        vec![self]
    }
}

impl TextField for Option<String> {
    fn texts(&self) -> Vec<&str> {
        self.as_deref().into_iter().collect()
    }
}

impl TextField for Option<Option<String>> {
    fn texts(&self) -> Vec<&str> {
        self.as_ref().and_then(Option::as_deref).into_iter().collect()
    }
}

impl TextField for Vec<String> {
    fn texts(&self) -> Vec<&str> {
        self.iter().map(String::as_str).collect()
    }
}

impl TextField for Option<Vec<String>> {
    fn texts(&self) -> Vec<&str> {
        self.iter().flatten().map(String::as_str).collect()
    }
}

/// A request whose text fields have limits.
pub trait Bounded {
    /// Refuses the first field that is too long.
    fn check_lengths(&self) -> Result<(), Error>;
}

macro_rules! bounded {
    ($($type:ty { $($field:ident: $max:expr),+ $(,)? })+) => {
        $(impl Bounded for $type {
            fn check_lengths(&self) -> Result<(), Error> {
                $(for text in TextField::texts(&self.$field) {
                    at_most(stringify!($field), text, $max)?;
                })+
                Ok(())
            }
        })+
    };
}

bounded! {
    LoginRequest { username: USERNAME, password: PASSWORD }
    RefreshRequest { refresh_token: CODE }
    PasswordChange { current_password: PASSWORD, new_password: PASSWORD }
    NewUser { username: USERNAME, display_name: NAME, password: PASSWORD, region: NAME }
    UserPatch { display_name: NAME }
    PasswordReset { new_password: PASSWORD }
    NewApiClient { name: NAME, description: NOTE }
    NewUnit { region: NAME, name: NAME, aliases: NAME, note: NOTE }
    UnitPatch { name: NAME, aliases: NAME, note: NOTE }
    NewUnitGroup { region: NAME, phrase: NAME, note: NOTE }
    UnitGroupPatch { phrase: NAME, note: NOTE }
    AssignmentPatch { progress_note: NOTE }
    Review { reason: NOTE }
    NewMeasurement { period: CODE, note: NOTE }
    ReferenceValue { period: CODE }
    NewNegativeReport { item: CODE, period: CODE, description: NOTE }
    CalendarOverride { note: NOTE }
}

/// Refuses more aliases than a unit may have.
pub fn aliases(aliases: &[String]) -> Result<(), Error> {
    if aliases.len() > ALIASES {
        return Err(Error::invalid("too_many", format!("a unit may have at most {ALIASES} aliases; {} were given", aliases.len())));
    }
    Ok(())
}

/// A value from a query string: too long is a bad parameter (400).
pub fn parameter(name: &str, value: &str, max: usize) -> Result<(), Error> {
    at_most(name, value, max).map_err(|error| Error::bad_parameter("invalid_query", error.detail().unwrap_or_default().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_and_its_limit() {
        let unit = NewUnit {
            region: "罗平县".to_owned(),
            name: "局".repeat(NAME + 1),
            kind: duban_dto::UnitKind::Other,
            law_enforcement: false,
            aliases: Vec::new(),
            note: None,
        };
        let error = unit.check_lengths().unwrap_err();
        assert!(error.detail().is_some_and(|detail| detail.contains("name") && detail.contains(&NAME.to_string())), "{error}");
        let patch = AssignmentPatch { progress_note: Some(Some("x".repeat(NOTE))), ..AssignmentPatch::default() };
        assert!(patch.check_lengths().is_ok(), "the limit itself is allowed");
    }
}
