//! The one error shape that crosses IPC: `{code, message}`. The UI branches
//! on `code` (a closed set) and shows `message` (Persian: what happened and
//! what to do); it never matches message text.

use kanoon_store::StoreError;
use serde::Serialize;
use ts_rs::TS;

/// Every category the window can receive: the store's closed set.
pub use kanoon_store::ErrorCode as ApiErrorCode;

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
        Self { code: e.code(), message: e.to_string() }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
