//! Supervision (督办): notices, their steps, urging, the reminder rules and
//! the units' leaders in charge.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use duban_dto::api::{NewNotice, Notice, NoticeAction, NoticeReply, NoticeSummary, Page, ReminderRules, UnitLeader, UrgeRequest, Urged};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::upload::{self, FilesForm};
use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::error::Error;
use crate::evidence::StoredFile;
use crate::pagination::Cursor;
use crate::supervision::{self, NoticeFilter};

/// The largest JSON body of a notice or a reply.
const JSON_LIMIT: usize = 1 << 20;

/// What a request that takes JSON or a form with files brought.
enum JsonOrForm<T> {
    Json(T),
    Form(FilesForm),
}

/// Reads a JSON body, or a multipart form with `text_fields` and files.
async fn json_or_form<T: DeserializeOwned>(
    state: &AppState,
    request: &HttpRequest,
    mut payload: web::Payload,
    text_fields: &[(&str, usize)],
) -> Result<JsonOrForm<T>, ApiError> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::new(request.headers(), payload);
        // No connection waits while the files arrive.
        super::request_connection::release();
        let read = upload::files_form(&mut form, &state.storage.staging_dir(), state.max_upload_bytes, text_fields).await?;
        return Ok(JsonOrForm::Form(read));
    }
    if !content_type.starts_with("application/json") {
        return Err(ApiError::UnsupportedMediaType { detail: "send application/json, or multipart/form-data with files".to_owned() });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::malformed("malformed_body", error.to_string()))?;
        if body.len() + chunk.len() > JSON_LIMIT {
            return Err(ApiError::PayloadTooLarge { detail: format!("a JSON body may be at most {JSON_LIMIT} bytes") });
        }
        body.extend_from_slice(&chunk);
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(&body);
    serde_path_to_error::deserialize(deserializer).map(JsonOrForm::Json).map_err(|error| {
        if error.inner().is_data() {
            ApiError::from(Error::invalid("invalid_body", error.to_string()))
        } else {
            ApiError::malformed("malformed_body", error.to_string())
        }
    })
}

/// Moves staged files into the store.
async fn store(state: &AppState, files: Vec<upload::Staged>) -> Result<Vec<StoredFile>, ApiError> {
    let mut stored = Vec::new();
    for file in files {
        state.storage.store(&hex::encode(file.sha256), file.path(), false).await.map_err(Error::internal)?;
        stored.push(StoredFile { sha256: file.sha256, size: file.size, content_type: file.kind.mime, file_name: file.file_name.clone() });
        file.stored();
    }
    Ok(stored)
}

/// A notice with attachments (multipart/form-data).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NoticeForm {
    /// The notice, as the JSON of `NewNotice`.
    notice: String,
    /// Attachments (repeat the field), judged by content like evidence.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// Issues a supervision notice (督办单) on assignments, or on every late
/// assignment matching `late`. It is numbered in the county's pattern
/// without gaps per year, and each addressed unit is told.
#[utoipa::path(
    tag = "supervision",
    request_body(content(
        (NewNotice = "application/json"),
        (NoticeForm = "multipart/form-data"),
    )),
    responses((status = 201, description = "The notice issued", body = Notice), (status = 404, description = "No such campaign"))
)]
#[post("/notices")]
pub async fn issue_notice(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let can = caller.supervise()?;
    let (new, files) = match json_or_form::<NewNotice>(&state, &request, payload, &[("notice", 64 << 10)]).await? {
        JsonOrForm::Json(new) => (new, Vec::new()),
        JsonOrForm::Form(mut form) => {
            let text =
                form.fields.remove("notice").ok_or_else(|| Error::invalid("notice_required", "the form needs the field \"notice\""))?;
            let new: NewNotice =
                serde_json::from_str(&text).map_err(|error| Error::invalid("invalid_notice", format!("the field notice: {error}")))?;
            (new, form.files)
        }
    };
    let stored = store(&state, files).await?;
    let notice = state.db(move |conn| supervision::issue(conn, &can, &caller, &new, &stored)).await?;
    Ok(HttpResponse::Created().json(notice))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    /// A campaign's code.
    campaign: Option<String>,
    /// Notices addressed to this unit.
    unit_id: Option<i64>,
    /// Notices about this assignment.
    assignment_id: Option<i64>,
    /// Only open notices (true) or only closed ones (false).
    open: Option<bool>,
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// Notices, newest first, with how far their units are. A unit's users see
/// those addressed to their unit.
#[utoipa::path(tag = "supervision", params(NoticeQuery), responses((status = 200, description = "A page of notices", body = Page<NoticeSummary>)))]
#[get("/notices")]
pub async fn list_notices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<NoticeQuery>,
) -> Result<web::Json<Page<NoticeSummary>>, ApiError> {
    let can = caller.read_notices()?;
    let query = query.into_inner();
    let filter = NoticeFilter { campaign: query.campaign, unit: query.unit_id, assignment: query.assignment_id, open: query.open };
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &filter)?;
    Ok(web::Json(state.db(move |conn| supervision::list(conn, &can, &filter, &cursor)).await?))
}

