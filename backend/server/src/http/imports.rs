//! Bulk imports for portals and scripts: send a file, get a job, watch it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use duban_dto::ImportKind;
use duban_dto::api::ImportJob;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::import::bulk::Defaults;
use crate::import::job::{self, BulkRequest, Sender, UploadFormat};

/// The largest file an import accepts. The province's whole table is well
/// under a megabyte; a county's accounts or assignments a few.
pub const MAX_IMPORT_BYTES: usize = 32 << 20;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// What the file holds: `breakdown`, `units`, `users` or `assignments`.
    kind: ImportKind,
    /// Check every row and report what would change, writing nothing.
    dry_run: Option<bool>,
    /// For `breakdown`: the campaign (a new code creates it); for
    /// `assignments`: the campaign of rows that do not name one.
    campaign: Option<String>,
    /// The county of rows that do not name one, and of a breakdown table
    /// whose title names none (flat rows).
    region: Option<String>,
    /// The file's name, for the report; its extension tells the format when
    /// the Content-Type does not.
    file_name: Option<String>,
}

/// Starts an import. The body is the file itself: CSV (`text/csv`, with a
/// header row), JSON (`application/json`: an array of rows), a workbook
/// (`.xlsx`, first sheet, header row) — or, for `breakdown`, also a Word
/// document (`.docx`), the text dump (`text/plain`) or a campaign or roster
/// seed. Rows are matched by natural keys (unit name, username, task code +
/// unit + role), so sending a file twice changes nothing the second time.
/// A file with any invalid row writes nothing; the job's report lists every
/// row's outcome and errors. Needs the lead office role or an API key with
/// `import:write`; what an import changes is in the audit log.
#[utoipa::path(
    tag = "imports",
    params(ImportQuery),
    request_body(content(
        (inline(super::openapi::Binary) = "text/csv"),
        (Vec<serde_json::Value> = "application/json"),
        (inline(super::openapi::Binary) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (inline(super::openapi::Binary) = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (inline(super::openapi::Binary) = "text/plain"),
    )),
    responses((status = 202, description = "The job, queued; follow Location for its progress and report", body = ImportJob,
        headers(("Location" = String, description = "The job's URL"))))
)]
#[post("/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ImportQuery>,
    request: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let can = caller.import_data()?;
    // No connection waits while the file arrives.
    super::request_connection::release();
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::malformed("unreadable_body", format!("the body could not be read: {error}")))?;
        if bytes.len() + chunk.len() > MAX_IMPORT_BYTES {
            return Err(ApiError::PayloadTooLarge { detail: format!("an import file may be at most {} MiB", MAX_IMPORT_BYTES >> 20) });
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(crate::error::Error::invalid("empty_file", "the body is empty: send the file to import").into());
    }
    let query = query.into_inner();
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let format = UploadFormat::detect(content_type, query.file_name.as_deref(), &bytes).ok_or_else(|| ApiError::UnsupportedMediaType {
        detail: "send the file as text/csv, application/json, an .xlsx workbook, a .docx document or text/plain, or name it with file_name"
            .to_owned(),
    })?;
    // A zip bomb is refused here, before a job is made for it.
    duban_breakdown::archive::check(&bytes).map_err(|refused| crate::error::Error::invalid("archive_refused", refused.to_string()))?;
    let request = BulkRequest {
        kind: query.kind,
        format,
        dry_run: query.dry_run.unwrap_or(false),
        label: query.file_name.clone().unwrap_or_else(|| format!("API upload ({})", format.as_str())),
        defaults: Defaults { region: query.region, campaign: query.campaign },
    };
    let sender = Sender { user_id: caller.user().map(|user| user.id), client_id: caller.api_client_id() };
    let file_name = query.file_name;
    let (job, request) = state
        .db(move |conn| {
            let job = job::create(conn, &can, sender, &request, file_name.as_deref())?;
            Ok::<_, crate::error::Error>((job, (can, request)))
        })
        .await?;
    let (can, request) = request;
    job::start(state.pool.clone(), can, caller.audit_actor(), job.id, request, bytes);
    Ok(HttpResponse::Accepted().insert_header((header::LOCATION, format!("/api/v1/imports/{}", job.id))).json(job))
}

/// An import job: its status, progress and, once finished, the report of
/// every row.
#[utoipa::path(
    tag = "imports",
    params(("id" = i64, Path, description = "Import job id")),
    responses((status = 200, description = "The job", body = ImportJob))
)]
#[get("/imports/{id}")]
pub async fn get_import(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<ImportJob>, ApiError> {
    let can = caller.import_data()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| job::get(conn, &can, id)).await?))
}
