//! The error of duban's domain, below every layer.
//!
//! Policy: a domain function says what went wrong in the terms of the
//! domain — there is no such thing, the caller may not, the request
//! conflicts with what is stored, the input is invalid, the version read is
//! stale, the database is unavailable — with a stable `code` where a client
//! may act on it. It knows nothing of HTTP: only `http::error` maps these to
//! statuses, in one table. An [`Error::Internal`] carries its cause for the
//! log; clients never see it.

use std::fmt;

use duban_rules::workflow::Refusal;

#[derive(Debug)]
pub enum Error {
    /// There is no such thing (or the caller may not know it exists).
    NotFound(String),
    /// The caller could not be identified: wrong credentials, an ended session.
    Unauthenticated(String),
    /// The caller is known but may not do this.
    Forbidden(String),
    /// The caller must first do something else (change the password, enrol
    /// a second factor); the code says what.
    Restricted { code: &'static str, detail: String },
    /// Signing in needs the second factor (or the one given is wrong).
    SecondFactor { code: &'static str, detail: String },
    /// The request conflicts with the current state of what it changes.
    Conflict { code: &'static str, detail: String },
    /// The content of the request is not acceptable (a field, a file).
    Invalid { code: &'static str, detail: String },
    /// A parameter of a query (a filter, a limit, a cursor) cannot be used.
    BadParameter { code: &'static str, detail: String },
    /// The caller's copy is stale: the thing changed since it was read.
    Stale(String),
    /// Too many attempts; the caller may try again after this many seconds.
    Throttled { detail: String, retry_after_seconds: u64 },
    /// A dependency (the database, the object store) is not available now.
    Unavailable(String),
    /// A bug or an unexpected failure; the cause is logged, never shown.
    Internal(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(detail: impl Into<String>) -> Error {
        Error::NotFound(detail.into())
    }

    pub fn forbidden(detail: impl Into<String>) -> Error {
        Error::Forbidden(detail.into())
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Error {
        Error::Conflict { code, detail: detail.into() }
    }

    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Error {
        Error::Invalid { code, detail: detail.into() }
    }

    pub fn bad_parameter(code: &'static str, detail: impl Into<String>) -> Error {
        Error::BadParameter { code, detail: detail.into() }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Error {
        Error::Internal(error.into())
    }

    /// What a client may be told; `None` for internal errors.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::NotFound(detail)
            | Error::Unauthenticated(detail)
            | Error::Forbidden(detail)
            | Error::Stale(detail)
            | Error::Unavailable(detail)
            | Error::Conflict { detail, .. }
            | Error::Restricted { detail, .. }
            | Error::SecondFactor { detail, .. }
            | Error::Invalid { detail, .. }
            | Error::BadParameter { detail, .. }
            | Error::Throttled { detail, .. } => Some(detail),
            Error::Internal(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(error) => write!(f, "internal error: {error:#}"),
            Error::Conflict { code, detail }
            | Error::Invalid { code, detail }
            | Error::BadParameter { code, detail }
            | Error::Restricted { code, detail }
            | Error::SecondFactor { code, detail } => {
                write!(f, "{code}: {detail}")
            }
            other => f.write_str(other.detail().unwrap_or_default()),
        }
    }
}

impl std::error::Error for Error {}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        match error {
            Diesel::NotFound => Error::not_found("no such resource"),
            // Constraint violations that slipped past validation are the
            // client's conflict with existing data, not our failure.
            Diesel::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => Error::conflict(
                "already_exists",
                format!("this would duplicate an existing record ({})", info.constraint_name().unwrap_or("unique")),
            ),
            Diesel::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => Error::conflict(
                "in_use",
                format!(
                    "other records refer to this one, or it refers to one that does not exist ({})",
                    info.constraint_name().unwrap_or("reference")
                ),
            ),
            // A value a CHECK constraint refuses that validation let through.
            Diesel::DatabaseError(DatabaseErrorKind::CheckViolation, info) => Error::invalid(
                "invalid_value",
                format!("a value is not one the record may have ({})", info.constraint_name().unwrap_or("check")),
            ),
            // The database went away under a request (it is restarting):
            // the client may try again, as with any outage.
            Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => unavailable(),
            Diesel::DatabaseError(_, info) if lost_connection(info.message()) => unavailable(),
            // Text with NUL characters, which PostgreSQL cannot store.
            Diesel::DatabaseError(_, info) if info.message().contains("0x00") => {
                Error::invalid("invalid_text", "text must not contain NUL characters (\\u0000)")
            }
            other => Error::Internal(other.into()),
        }
    }
}

fn unavailable() -> Error {
    Error::Unavailable("the database is not available; try again shortly".to_owned())
}

/// What PostgreSQL and libpq say when a connection is lost or the server
/// is shutting down (SQLSTATE classes 08 and 57).
fn lost_connection(message: &str) -> bool {
    [
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "the database system is",
    ]
    .iter()
    .any(|sign| message.contains(sign))
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        tracing::error!(%error, "no database connection available");
        unavailable()
    }
}

impl From<crate::db::DbError> for Error {
    fn from(error: crate::db::DbError) -> Self {
        Error::Internal(error.into())
    }
}

/// A workflow refusal: not the caller's step (forbidden), or not from this
/// status (a conflict the client can read as `invalid_transition`).
impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotYours(detail) => Error::Forbidden(detail),
            Refusal::WrongStatus(detail) => Error::conflict("invalid_transition", detail),
        }
    }
}
