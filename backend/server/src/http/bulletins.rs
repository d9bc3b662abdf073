//! Bulletins (通报): drafts, issue, the frozen document, its PDF and inputs.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use duban_dto::api::{Bulletin, BulletinDraft, BulletinInputs, Problem};

use super::assignments::expected_version;
use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::bulletins::{self, PdfSource};
use crate::documents;

fn with_etag(status: actix_web::http::StatusCode, bulletin: &Bulletin) -> HttpResponse {
    let mut response = HttpResponse::build(status).json(bulletin);
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", bulletin.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// A campaign's bulletins, newest first: the issued ones, and for the lead
/// office its drafts too. Portals take the first issued one as the latest.
#[utoipa::path(
    tag = "bulletins",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping")),
    responses(
        (status = 200, description = "Bulletins, newest first", body = Vec<Bulletin>),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/campaigns/{code}/bulletins")]
pub async fn list_bulletins(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<web::Json<Vec<Bulletin>>, ApiError> {
    let can = caller.read_progress()?;
    Ok(web::Json(state.db(move |conn| bulletins::list(conn, &can, &caller, &code)).await?))
}

/// Starts a bulletin in draft (lead office): its period and the office's
/// text; duban fills in the figures.
#[utoipa::path(
    tag = "bulletins",
    params(("code" = String, Path, description = "Campaign code")),
    request_body = BulletinDraft,
    responses(
        (status = 201, description = "The draft", body = Bulletin),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/campaigns/{code}/bulletins")]
pub async fn create_bulletin(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: web::Json<BulletinDraft>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_scoring()?;
    let draft = body.into_inner();
    let bulletin = state.db(move |conn| bulletins::create(conn, &can, &caller, &code, &draft)).await?;
    Ok(with_etag(actix_web::http::StatusCode::CREATED, &bulletin))
}

/// One bulletin, with its version as the ETag.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id")),
    responses((status = 200, description = "The bulletin", body = Bulletin, headers(("ETag" = String, description = "The bulletin's version"))))
)]
#[get("/bulletins/{id}")]
pub async fn get_bulletin(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_progress()?;
    let id = id.into_inner();
    let bulletin = state.db(move |conn| bulletins::get(conn, &can, &caller, id)).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &bulletin))
}

/// Replaces a draft's period and text. Requires If-Match; an issued
/// bulletin is frozen (409 `bulletin_issued`).
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id"), ("If-Match" = String, Header, description = "The ETag of the version being changed")),
    request_body = BulletinDraft,
    responses((status = 200, description = "The draft", body = Bulletin, headers(("ETag" = String, description = "The new version"))))
)]
#[put("/bulletins/{id}")]
pub async fn update_bulletin(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<BulletinDraft>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_scoring()?;
    let expected = expected_version(&request)?;
    let (id, draft) = (id.into_inner(), body.into_inner());
    let bulletin = state.db(move |conn| bulletins::update(conn, &can, &caller, id, expected, &draft)).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &bulletin))
}

/// Signs and issues (签发) the draft of the version read (If-Match): it gets
/// its number, and its inputs, document and SHA-256 are frozen; everyone is
/// told through their inbox and the channels.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id"), ("If-Match" = String, Header, description = "The ETag of the version reviewed")),
    responses((status = 200, description = "The issued bulletin", body = Bulletin))
)]
#[post("/bulletins/{id}/issue")]
pub async fn issue_bulletin(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.issue_bulletins()?;
    let expected = expected_version(&request)?;
    let id = id.into_inner();
    let bulletin = state.db(move |conn| bulletins::issue(conn, &can, &caller, id, expected)).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &bulletin))
}

/// The figures of the bulletin: frozen once issued, live for a draft.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id")),
    responses((status = 200, description = "The inputs", body = BulletinInputs))
)]
#[get("/bulletins/{id}/inputs")]
pub async fn bulletin_inputs(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<BulletinInputs>, ApiError> {
    let can = caller.read_progress()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| bulletins::inputs(conn, &can, &caller, id)).await?))
}

/// The inputs as CSV (UTF-8 with BOM): each unit's score with the counts it
/// is made of, and every late assignment counted.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id")),
    responses((status = 200, description = "The inputs", content_type = "text/csv", body = String))
)]
#[get("/bulletins/{id}/inputs.csv")]
pub async fn bulletin_inputs_csv(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_progress()?;
    let id = id.into_inner();
    let inputs = state.db(move |conn| bulletins::inputs(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, super::evidence::content_disposition(&format!("通报{id}-数据来源.csv"), false)))
        .body(bulletins::inputs_csv(&inputs)))
}

/// The bulletin as a document in the official layout (.docx): the frozen
/// one once issued (its SHA-256 is the bulletin's `sha256`), a preview of a
/// draft.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id")),
    responses((status = 200, description = "The document",
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = inline(super::openapi::Binary)))
)]
#[get("/bulletins/{id}/document")]
pub async fn bulletin_document(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_progress()?;
    let id = id.into_inner();
    let (name, bytes) = state.db(move |conn| bulletins::document_file(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type(documents::DOCX)
        .insert_header((header::CONTENT_DISPOSITION, super::evidence::content_disposition(&name, false)))
        .body(bytes))
}

/// The same document as PDF, rendered by LibreOffice on the server (kept
/// once rendered for an issued bulletin). 503 if the server has no LibreOffice.
#[utoipa::path(
    tag = "bulletins",
    params(("id" = i64, Path, description = "Bulletin id")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = inline(super::openapi::Binary)))
)]
#[get("/bulletins/{id}/document.pdf")]
pub async fn bulletin_pdf(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_progress()?;
    let keeping = caller.read_progress()?;
    let id = id.into_inner();
    let source = state.db(move |conn| bulletins::pdf_source(conn, &can, &caller, id)).await?;
    let (name, pdf) = match source {
        PdfSource::Kept { name, pdf } => (name, pdf),
        PdfSource::Render { name, docx, keep } => {
            let pdf = web::block(move || documents::pdf::from_docx(&docx)).await??;
            if keep {
                let kept = pdf.clone();
                state.db(move |conn| bulletins::keep_pdf(conn, &keeping, id, &kept)).await?;
            }
            (name, pdf)
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::CONTENT_DISPOSITION, super::evidence::content_disposition(&name, false)))
        .body(pdf))
}