/// A notice with each addressed unit, its history and the steps the caller
/// may take now.
#[utoipa::path(tag = "supervision", params(("id" = i64, Path, description = "Notice id")), responses((status = 200, description = "The notice", body = Notice)))]
#[get("/notices/{id}")]
pub async fn get_notice(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<Notice>, ApiError> {
    let can = caller.read_notices()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| supervision::get(conn, &can, &caller, id)).await?))
}

/// The notice as a document in the official layout (.docx): issuing organ,
/// number, title, addressees, body, date.
#[utoipa::path(
    tag = "supervision",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 200, description = "The notice document",
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = inline(super::openapi::Binary)))
)]
#[get("/notices/{id}/document")]
pub async fn notice_document(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_notices()?;
    let id = id.into_inner();
    let (file_name, bytes) = state.db(move |conn| supervision::document(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::documents::DOCX)
        .insert_header((header::CONTENT_DISPOSITION, super::evidence::content_disposition(&file_name, false)))
        .body(bytes))
}

/// A file attached to a notice or to a unit's reply; downloads are audited.
#[utoipa::path(
    tag = "supervision",
    params(("id" = i64, Path, description = "Notice id"), ("file_id" = i64, Path, description = "File id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = inline(super::openapi::Binary)))
)]
#[get("/notices/{id}/files/{file_id}")]
pub async fn download_notice_file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.read_notices()?;
    let (notice_id, file_id) = path.into_inner();
    let caller_for_report = caller.clone();
    let (download, can) = state
        .db(move |conn| {
            let download = supervision::file(conn, &can, &caller, notice_id, file_id)?;
            Ok::<_, Error>((download, can))
        })
        .await?;
    let (report_state, reported) = (state.clone(), download.clone());
    super::evidence::send_whole_verified(&state, &download, move || {
        actix_web::rt::spawn(async move {
            let result = report_state.db(move |conn| supervision::report_corrupted_file(conn, &can, &caller_for_report, &reported)).await;
            if let Err(error) = result {
                tracing::error!(%error, "recording a corrupted notice file");
            }
        });
    })
    .await
}

/// Takes a step on a notice for one addressed unit: acknowledge (签收), ask
/// for an extension, grant or refuse it, return the reply, close (销号).
/// Replies go to `…/reply`.
#[utoipa::path(
    tag = "supervision",
    params(("id" = i64, Path, description = "Id of the addressed unit's entry (a notice's recipients[].id)")),
    responses((status = 200, description = "The notice after the step", body = Notice))
)]
#[post("/notice-recipients/{id}/actions")]
pub async fn act_on_notice(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<NoticeAction>,
) -> Result<web::Json<Notice>, ApiError> {
    let recipient_id = id.into_inner();
    let notice = state
        .db(move |conn| {
            let recipient = supervision::recipient(conn, recipient_id)?;
            let can = caller.act_on_notice(recipient.id, recipient.unit_id)?;
            supervision::act(conn, &can, &caller, &body)
        })
        .await?;
    Ok(web::Json(notice))
}

/// A reply with files (multipart/form-data).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReplyForm {
    /// What was done.
    text: String,
    /// Files (repeat the field), judged by content like evidence.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// The unit replies to a notice (办理情况反馈): text, and files as a form.
