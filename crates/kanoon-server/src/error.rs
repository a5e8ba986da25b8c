//! The one error type of the server: a closed set of codes, each with its
//! HTTP status, sent to clients as `{"code": "...", "message": "..."}`.

use std::fmt;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// What went wrong, as a client can act on it. Closed: a client matches on
/// these and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed request: bad JSON, a bad cursor, an invalid field. 400.
    BadRequest,
    /// Missing or unknown token, unknown or used enrolment code. 401.
    Unauthorized,
    /// Authenticated, but not allowed: ops of another center. 403.
    Forbidden,
    /// No such path (an unknown API version) or no such thing. 404.
    NotFound,
    /// The request clashes with the state: a changed epoch, a desk number in use. 409.
    Conflict,
    /// Body over the size limit or a batch over `MAX_PUSH_OPS`. 413.
    TooLarge,
    /// An op of a schema version no desk writes (0): the batch is refused
    /// whole, nothing stored. (Newer versions are kept as received.) 422.
    UnsupportedSchema,
    /// The request took longer than the server allows. 503.
    Timeout,
    /// A fault of the server; details are in its log only. 500.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedSchema => "unsupported_schema",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedSchema => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

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

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
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

    pub fn unsupported_schema(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedSchema, message)
    }

    pub fn timeout() -> Self {
        Self::new(ErrorCode::Timeout, "the request took too long; try again")
    }

    /// A fault of the server; `detail` goes to the log, never to the client.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, detail)
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
        let message = if self.code == ErrorCode::Internal {
            tracing::error!(detail = %self.message, "internal error");
            "internal server error".to_owned()
        } else {
            self.message
        };
        let mut response = (self.code.status(), Json(ErrorBody { code: self.code, message })).into_response();
        if self.code == ErrorCode::Unauthorized {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
