//! The OpenAPI document: the base (title, tags, security schemes) here, the
//! paths from the handlers registered in [`super::routes`], and the error
//! responses every operation shares added by [`finish`], so that each
//! handler documents only what is particular to it.

use std::sync::OnceLock;

use duban_dto::ScheduleLight;
use duban_dto::api::Problem;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Response, ResponseBuilder, Tag};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::AppExt;

use super::error::PROBLEM_JSON;

/// A file as a request or response body: `type: string, format: binary`,
/// which client generators read as bytes (a `Vec<u8>` would be described
/// as an array of integers).
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))).build().into()
    }
}

impl ToSchema for Binary {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Binary")
    }
}

/// Schemas that only query parameters refer to: utoipa-actix-web collects
/// the schemas of bodies and responses, not those of parameters, and a
/// `$ref` without its component breaks client generators.
fn parameter_schemas() -> Vec<(String, RefOr<Schema>)> {
    vec![
        (ScheduleLight::name().into_owned(), ScheduleLight::schema()),
        (super::campaigns::CsvTable::name().into_owned(), super::campaigns::CsvTable::schema()),
        // What webhooks receive: no operation returns it, so it is added here.
        (duban_dto::api::WebhookEvent::name().into_owned(), duban_dto::api::WebhookEvent::schema()),
    ]
}

pub fn base() -> OpenApi {
    let tag = |name: &str, description: &str| {
        let mut tag = Tag::new(name);
        tag.description = Some(description.to_owned());
        tag
    };
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("duban API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "督办: the API of a county's rule-of-law government demonstration campaign.\n\n\
                     Authenticate with `Authorization: Bearer <token>`: an access token from \
                     `POST /api/v1/auth/login`, or an API key (`dbk_…`) of a portal. Errors are \
                     RFC 7807 `application/problem+json` with a stable `code` and the `request_id`, \
                     which is also in the `x-request-id` header. Lists are paged with `limit` and an \
                     opaque `cursor`. Updates of assignments need `If-Match` with the ETag.",
                ))
                .build(),
        )
        .tags(Some(vec![
            tag("operations", "Health"),
            tag("auth", "Signing in and out, tokens, own password"),
            tag("accounts", "Users and API clients"),
            tag("audit", "The tamper-evident audit log"),
            tag("campaigns", "Campaigns and their indicators"),
            tag("tasks", "The tasks of the breakdown table"),
            tag("assignments", "Which unit works on which task"),
            tag("units", "Units and collective groups"),
            tag("evidence", "Evidence files (佐证材料): upload, versions, download"),
            tag("review", "Submitting and reviewing work"),
            tag("quantified", "Measured values of quantified tasks"),
            tag("negative list", "The negative list and its veto"),
            tag("scores", "Scores of the campaign and its units (考核评分), and the scheme they follow"),
            tag("bulletins", "Progress bulletins (通报): drafts, issue, the frozen .docx and PDF"),
            tag("notifications", "Each user's inbox"),
            tag("calendar", "The working-day calendar"),
            tag("imports", "Bulk imports of the breakdown table, units, accounts and assignments"),
            tag("policy", "The security policy of the installation"),
            tag(
                "supervision",
                "Supervision (督办): notices with receipt, reply, extension, return and closing; urging; reminder and escalation rules",
            ),
            tag(
                "channels",
                "Where messages go: people's e-mail by their choice, portals' signed webhooks and group robots (DingTalk, WeCom), \
                 and the log of every delivery. A webhook delivery is a POST of a `WebhookEvent` with the headers \
                 `X-Duban-Delivery` (its idempotency key: deliveries are at least once, drop repeats), `X-Duban-Event`, \
                 `X-Duban-Timestamp` (Unix seconds) and `X-Duban-Signature: sha256=<hex>`, the HMAC-SHA256 keyed with the \
                 endpoint's secret of `<timestamp>.<raw body>`. Verify it before trusting the body, e.g. in Python: \
                 `hmac.compare_digest(sig, 'sha256=' + hmac.new(secret, ts.encode() + b'.' + body, hashlib.sha256).hexdigest())`, \
                 and refuse timestamps more than five minutes old. A receiver answers 2xx; anything else is retried with \
                 exponential back-off for 24 hours.",
            ),
        ]))
        .build()
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name(Problem::name()))).build())
            .build(),
    )
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
}

/// Adds what every operation shares: security and error responses.
/// A page's items are `$ref`s to their own schema (`Page_TaskSummary`'s to
/// `TaskSummary`), so generated clients share one type per resource
/// instead of a copy per list.
fn refer_page_items(components: &mut utoipa::openapi::Components) {
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("Page_") else { continue };
        if !components.schemas.contains_key(item) {
            continue;
        }
        let item = item.to_owned();
        if let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(&name)
            && let Some(items) = page.properties.get_mut("items")
        {
            *items = RefOr::T(Schema::Array(utoipa::openapi::schema::ArrayBuilder::new().items(Ref::from_schema_name(item)).build()));
        }
    }
}

fn finish(mut api: OpenApi) -> OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.insert(Problem::name().into_owned(), Problem::schema());
    for (name, schema) in parameter_schemas() {
        components.schemas.entry(name).or_insert(schema);
    }
    refer_page_items(components);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An access token from POST /api/v1/auth/login, or a portal's API key (dbk_…)"))
                .build(),
        ),
    );
    api.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);

    for (path, item) in api.paths.paths.iter_mut() {
        let has_id = path.contains('{');
        let methods: [(&str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, operation) in methods {
            let Some(operation) = operation else { continue };
            if path == "/healthz" || path == "/readyz" {
                operation.security = Some(vec![SecurityRequirement::default()]);
                continue;
            }
            let public = operation.security.as_ref().is_some_and(|security| security.iter().all(|s| s == &SecurityRequirement::default()));
            add(operation, "400", "The request cannot be read: malformed JSON, or a query parameter of the wrong form");
            add(
                operation,
                "401",
                if public { "Wrong credentials" } else { "Not signed in, or the token or key is invalid or has expired" },
            );
            if !public {
                add(operation, "403", "Signed in, but not allowed to do this");
            }
            if has_id {
                add(operation, "404", "No such resource");
            }
            if operation.request_body.is_some() {
                add(operation, "413", "The body is too large");
                add(operation, "415", "The body is not application/json");
                add(operation, "422", "The body is well-formed but its content is not acceptable");
            }
            if method != "get" && !public {
                add(operation, "409", "The request conflicts with the current state of the resource");
            }
            let takes_if_match = operation.parameters.iter().flatten().any(|parameter| parameter.name.eq_ignore_ascii_case("if-match"));
            if takes_if_match {
                add(operation, "412", "If-Match names a version that is no longer current");
                add(operation, "428", "If-Match is missing");
            }
            add(operation, "500", "An internal error; quote the request id");
            add(operation, "503", "The database is not available right now");
        }
    }
    api
}

/// The document as served, which is also what `openapi/openapi.json` holds.
pub fn document() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // Registering the routes collects their paths; the app is discarded.
        let (_, api) = actix_web::App::new().into_utoipa_app().openapi(base()).configure(super::routes).split_for_parts();
        finish(api)
    })
}