#[utoipa::path(
    tag = "supervision",
    params(("id" = i64, Path, description = "Id of the addressed unit's entry")),
    request_body(content(
        (NoticeReply = "application/json"),
        (ReplyForm = "multipart/form-data"),
    )),
    responses((status = 200, description = "The notice after the reply", body = Notice))
)]
#[post("/notice-recipients/{id}/reply")]
pub async fn reply_to_notice(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<web::Json<Notice>, ApiError> {
    let recipient_id = id.into_inner();
    // Who may reply is known before a byte of the files is read.
    let caller_for_check = caller.clone();
    let can = state
        .db(move |conn| {
            let recipient = supervision::recipient(conn, recipient_id)?;
            caller_for_check.act_on_notice(recipient.id, recipient.unit_id)
        })
        .await?;
    let (text, files) = match json_or_form::<NoticeReply>(&state, &request, payload, &[("text", 16 << 10)]).await? {
        JsonOrForm::Json(reply) => (reply.text, Vec::new()),
        JsonOrForm::Form(mut form) => (form.fields.remove("text").unwrap_or_default(), form.files),
    };
    let stored = store(&state, files).await?;
    Ok(web::Json(state.db(move |conn| supervision::reply(conn, &can, &caller, &text, &stored)).await?))
}

/// Urges units by hand (催办): named assignments, or every late assignment
/// of a task, an indicator or a unit. Each urging is counted.
#[utoipa::path(
    tag = "supervision",
    responses((status = 200, description = "The assignments urged, with their counts", body = Urged), (status = 404, description = "No such campaign"))
)]
#[post("/urgings")]
pub async fn urge_units(state: web::Data<AppState>, caller: Caller, body: web::Json<UrgeRequest>) -> Result<web::Json<Urged>, ApiError> {
    let can = caller.supervise()?;
    Ok(web::Json(state.db(move |conn| supervision::urge(conn, &can, &caller, &body)).await?))
}

/// The reminder and escalation rules in force.
#[utoipa::path(tag = "supervision", responses((status = 200, description = "The rules", body = ReminderRules)))]
#[get("/reminder-rules")]
pub async fn get_reminder_rules(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<ReminderRules>, ApiError> {
    caller.read_progress()?;
    Ok(web::Json(state.db(|conn| supervision::reminder_rules(conn)).await?))
}

/// The lead office sets the reminder and escalation rules; audited.
#[utoipa::path(tag = "supervision", responses((status = 200, description = "The rules now in force", body = ReminderRules)))]
#[put("/reminder-rules")]
pub async fn set_reminder_rules(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReminderRules>,
) -> Result<web::Json<ReminderRules>, ApiError> {
    let can = caller.supervise()?;
    Ok(web::Json(state.db(move |conn| supervision::set_reminder_rules(conn, &can, &caller, &body)).await?))
}

/// The county leader in charge of a unit (分管领导), with contacts: for the
/// lead office, the unit's manager and administrators.
#[utoipa::path(tag = "supervision", params(("id" = i64, Path, description = "Unit id")), responses((status = 200, description = "The leader in charge", body = UnitLeader)))]
#[get("/units/{id}/leader")]
pub async fn get_unit_leader(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<UnitLeader>, ApiError> {
    let can = caller.read_leader(id.into_inner())?;
    let leader = state.db(move |conn| supervision::leader(conn, &can)).await?;
    leader.map(web::Json).ok_or_else(|| Error::not_found("no leader in charge has been entered for this unit").into())
}

/// The lead office enters a unit's leader in charge, to whom
/// unacknowledged notices escalate.
#[utoipa::path(tag = "supervision", params(("id" = i64, Path, description = "Unit id")), responses((status = 200, description = "The leader in charge", body = UnitLeader)))]
#[put("/units/{id}/leader")]
pub async fn set_unit_leader(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<UnitLeader>,
) -> Result<web::Json<UnitLeader>, ApiError> {
    let can = caller.supervise()?;
    let unit_id = id.into_inner();
    Ok(web::Json(state.db(move |conn| supervision::set_leader(conn, &can, &caller, unit_id, &body)).await?))
}
