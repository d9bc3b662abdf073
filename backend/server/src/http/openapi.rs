//! The OpenAPI document: the base (title, servers, tags) here, the paths
//! from the handlers registered in [`super::api_routes`].

use std::sync::OnceLock;

use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, Tag};
use utoipa_actix_web::AppExt;

pub fn base() -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("duban API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "督办: the API of a county's rule-of-law government demonstration campaign. \
                     Errors are RFC 7807 application/problem+json with a stable `code`.",
                ))
                .build(),
        )
        .tags(Some(vec![Tag::new("operations"), Tag::new("campaigns")]))
        .build()
}

/// The document as served, which is also what `openapi/openapi.json` holds.
pub fn document() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // Registering the routes collects their paths; the app is discarded.
        let (_, api) = actix_web::App::new().into_utoipa_app().openapi(base()).configure(super::routes).split_for_parts();
        api
    })
}
