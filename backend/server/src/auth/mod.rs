//! Authentication: who is calling. Passwords (argon2id), access tokens
//! (JWT, HS256 pinned), rotating refresh tokens, API keys for portals, and
//! login throttling, the second factor (TOTP). What a caller may do is [`crate::authz`]'s concern.

pub mod api_keys;
pub mod credentials;
pub mod password;
pub mod secrets;
pub mod throttle;
pub mod tokens;
pub mod totp;
