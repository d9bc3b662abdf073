//! Per-request context: a request id (taken from a well-formed incoming
//! `x-request-id`, else generated), a tracing span carrying it for every
//! log line of the request, the `x-request-id` response header, one log
//! line per finished request, and the request id written into
//! problem+json bodies.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use tracing::Instrument;

use super::error::PROBLEM_JSON;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, available to handlers as request data.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A caller-supplied id is kept when it is short and plain, so a portal
/// can follow its own request through our logs; anything else is replaced.
fn acceptable(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn request_context(request: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.path());
    let started = Instant::now();
    let mut response = if has_nul(request.query_string()) || has_nul(request.uri().path()) {
        // PostgreSQL text cannot hold NUL; refuse it here, precisely, rather
        // than let it fail deep down.
        let problem = super::ApiError::malformed("invalid_query", "the URL must not contain NUL characters (%00)");
        request.into_response(actix_web::ResponseError::error_response(&problem)).map_into_boxed_body()
    } else {
        // Handlers' errors arrive here already turned into responses; only a
        // failing middleware further in returns an error, which actix answers.
        super::request_connection::within(next.call(request).instrument(span.clone())).await?.map_into_boxed_body()
    };
    let status = response.status();
    if response.headers().get(actix_web::http::header::CONTENT_TYPE).is_some_and(|ct| ct == PROBLEM_JSON) {
        response = with_request_id_in_problem(response, &id).await;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request finished");
        }
    });
    Ok(response)
}

fn has_nul(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Adds `request_id` to a problem+json body. Problem bodies are small, so
/// reading one whole is cheap.
async fn with_request_id_in_problem(response: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return ServiceResponse::new(request, HttpResponse::InternalServerError().finish());
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".to_owned(), serde_json::Value::String(id.to_owned()));
            serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut rebuilt = HttpResponse::with_body(head.status(), BoxBody::new(body));
    *rebuilt.headers_mut() = head.headers().clone();
    rebuilt.headers_mut().remove(actix_web::http::header::CONTENT_LENGTH);
    ServiceResponse::new(request, rebuilt)
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn keeps_plain_ids_only() {
        assert!(acceptable("portal-2026-000123"));
        assert!(acceptable("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!acceptable("short"));
        assert!(!acceptable("has space in it"));
        assert!(!acceptable(&"x".repeat(65)));
        assert!(!acceptable("注入\nlog-line"));
    }
}
