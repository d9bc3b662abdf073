//! API keys for portals: `dbk_<prefix>_<secret>`. The prefix (8 lower-case
//! letters and digits) finds the key; the secret (256 random bits) proves
//! it; the database keeps the secret's SHA-256 only.

use super::secrets;

pub const KEY_PREFIX: &str = "dbk_";

/// A key as created: `key` is shown once, the rest is stored.
pub struct NewKey {
    pub key: String,
    pub prefix: String,
    pub secret_digest: [u8; 32],
}

pub fn generate() -> NewKey {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let prefix: String = secrets::random_bytes::<8>().iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    let secret = secrets::random_token();
    NewKey { key: format!("{KEY_PREFIX}{prefix}_{secret}"), secret_digest: secrets::digest(&secret), prefix }
}

/// Splits a presented key into prefix and secret.
pub fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 8 && secret.len() >= 32).then_some((prefix, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let key = generate();
        let (prefix, secret) = parse(&key.key).unwrap();
        assert_eq!(prefix, key.prefix);
        assert_eq!(secrets::digest(secret), key.secret_digest);
        assert!(parse("dbk_short_x").is_none());
        assert!(parse("Bearer something").is_none());
    }
}
