//! Access tokens: JWTs signed with HS256 (pinned; nothing else is accepted),
//! checked for issuer, audience and expiry. They name the user and the
//! session; role and unit are read from the database on every request, so
//! a change of role or a revoked session takes effect at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::secrets;
use crate::db::schema::server_settings;

pub const ISSUER: &str = "duban";
pub const AUDIENCE: &str = "duban-api";
/// Short, so a stolen access token is worth little; the client refreshes.
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
/// How long a session lasts without signing in again.
pub const SESSION_DAYS: i64 = 14;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The session (refresh-token family).
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// The signing key and the validation rules, built once at start.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let encoding = EncodingKey::from_secret(secret).expect("an HMAC key may be any bytes");
        let decoding = DecodingKey::from_secret(secret).expect("an HMAC key may be any bytes");
        JwtKeys { encoding, decoding, validation }
    }

    /// An access token for the user in the session, valid from `now`.
    pub fn issue(&self, user_id: i64, session: Uuid, now: DateTime<Utc>) -> String {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TOKEN_SECONDS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    /// The claims of a valid token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|data| data.claims)
    }
}

/// The configured signing secret, or the one generated on first start and
/// kept in the database (so restarts keep sessions valid).
pub fn signing_secret(conn: &mut PgConnection, configured: Option<&str>) -> QueryResult<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    const KEY: &str = "jwt_secret";
    diesel::insert_into(server_settings::table)
        .values((server_settings::key.eq(KEY), server_settings::value.eq(hex::encode(secrets::random_bytes::<32>()))))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let stored: String = server_settings::table.find(KEY).select(server_settings::value).first(conn)?;
    Ok(hex::decode(stored).unwrap_or_else(|_| panic!("server_settings.{KEY} is not hex")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_its_own_tokens_only() {
        let keys = JwtKeys::new(b"a secret of at least thirty-two bytes!");
        let session = Uuid::new_v4();
        let token = keys.issue(7, session, Utc::now());
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid), ("7", session));

        let other = JwtKeys::new(b"another secret of thirty-two bytes!!");
        assert!(other.verify(&token).is_none(), "signed with another key");
        let expired = keys.issue(7, session, Utc::now() - chrono::Duration::hours(1));
        assert!(keys.verify(&expired).is_none(), "expired");
    }

    #[test]
    fn refuses_other_algorithms_and_audiences() {
        let keys = JwtKeys::new(b"a secret of at least thirty-two bytes!");
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: "1".to_owned(),
            sid: Uuid::new_v4(),
            iss: ISSUER.to_owned(),
            aud: "someone-else".to_owned(),
            iat: now,
            exp: now + 60,
        };
        let secret = EncodingKey::from_secret(b"a secret of at least thirty-two bytes!").unwrap();
        let wrong_audience = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &secret).unwrap();
        assert!(keys.verify(&wrong_audience).is_none());
        let claims = Claims { aud: AUDIENCE.to_owned(), ..claims };
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &secret).unwrap();
        assert!(keys.verify(&hs512).is_none(), "the algorithm is pinned to HS256");
        // An unsigned token ("alg": "none") is refused.
        let header = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, serde_json::to_vec(&claims).unwrap());
        assert!(keys.verify(&format!("{header}.{payload}.")).is_none());
    }
}
