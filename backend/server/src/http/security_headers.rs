//! The security headers of every response, decided in one place by path
//! (等保 8.1.4: data in transit, and what a browser may do with what it
//! gets).
//!
//! - Content-Security-Policy: the browser client runs no inline script but
//!   the module loader trunk writes into index.html, allowed by its SHA-256
//!   hash (computed here from the index.html served, so a rebuild needs no
//!   configuration); WebAssembly may be compiled; nothing is fetched from
//!   anywhere but duban itself; no page may frame duban. The API's answers
//!   are data, never documents, so they get the strictest policy. The API
//!   docs (Swagger UI, served by a crate) start with an inline script whose
//!   text is not ours to hash, so /docs alone allows inline script.
//! - X-Content-Type-Options, Referrer-Policy and Permissions-Policy on
//!   everything.
//! - Strict-Transport-Security when the request came over TLS (directly or
//!   through a proxy that says so); a browser ignores it over plain HTTP.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policies, built once per server from the client's index.html.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    client: HeaderValue,
}

const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const REFERRER_POLICY: &str = "same-origin";
const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";
const HSTS: &str = "max-age=31536000; includeSubDomains";

impl SecurityHeaders {
    /// For a client whose index.html is `index_html` (none when duban
    /// serves the API alone).
    pub fn for_client(index_html: Option<&str>) -> SecurityHeaders {
        let hashes: Vec<String> = index_html.map(inline_script_hashes).unwrap_or_default();
        let scripts = hashes.iter().map(|hash| format!(" '{hash}'")).collect::<String>();
        // Styles: the client's own sheet; the SVG charts and the server-drawn
        // QR code carry presentation attributes, which CSP does not govern.
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; style-src 'self'; img-src 'self' data: blob:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        );
        SecurityHeaders { client: HeaderValue::from_str(&policy).expect("a policy is ASCII") }
    }

    fn content_security_policy(&self, path: &str) -> HeaderValue {
        if super::answers_with_data(path) {
            HeaderValue::from_static(API_POLICY)
        } else if path == "/docs" || path.starts_with("/docs/") {
            HeaderValue::from_static(DOCS_POLICY)
        } else {
            self.client.clone()
        }
    }
}

/// `sha256-<base64>` of each inline `<script>` of a page, as CSP writes it.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let opening = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else { break };
        if !opening.contains(" src=") {
            let digest = Sha256::digest(after[body_start..body_start + close].as_bytes());
            hashes.push(format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
        rest = &after[body_start + close..];
    }
    hashes
}

pub async fn add(
    headers: web::Data<SecurityHeaders>,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = request.path().to_owned();
    let over_tls = request.connection_info().scheme() == "https";
    let mut response = next.call(request).await?;
    let set = response.headers_mut();
    let fixed: [(HeaderName, HeaderValue); 4] = [
        (header::CONTENT_SECURITY_POLICY, headers.content_security_policy(&path)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY)),
        (HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY)),
    ];
    for (name, value) in fixed {
        set.insert(name, value);
    }
    // Older browsers know framing only by this header.
    set.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if over_tls {
        set.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let page = r#"<head><script type="module">init();</script><script src="/x.js"></script></head>"#;
        let hashes = inline_script_hashes(page);
        assert_eq!(hashes.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init();"));
        assert_eq!(hashes[0], format!("sha256-{expected}"));
    }

    #[test]
    fn the_api_gets_the_strictest_policy() {
        let headers = SecurityHeaders::for_client(Some("<script>a()</script>"));
        assert_eq!(headers.content_security_policy("/api/v1/tasks"), API_POLICY);
        let client = headers.content_security_policy("/tasks/1");
        let client = client.to_str().unwrap();
        assert!(client.contains("'sha256-") && !client.contains("unsafe-inline"), "{client}");
    }
}
