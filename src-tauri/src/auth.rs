//! Staff passwords: argon2id hashes (PHC strings) kept in the desk-local
//! table of the center database; never synced, never logged.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{ApiError, ApiErrorCode, ApiResult};

/// Shortest password accepted: the desk is shared by several instructors.
pub const MIN_PASSWORD_CHARS: usize = 6;

pub fn hash_password(password: &str) -> ApiResult<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "رمز باید دست‌کم {} نویسه باشد؛ رمز بلندتری انتخاب کنید.",
            kanoon_domain::text::to_persian_digits(&MIN_PASSWORD_CHARS.to_string())
        )));
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| ApiError::new(ApiErrorCode::Shell, format!("ساختن رمز ممکن نشد: {e}. دوباره تلاش کنید.")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::new(ApiErrorCode::Shell, format!("ساختن رمز ممکن نشد: {e}. دوباره تلاش کنید.")))
}

/// False for a wrong password and for a stored hash that does not parse.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() -> ApiResult<()> {
        let h = hash_password("کتاب۱۲۳۴")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("کتاب۱۲۳۴", &h));
        assert!(!verify_password("کتاب1234x", &h));
        assert!(!verify_password("کتاب۱۲۳۴", "not a hash"));
        assert_ne!(hash_password("کتاب۱۲۳۴")?, h, "salted");
        Ok(())
    }

    #[test]
    fn short_passwords_are_refused_in_persian() {
        let e = hash_password("۱۲۳").err();
        assert_eq!(e.map(|e| e.code), Some(ApiErrorCode::InvalidInput));
    }
}
