//! One error type that becomes the Juspay JSON error body, never leaking internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kassa_types::view::ApiError;

/// An error answered to an API caller.
#[derive(Debug)]
pub struct AppError {
    /// HTTP status (always 4xx for bad input, 5xx only for our own faults).
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Reason for a human; never contains secrets.
    pub message: String,
    /// For a 429: when to try again (seconds), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl AppError {
    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError { status: StatusCode::BAD_REQUEST, code, message: message.into(), retry_after: None }
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError { status: StatusCode::UNAUTHORIZED, code: "access_denied", message: message.into(), retry_after: None }
    }

    /// 404 for an unknown order (also another merchant's).
    pub fn order_not_found() -> AppError {
        AppError { status: StatusCode::NOT_FOUND, code: "order_not_found", message: "order not found".into(), retry_after: None }
    }

    /// 409 with `code`.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError { status: StatusCode::CONFLICT, code, message: message.into(), retry_after: None }
    }

    /// 429 with `Retry-After: secs`: a limit was reached.
    pub fn too_many(code: &'static str, message: impl Into<String>, secs: u64) -> AppError {
        AppError { status: StatusCode::TOO_MANY_REQUESTS, code, message: message.into(), retry_after: Some(secs.max(1)) }
    }

    /// 500; the cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> AppError {
        tracing::error!(%cause, "internal error");
        AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal_error", message: "internal error".into(), retry_after: None }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> AppError {
        match e {
            crate::db::DbError::Busy => AppError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "busy",
                message: "the server is busy, retry".into(),
                retry_after: None,
            },
            other @ (crate::db::DbError::Conflict | crate::db::DbError::BadUrl | crate::db::DbError::Other(_)) => {
                AppError::internal(&other)
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ApiError { status: "error".into(), error_code: self.code.into(), error_message: self.message };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        resp
    }
}

/// Fallback for unknown routes.
pub async fn not_found() -> AppError {
    AppError { status: StatusCode::NOT_FOUND, code: "not_found", message: "no such route".into(), retry_after: None }
}
