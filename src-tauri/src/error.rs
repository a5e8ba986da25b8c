//! The one error shape that crosses IPC: `{code, message}`. The UI branches
//! on `code` (a closed set) and shows `message` (Persian: what happened and
//! what to do); it never matches message text.

use kanoon_store::{ErrorCode, StoreError};
use serde::Serialize;
use ts_rs::TS;

/// Every category the window can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    InvalidInput,
    NotFound,
    Conflict,
    ClockBehind,
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
    /// Too many wrong passwords in a row: the message says how long to wait.
    TooManyAttempts,
    /// Something the shell itself could not do (a folder, a file).
    Shell,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ApiErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::InvalidInput, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match e.code() {
            ErrorCode::InvalidInput => ApiErrorCode::InvalidInput,
            ErrorCode::NotFound => ApiErrorCode::NotFound,
            ErrorCode::Conflict => ApiErrorCode::Conflict,
            ErrorCode::ClockBehind => ApiErrorCode::ClockBehind,
            ErrorCode::NotSetUp => ApiErrorCode::NotSetUp,
            ErrorCode::NotSignedIn => ApiErrorCode::NotSignedIn,
            ErrorCode::Forbidden => ApiErrorCode::Forbidden,
            ErrorCode::WrongCredentials => ApiErrorCode::WrongCredentials,
            ErrorCode::TooManyAttempts => ApiErrorCode::TooManyAttempts,
            ErrorCode::NotADatabase => ApiErrorCode::NotADatabase,
            ErrorCode::ImportRejected => ApiErrorCode::ImportRejected,
            ErrorCode::Storage => ApiErrorCode::Storage,
        };
        Self { code, message: e.to_string() }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
