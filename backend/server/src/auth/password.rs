//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub const MIN_LENGTH: usize = 10;

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 accepts any password").to_string()
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checked against when the user does not exist, so that a login for an
/// unknown user costs as much as one for a known user.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    verify(DUMMY.get_or_init(|| hash("not a password of anyone")), password);
}

/// Why a new password is refused, in words for the user.
pub fn check_strength(password: &str, username: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!("the password must have at least {MIN_LENGTH} characters"));
    }
    if length > 256 {
        return Err("the password must have at most 256 characters".to_owned());
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("the password must not contain the username".to_owned());
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err("the password must not repeat one character".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let first = hash("correct horse battery");
        let second = hash("correct horse battery");
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify(&first, "correct horse battery"));
        assert!(!verify(&first, "correct horse battery!"));
        assert!(!verify("not a hash", "anything"));
    }

    #[test]
    fn refuses_weak_passwords() {
        assert!(check_strength("short", "zhang").is_err());
        assert!(check_strength("zhang-2026-password", "zhang").is_err());
        assert!(check_strength("aaaaaaaaaaaa", "zhang").is_err());
        assert!(check_strength("罗平县法治政府建设2026", "zhang").is_ok());
    }
}
