//! Cache-Control for every response, decided in one place by path.
//!
//! - The API's answers depend on who asks and hold a county's working
//!   material, and evidence downloads are audited one by one: nothing of
//!   them is stored by a browser or a proxy (`no-store`). The OpenAPI
//!   document is public and revalidated (`no-cache`).
//! - The browser client's files that trunk names by their content hash
//!   (`duban-frontend-<hash>.js`, `…_bg.wasm`, `style-<hash>.css`) never
//!   change under their name: cached for a year (`immutable`). Everything
//!   else of the client and the docs — index.html first, which names the
//!   current hashed files — is revalidated on every use (`no-cache`), so a
//!   new release is seen at once.
//!
//! A handler that sets its own Cache-Control keeps it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::middleware::Next;

pub const NO_STORE: &str = "no-store";
pub const REVALIDATE: &str = "no-cache";
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The Cache-Control policy for a path.
pub fn policy(path: &str) -> &'static str {
    if path == "/api/v1/openapi.json" {
        REVALIDATE
    } else if super::answers_with_data(path) {
        NO_STORE
    } else if is_content_hashed(path) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// Whether the last segment is named `<stem>-<16 hex digits>[_bg].<js|wasm|css>`,
/// as trunk names the files it hashes.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, extension)) = name.rsplit_once('.') else { return false };
    if !matches!(extension, "js" | "wasm" | "css") {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub async fn cache_control(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = policy(request.path());
    let mut response = next.call(request).await?;
    if !response.headers().contains_key(CACHE_CONTROL) {
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_path_has_its_policy() {
        assert_eq!(policy("/api/v1/tasks"), NO_STORE);
        assert_eq!(policy("/api/v1/evidence-versions/7/content"), NO_STORE);
        assert_eq!(policy("/healthz"), NO_STORE);
        assert_eq!(policy("/metrics"), NO_STORE);
        assert_eq!(policy("/api/v1/openapi.json"), REVALIDATE);
        assert_eq!(policy("/"), REVALIDATE);
        assert_eq!(policy("/index.html"), REVALIDATE);
        assert_eq!(policy("/tasks/B001"), REVALIDATE);
        assert_eq!(policy("/docs/swagger-ui.css"), REVALIDATE);
        assert_eq!(policy("/duban-frontend-b0f8743a4de50c4f.js"), IMMUTABLE);
        assert_eq!(policy("/duban-frontend-b0f8743a4de50c4f_bg.wasm"), IMMUTABLE);
        assert_eq!(policy("/style-ef9529196c7e5a9b.css"), IMMUTABLE);
        // Not trunk's hash: too short, not hex, or another kind of file.
        assert_eq!(policy("/style-ef95.css"), REVALIDATE);
        assert_eq!(policy("/style-zzzzzzzzzzzzzzzz.css"), REVALIDATE);
        assert_eq!(policy("/report-b0f8743a4de50c4f.pdf"), REVALIDATE);
    }
}
