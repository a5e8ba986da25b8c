//! Device tokens and one-time enrolment codes: how they are drawn, typed
//! and hashed. Only hashes are stored, by every backend alike.

use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Digits in a one-time enrolment code.
pub const ENROL_CODE_DIGITS: usize = 10;

/// Draws a new enrolment code and hands its keyed hash (`hash_code`) to
/// `insert`, which answers whether it was stored; a clash with an existing
/// hash (1 in 10^10 per code) draws again. The plain code, once stored.
pub fn draw_enrol_code(key: &str, mut insert: impl FnMut(&str) -> Result<bool, AppError>) -> Result<String, AppError> {
    for _ in 0..8 {
        let code = new_enrol_code();
        if insert(&hash_code(key, &code))? {
            return Ok(code);
        }
    }
    Err(AppError::internal("could not draw an unused enrolment code"))
}

/// An enrolment code as stored: HMAC-SHA256 under the server's own key
/// (`meta.code_key`), lowercase hex. Ten digits are 10^10 guesses: an
/// unkeyed hash of them is undone in minutes by whoever reads the database.
pub fn hash_code(key: &str, code: &str) -> String {
    hex(&hmac_sha256(key.as_bytes(), code.as_bytes()))
}

/// A new key for `hash_code`: 256 random bits, hex.
pub fn new_code_key() -> String {
    new_token()
}

/// HMAC-SHA256 (RFC 2104) over the workspace's `sha2`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// SHA-256 of a device token (256 random bits: no key needed), lowercase hex.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A new device token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    hex(&bytes)
}

/// A new enrolment code: `ENROL_CODE_DIGITS` random digits.
pub fn new_enrol_code() -> String {
    let mut rng = rand::rng();
    (0..ENROL_CODE_DIGITS).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// An enrolment code as typed: any digit script, spaces and dashes ignored.
pub fn normalize_enrol_code(input: &str) -> String {
    kanoon_domain::text::to_ascii_digits(input).chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// Whether `token` could be a device token at all (a longer one is not
/// even hashed).
pub fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 256
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn enrol_codes_are_ten_digits_and_typed_codes_normalize() {
        let code = new_enrol_code();
        assert_eq!(code.len(), ENROL_CODE_DIGITS);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(normalize_enrol_code(" ۱۲۳-۴۵۶ 7890 "), "1234567890");
    }

    #[test]
    fn tokens_are_random_and_hashes_are_hex_sha256() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn codes_are_hmac_sha256_under_the_server_key() {
        // RFC 4231, test case 2.
        assert_eq!(
            hash_code("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(hash_code("a", "1234567890"), hash_code("b", "1234567890"));
        assert_eq!(new_code_key().len(), 64);
    }

    #[test]
    fn a_clashing_enrolment_code_is_drawn_again_eight_times_at_most() {
        let mut tries = 0;
        let code = draw_enrol_code("k", |_| {
            tries += 1;
            Ok(tries == 3)
        })
        .unwrap();
        assert_eq!((tries, code.len()), (3, ENROL_CODE_DIGITS));
        assert!(draw_enrol_code("k", |_| Ok(false)).is_err());
    }
}
