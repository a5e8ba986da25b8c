use std::path::PathBuf;

use kanoon_domain::DomainError;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The closed set of error categories the desktop app branches on (it
/// never matches message text). Serialized as snake_case strings. The
/// window receives exactly these (as `ApiErrorCode`): the store's, and two
/// only the desktop shell produces (`Unreachable`, `Shell`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ApiErrorCode"))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    Conflict,
    ClockBehind,
    /// This PC's clock is ahead of the provincial server's.
    ClockAhead,
    NotSetUp,
    NotSignedIn,
    Forbidden,
    NotADatabase,
    ImportRejected,
    Storage,
    /// The provincial server did not answer (the desk keeps working).
    Unreachable,
    /// Username or password did not match.
    WrongCredentials,
    /// Too many wrong passwords in a row: wait before trying again.
    TooManyAttempts,
    /// Something the shell itself could not do (a folder, a file).
    Shell,
}

/// Everything a use case can fail with. Messages are Persian and say what
/// happened and what to do; the input that caused them stays with the
/// caller (nothing is half-written: every use case is one transaction).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "ساعت این رایانه ({now}) از آخرین زمانی که در این پایگاه ثبت شده ({seen}) عقب‌تر است؛ \
         تاریخ و ساعت ویندوز را درست کنید و دوباره تلاش کنید. تا آن وقت امانت و بازگشت ثبت نمی‌شود."
    )]
    ClockBehind { now: String, seen: String },
    #[error(
        "ساعت این رایانه از ساعت سرور استان جلوتر است؛ تاریخ و ساعت را در تنظیمات ویندوز درست کنید و دوباره \
         همگام‌سازی کنید. تا آن وقت امانت، بازگشت، تمدید و انتقال ثبت نمی‌شود."
    )]
    ClockAhead,
    #[error("این میز هنوز راه‌اندازی نشده است؛ ابتدا کد و نام مرکز و شماره میز را وارد کنید.")]
    NotSetUp,
    #[error("ابتدا با نام کاربری خود وارد شوید.")]
    NotSignedIn,
    #[error("{0}")]
    Forbidden(String),
    #[error("نام کاربری یا رمز درست نیست؛ دوباره وارد کنید (به کوچکی و بزرگی حروف لاتین دقت کنید).")]
    WrongCredentials,
    #[error(
        "چند بار پشت سر هم رمز نادرست وارد شد؛ برای نگهداری از حساب، {wait} دیگر دوباره تلاش کنید. \
         اگر رمز را فراموش کرده‌اید، از مدیر مرکز بخواهید آن را عوض کند."
    )]
    TooManyAttempts { wait: String },
    #[error(
        "پرونده «{path}» پایگاه داده کتابخانه نیست یا آسیب دیده است؛ به آن دست زده نشد. \
         پرونده درست را انتخاب کنید یا از نسخه پشتیبان بازگردانی کنید."
    )]
    NotADatabase { path: PathBuf },
    #[error("ورود اطلاعات انجام نشد: {0}")]
    ImportRejected(String),
    #[error("خطای پایگاه داده: {0}. برنامه را دوباره باز کنید؛ اگر تکرار شد با پشتیبانی استان تماس بگیرید.")]
    Sqlite(#[from] rusqlite::Error),
    #[error("خطای خواندن یا نوشتن پرونده: {0}")]
    Io(#[from] std::io::Error),
    #[error("داده ذخیره‌شده خوانا نیست: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Invalid(_) | StoreError::InvalidInput(_) => ErrorCode::InvalidInput,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::ClockBehind { .. } => ErrorCode::ClockBehind,
            StoreError::ClockAhead => ErrorCode::ClockAhead,
            StoreError::NotSetUp => ErrorCode::NotSetUp,
            StoreError::NotSignedIn => ErrorCode::NotSignedIn,
            StoreError::Forbidden(_) => ErrorCode::Forbidden,
            StoreError::WrongCredentials => ErrorCode::WrongCredentials,
            StoreError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            StoreError::NotADatabase { .. } => ErrorCode::NotADatabase,
            StoreError::ImportRejected(_) => ErrorCode::ImportRejected,
            StoreError::Sqlite(_) | StoreError::Io(_) | StoreError::Corrupt(_) => ErrorCode::Storage,
        }
    }
}

impl StoreError {
    /// A UNIQUE or CHECK constraint the checks before a write did not catch
    /// (e.g. another desk took a registration number meanwhile) is a
    /// conflict for the user, not a storage failure.
    pub(crate) fn constraint_as_conflict(self) -> StoreError {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_CHECK) =>
            {
                StoreError::Conflict(
                    "این تغییر با داده‌ای که پیش‌تر ثبت شده ناسازگار است (مثلاً شماره‌ای تکراری)؛ صفحه را تازه کنید و دوباره بررسی کنید."
                        .into(),
                )
            }
            other => other,
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
