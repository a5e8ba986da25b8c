//! The one error type of the server: a code from the protocol's closed set
//! (`kanoon_protocol::wire::ErrorCode`, which fixes its HTTP status) and a
//! message, sent to clients as the protocol's `ErrorBody`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use kanoon_protocol::wire::{ErrorBody, ErrorCode};

/// An error of the storage or of a request. For `Internal`, `message` is
/// the detail for the log; the client gets a generic message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::TooLarge, message)
    }

    pub fn timeout() -> Self {
        Self::new(ErrorCode::Timeout, "the request took too long; try again")
    }

    /// As many snapshots are being served as the server allows at once.
    pub fn busy() -> Self {
        Self::new(ErrorCode::Busy, "the server is serving as many snapshots as it allows; try again in 30 seconds")
    }

    /// A fault of the server; `detail` goes to the log, never to the client.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, detail)
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::internal(format!("database: {e}"))
    }
}

impl From<postgres::Error> for AppError {
    fn from(e: postgres::Error) -> Self {
        AppError::internal(format!("database: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if self.code == ErrorCode::Internal {
            tracing::error!(detail = %self.message, "internal error");
            "internal server error".to_owned()
        } else {
            self.message
        };
        let mut response = (status, Json(ErrorBody { code: self.code, message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}
