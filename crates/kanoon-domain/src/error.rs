use thiserror::Error;

/// Why a value from a user or a file is not acceptable. Messages are Persian
/// and say what to do; the variant is what callers branch on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("تاریخ «{0}» معتبر نیست؛ آن را به شکل ۱۴۰۴/۰۱/۱۵ وارد کنید.")]
    InvalidDate(String),
    #[error("کد ملی «{0}» معتبر نیست؛ ده رقم کد ملی را دوباره از روی کارت بخوانید.")]
    InvalidNationalId(String),
    #[error("شماره همراه «{0}» معتبر نیست؛ یازده رقم و با ۰۹ شروع شود.")]
    InvalidMobile(String),
    #[error("شماره عضویت «{0}» معتبر نیست؛ کارت را دوباره اسکن کنید یا شماره را با دقت وارد کنید.")]
    InvalidMemberNumber(String),
    #[error("{0}")]
    Invalid(String),
}
