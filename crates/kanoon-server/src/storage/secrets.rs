//! Device tokens and one-time enrolment codes: how they are drawn, typed
//! and hashed. Only hashes are stored, by every backend alike.

use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Digits in a one-time enrolment code.
pub const ENROL_CODE_DIGITS: usize = 10;

/// Draws a new enrolment code and hands its hash to `insert`, which
/// answers whether it was stored; a clash with an existing hash (1 in
/// 10^10 per code) draws again. The plain code, once stored.
pub fn draw_enrol_code(mut insert: impl FnMut(&str) -> Result<bool, AppError>) -> Result<String, AppError> {
    for _ in 0..8 {
        let code = new_enrol_code();
        if insert(&hash_secret(&code))? {
            return Ok(code);
        }
    }
    Err(AppError::internal("could not draw an unused enrolment code"))
}

/// SHA-256 of a secret (token or enrolment code), lowercase hex.
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
    fn a_clashing_enrolment_code_is_drawn_again_eight_times_at_most() {
        let mut tries = 0;
        let code = draw_enrol_code(|_| {
            tries += 1;
            Ok(tries == 3)
        })
        .unwrap();
        assert_eq!((tries, code.len()), (3, ENROL_CODE_DIGITS));
        assert!(draw_enrol_code(|_| Ok(false)).is_err());
    }
}
