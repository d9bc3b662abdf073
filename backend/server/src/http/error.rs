//! The one error type of the HTTP layer.
//!
//! Policy: every error a handler returns is an [`ApiError`], and every
//! [`ApiError`] maps to exactly one status and stable code, answered as RFC
//! 7807 `application/problem+json`. Internal errors are logged with their
//! cause and the request id; the client sees only "internal error" and the
//! request id to quote, never a database message or a stack trace.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use duban_dto::api::Problem;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad query string).
    BadRequest { code: &'static str, detail: String },
    /// 401: no valid credentials; the client should sign in (again).
    Unauthenticated { detail: String },
    /// 403: the caller is known but may not do this.
    Forbidden { detail: String },
    /// 409: the request conflicts with the resource's current state.
    Conflict { code: &'static str, detail: String },
    /// 412: If-Match named a version that is no longer current.
    PreconditionFailed { detail: String },
    /// 428: an update without If-Match.
    PreconditionRequired { detail: String },
    /// 429: too many attempts; try again after the given seconds.
    TooManyRequests { detail: String, retry_after_seconds: u64 },
    /// 404: no such resource, or the route does not exist.
    NotFound { detail: String },
    /// 416: a Range outside the file.
    RangeNotSatisfiable { detail: String },
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge { detail: String },
    /// 415: the body is not in a format the endpoint accepts.
    UnsupportedMediaType { detail: String },
    /// 422: the request is well-formed but its content is not acceptable.
    Unprocessable { code: &'static str, detail: String },
    /// 503: a dependency (the database) is not available right now.
    Unavailable { detail: String },
    /// 500: a bug or an unexpected failure; details are only logged.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound { detail: detail.into() }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::Forbidden { detail: detail.into() }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { code, detail: detail.into() }
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Unprocessable { code, detail: detail.into() }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest { code, detail: detail.into() }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Unprocessable { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::Unauthenticated { .. } => "unauthenticated",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::PreconditionRequired { .. } => "precondition_required",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::NotFound { .. } => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub(crate) fn detail(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { detail, .. }
            | ApiError::Unauthenticated { detail }
            | ApiError::Forbidden { detail }
            | ApiError::Conflict { detail, .. }
            | ApiError::PreconditionFailed { detail }
            | ApiError::PreconditionRequired { detail }
            | ApiError::TooManyRequests { detail, .. }
            | ApiError::NotFound { detail }
            | ApiError::PayloadTooLarge { detail }
            | ApiError::RangeNotSatisfiable { detail }
            | ApiError::UnsupportedMediaType { detail }
            | ApiError::Unprocessable { detail, .. }
            | ApiError::Unavailable { detail } => Some(detail),
            ApiError::Internal(_) => None,
        }
    }

    /// The problem document for this error; the request id is added by the
    /// request-context middleware, which knows it.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            problem_type: format!("urn:duban:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail().map(str::to_owned),
            code: self.code().to_owned(),
            request_id: None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(error) => write!(f, "internal error: {error:#}"),
            other => write!(f, "{}: {}", other.code(), other.detail().unwrap_or_default()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired { .. } => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(error) = self {
            tracing::error!(error = format!("{error:#}"), "internal error");
        }
        let mut response = HttpResponse::build(self.status_code()).json(self.problem());
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            ApiError::Unauthenticated { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"duban\""));
            }
            ApiError::TooManyRequests { retry_after_seconds, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            _ => {}
        }
        response
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(error: crate::db::DbError) -> Self {
        ApiError::Internal(error.into())
    }
}

impl From<crate::export::ExportError> for ApiError {
    fn from(error: crate::export::ExportError) -> Self {
        use crate::export::ExportError;
        match error {
            ExportError::NoCampaign(_) | ExportError::NoRegion(_) => ApiError::not_found(error.to_string()),
            ExportError::Database(error) => error.into(),
            ExportError::Workbook(_) => ApiError::internal(error),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => ApiError::not_found("no such resource"),
            // Constraint violations that slipped past validation are the
            // client's conflict with existing data, not our failure.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => ApiError::conflict(
                "already_exists",
                format!("this would duplicate an existing record ({})", info.constraint_name().unwrap_or("unique")),
            ),
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => ApiError::conflict(
                "in_use",
                format!(
                    "other records refer to this one, or it refers to one that does not exist ({})",
                    info.constraint_name().unwrap_or("reference")
                ),
            ),
            // Text with NUL characters, which PostgreSQL cannot store.
            Error::DatabaseError(_, info) if info.message().contains("0x00") => {
                ApiError::unprocessable("invalid_text", "text must not contain NUL characters (\\u0000)")
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        tracing::error!(%error, "no database connection available");
        ApiError::Unavailable { detail: "the database is not available; try again shortly".to_owned() }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}
