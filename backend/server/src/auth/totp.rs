//! The second factor: time-based one-time passwords (TOTP, RFC 6238 over
//! HOTP, RFC 4226) as every authenticator app makes them — HMAC-SHA1, a
//! 30-second step, six digits — with the secret in base32 (RFC 4648) and
//! the `otpauth://` URI drawn as a QR code by the server.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;

/// The HOTP value of `secret` at `counter` (RFC 4226 §5.3).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    binary % 10u32.pow(DIGITS)
}

/// The step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code at a step, as the user types it (leading zeros kept).
pub fn code_at(secret: &[u8], step: i64) -> String {
    format!("{:0width$}", hotp(secret, step as u64), width = DIGITS as usize)
}

/// The step whose code `code` is, among the step of `now` and one either
/// side (clocks drift), and later than `last_used` (a code works once).
pub fn accepted_step(secret: &[u8], code: &str, unix_now: i64, last_used: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_now);
    (now - 1..=now + 1).filter(|step| last_used.is_none_or(|last| *step > last)).find(|step| {
        // Compared in constant time: the codes are as long either way.
        let expected = code_at(secret, *step);
        expected.bytes().zip(code.bytes()).fold(0u8, |differ, (a, b)| differ | (a ^ b)) == 0
    })
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 (any case, spaces and padding ignored).
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32.iter().position(|b| *b as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The URI authenticator apps read from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encode(issuer),
        encode(account),
        base32(secret),
        encode(issuer)
    )
}

/// The URI as a QR code, an SVG document drawn here (nothing is fetched).
pub fn qr_svg(uri: &str) -> String {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).expect("an otpauth URI fits a QR code");
    code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotp_matches_rfc_4226() {
        // Appendix D: the secret "12345678901234567890", counters 0 to 9.
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64), *value);
        }
    }

    #[test]
    fn totp_matches_rfc_6238() {
        // Appendix B (SHA-1), the last six digits of the eight.
        let secret = b"12345678901234567890";
        for (time, code) in [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"), (2000000000, "279037")]
        {
            assert_eq!(code_at(secret, step_at(time)), code, "at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_in_its_window_and_once() {
        let secret = b"12345678901234567890";
        let now = 1111111111;
        let code = code_at(secret, step_at(now));
        assert_eq!(accepted_step(secret, &code, now, None), Some(step_at(now)));
        assert_eq!(accepted_step(secret, &code, now + 30, None), Some(step_at(now)), "a step late still works");
        assert_eq!(accepted_step(secret, &code, now + 90, None), None, "too late");
        assert_eq!(accepted_step(secret, &code, now, Some(step_at(now))), None, "used already");
        assert_eq!(accepted_step(secret, "12345", now, None), None);
        assert_eq!(accepted_step(secret, &format!("{} {}", &code[..3], &code[3..]), now, None), Some(step_at(now)));
    }

    #[test]
    fn base32_round_trips_like_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(from_base32("mzxw6ytboi======").unwrap(), b"foobar");
        assert!(from_base32("not base32!").is_none());
        let uri = otpauth_uri("督办 罗平县", "admin", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(qr_svg(&uri).contains("<svg"));
    }
}
