//! The one error type of the HTTP layer.
//!
//! Policy: every error a handler returns is an [`ApiError`]: a domain
//! [`Error`] or one of the few errors only HTTP knows (an unreadable body,
//! a body too large or of the wrong type, a range outside the file, a
//! missing `If-Match`). Every [`ApiError`] maps to exactly one status and
//! stable code in [`ApiError::status_and_code`], the one table of this
//! mapping, and is answered as RFC 7807 `application/problem+json`.
//! Internal errors are logged with their cause and the request id; the
//! client sees only "internal error" and the request id to quote, never a
//! database message or a stack trace.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use duban_dto::api::Problem;

use crate::error::Error;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// When a client should try again after a 503.
const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

#[derive(Debug)]
pub enum ApiError {
    /// What the domain refused or failed at.
    Domain(Error),
    /// 400: the body or the URL cannot be read (malformed JSON, a broken
    /// multipart form).
    Malformed { code: &'static str, detail: String },
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge { detail: String },
    /// 415: the body is not in a format the endpoint accepts.
    UnsupportedMediaType { detail: String },
    /// 416: a Range outside the file.
    RangeNotSatisfiable { detail: String },
    /// 428: an update without If-Match.
    PreconditionRequired { detail: String },
}

impl ApiError {
    pub fn malformed(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Malformed { code, detail: detail.into() }
    }

    /// The status and the stable code of every error: the one table.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Domain(error) => match error {
                Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
                Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                Error::Restricted { code, .. } => (StatusCode::FORBIDDEN, code),
                Error::SecondFactor { code, .. } => (StatusCode::UNAUTHORIZED, code),
                Error::Conflict { code, .. } => (StatusCode::CONFLICT, code),
                Error::Invalid { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
                Error::BadParameter { code, .. } => (StatusCode::BAD_REQUEST, code),
                Error::Stale(_) => (StatusCode::PRECONDITION_FAILED, "precondition_failed"),
                Error::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
                Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            },
            ApiError::Malformed { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType { .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::RangeNotSatisfiable { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable"),
            ApiError::PreconditionRequired { .. } => (StatusCode::PRECONDITION_REQUIRED, "precondition_required"),
        }
    }

    fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    pub(crate) fn detail(&self) -> Option<&str> {
        match self {
            ApiError::Domain(error) => error.detail(),
            ApiError::Malformed { detail, .. }
            | ApiError::PayloadTooLarge { detail }
            | ApiError::UnsupportedMediaType { detail }
            | ApiError::RangeNotSatisfiable { detail }
            | ApiError::PreconditionRequired { detail } => Some(detail),
        }
    }

    /// The problem document for this error; the request id is added by the
    /// request-context middleware, which knows it.
    pub fn problem(&self) -> Problem {
        let (status, code) = self.status_and_code();
        Problem {
            problem_type: format!("urn:duban:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail().map(str::to_owned),
            code: code.to_owned(),
            request_id: None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Domain(Error::Internal(error)) => write!(f, "internal error: {error:#}"),
            other => write!(f, "{}: {}", other.code(), other.detail().unwrap_or_default()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Domain(Error::Internal(error)) = self {
            tracing::error!(error = format!("{error:#}"), "internal error");
        }
        let mut response = HttpResponse::build(self.status_code()).json(self.problem());
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            ApiError::Domain(Error::Unauthenticated(_) | Error::SecondFactor { .. }) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"duban\""));
            }
            ApiError::Domain(Error::Throttled { retry_after_seconds, .. }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            // The database is restarting, or being restarted by the monitor.
            ApiError::Domain(Error::Unavailable(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_SECONDS));
            }
            _ => {}
        }
        response
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError::Domain(error)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        ApiError::Domain(error.into())
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        ApiError::Domain(error.into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Domain(Error::internal(anyhow::anyhow!("blocking task failed: {error}")))
    }
}

impl From<crate::export::ExportError> for ApiError {
    fn from(error: crate::export::ExportError) -> Self {
        ApiError::Domain(error.into())
    }
}
