use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::NaiveDate;
use duban_dto::api::Evidence;
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, AppState};
use crate::audit::{self, Event};
use crate::authz::Caller;
use crate::evidence::upload::{self, Staged};
use crate::evidence::{self, StoredFile, UploadDetails};
use crate::workflow;

/// The form of an upload (multipart/form-data).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// One or more files (repeat the field). PDF, OFD, images, Word, Excel,
    /// WPS, zip, MP3 or MP4, judged by content; names are kept exactly.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
    description: Option<String>,
    /// When the material takes effect (YYYY-MM-DD).
    #[schema(value_type = Option<String>, format = Date)]
    effective_date: Option<String>,
    /// Upload a new version of this evidence instead of new evidence (one file).
    evidence_id: Option<i64>,
}

/// Uploads evidence to an assignment, streamed: one piece of evidence per
/// file, or a new version of `evidence_id`. Only the assignment's unit
/// uploads, and only while its work is not under review or approved.
#[utoipa::path(
    tag = "evidence",
    params(("id" = i64, Path, description = "Assignment id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "The evidence created or given a new version", body = Vec<Evidence>))
)]
#[post("/assignments/{id}/evidence")]
pub async fn upload_evidence(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<i64>,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let assignment_id = id.into_inner();
    let limit = state.max_upload_bytes;
    if request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .is_some_and(|length| length > limit + (64 << 10))
    {
        return Err(ApiError::PayloadTooLarge { detail: format!("an upload may be at most {} MiB", limit >> 20) });
    }
    // Check who may upload before reading a byte of the body.
    let caller_for_check = caller.clone();
    let can = state
        .db(move |conn| {
            let assignment = evidence::assignment_state(conn, assignment_id)?;
            let can = caller_for_check.work_on(assignment.facts.unit_id)?;
            if !workflow::evidence_editable(assignment.status) {
                return Err(ApiError::conflict(
                    "evidence_frozen",
                    format!("the assignment is {}: its evidence cannot change now", assignment.status),
                ));
            }
            Ok(can)
        })
        .await?;

    let staging = state.storage.staging_dir();
    let mut allowance = limit;
    let mut details = UploadDetails::default();
    let mut staged: Vec<Staged> = Vec::new();
    while let Some(mut field) =
        form.try_next().await.map_err(|error| ApiError::bad_request("malformed_body", format!("not a readable multipart form: {error}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = upload::file_name_of(&field)
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .ok_or_else(|| ApiError::unprocessable("file_name_required", "every file needs its file name"))?;
                staged.push(upload::stage(&mut field, &staging, file_name, &mut allowance).await?);
            }
            "description" => details.description = upload::text(&mut field, "description").await?.trim().to_owned(),
            "effective_date" => {
                let text = upload::text(&mut field, "effective_date").await?;
                let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map_err(|_| ApiError::unprocessable("invalid_date", format!("effective_date {text:?} is not a date (YYYY-MM-DD)")))?;
                details.effective_date = Some(date);
            }
            "evidence_id" => {
                let text = upload::text(&mut field, "evidence_id").await?;
                details.replaces = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| ApiError::unprocessable("invalid_evidence_id", format!("evidence_id {text:?} is not a number")))?,
                );
            }
            other => return Err(ApiError::unprocessable("unknown_field", format!("the form has no field {other:?}"))),
        }
    }
    if staged.is_empty() {
        return Err(ApiError::unprocessable("no_file", "send at least one file in the field \"file\""));
    }
    let mut stored = Vec::new();
    for file in staged {
        state.storage.store(&hex::encode(file.sha256), file.path()).await.map_err(ApiError::internal)?;
        stored.push(StoredFile { sha256: file.sha256, size: file.size, content_type: file.kind.mime, file_name: file.file_name.clone() });
        file.stored();
    }
    let created = state.db(move |conn| evidence::record(conn, &can, &caller, assignment_id, &details, &stored)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The evidence of an assignment with every version.
#[utoipa::path(tag = "evidence", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "Evidence, oldest first", body = Vec<Evidence>)))]
#[get("/assignments/{id}/evidence")]
pub async fn list_evidence(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<Vec<Evidence>>, ApiError> {
    let assignment_id = id.into_inner();
    let items = state
        .db(move |conn| {
            let assignment = evidence::assignment_state(conn, assignment_id)?;
            let can = caller.read_evidence(&assignment.facts)?;
            evidence::list(conn, &can, assignment_id)
        })
        .await?;
    Ok(web::Json(items))
}

/// Withdraws evidence while the work is not under review; its versions stay on record.
#[utoipa::path(tag = "evidence", params(("id" = i64, Path, description = "Evidence id")), responses((status = 204, description = "Withdrawn")))]
#[delete("/evidence/{id}")]
pub async fn withdraw_evidence(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let evidence_id = id.into_inner();
    state.db(move |conn| evidence::withdraw(conn, &caller, evidence_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// Show in the browser (images, PDF) rather than download.
    inline: Option<bool>,
}

/// A byte range of `Range: bytes=…`, if one was asked for and can be served.
enum RangeAsked {
    Whole,
    Part(std::ops::Range<u64>),
    Unsatisfiable,
}

fn range_asked(request: &HttpRequest, size: u64) -> RangeAsked {
    let Some(spec) =
        request.headers().get(header::RANGE).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("bytes="))
    else {
        return RangeAsked::Whole;
    };
    // One range only; a list of ranges is answered with the whole file.
    if spec.contains(',') {
        return RangeAsked::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return RangeAsked::Unsatisfiable };
    let range = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => start..(end + 1).min(size),
        (Some(start), None) if end.is_empty() => start..size,
        (None, Some(suffix)) if start.is_empty() && suffix > 0 => size.saturating_sub(suffix)..size,
        _ => return RangeAsked::Unsatisfiable,
    };
    if range.start >= size { RangeAsked::Unsatisfiable } else { RangeAsked::Part(range) }
}

/// `filename*` (RFC 5987) carries the exact name; `filename` an ASCII stand-in.
pub(super) fn content_disposition(file_name: &str, inline: bool) -> String {
    let encoded: String = file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let fallback: String = file_name.chars().map(|c| if c.is_ascii_alphanumeric() || "-._".contains(c) { c } else { '_' }).collect();
    format!("{}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}", if inline { "inline" } else { "attachment" })
}

/// Downloads one version of a piece of evidence, streamed, with its exact
/// file name and `Range` support. Each download is audited (range requests
/// that continue one are not).
#[utoipa::path(
    tag = "evidence",
    params(("id" = i64, Path, description = "Evidence version id"), DownloadQuery, ("Range" = Option<String>, Header, description = "bytes=START-END")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 416, description = "The range lies outside the file", body = duban_dto::api::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evidence-versions/{id}/content")]
pub async fn download_evidence(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<i64>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, ApiError> {
    let version_id = id.into_inner();
    let caller_for_db = caller.clone();
    let download = state
        .db(move |conn| {
            let download = evidence::version_for_download(conn, version_id)?;
            let assignment = evidence::assignment_state(conn, download.assignment_id)?;
            caller_for_db.read_evidence(&assignment.facts)?;
            Ok(download)
        })
        .await?;
    let asked = range_asked(&request, download.size);
    let (status, range) = match asked {
        RangeAsked::Whole => (StatusCode::OK, None),
        RangeAsked::Part(range) => (StatusCode::PARTIAL_CONTENT, Some(range)),
        RangeAsked::Unsatisfiable => {
            let mut response = actix_web::ResponseError::error_response(&ApiError::RangeNotSatisfiable {
                detail: format!("the file has {} bytes", download.size),
            });
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{}", download.size)).expect("ASCII"));
            return Ok(response);
        }
    };
    if range.as_ref().is_none_or(|range| range.start == 0) {
        let event = Event::new("evidence.download")
            .entity("evidence_version", version_id)
            .after(serde_json::json!({"sha256": download.sha256_hex}));
        let actor = caller.audit_actor();
        state.db(move |conn| Ok(audit::record(conn, &actor, event)?)).await?;
    }
    let stream = state.storage.read(&download.sha256_hex, range.clone()).await.map_err(ApiError::internal)?;
    let length = range.as_ref().map_or(download.size, |range| range.end - range.start);
    let mut response = HttpResponse::build(status);
    response
        .content_type(download.content_type.as_str())
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, format!("\"{}\"", download.sha256_hex)))
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&download.file_name, query.inline.unwrap_or(false))))
        .no_chunking(length);
    if let Some(range) = &range {
        response.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{}", range.start, range.end - 1, download.size)));
    }
    Ok(response.streaming(stream.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError))))
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_files_exactly_in_rfc_5987() {
        let header = content_disposition("罗平县 执法记录(2026).pdf", false);
        assert!(header.starts_with("attachment; filename=\""));
        assert!(
            header.contains("filename*=UTF-8''%E7%BD%97%E5%B9%B3%E5%8E%BF%20%E6%89%A7%E6%B3%95%E8%AE%B0%E5%BD%95%282026%29.pdf"),
            "{header}"
        );
    }
}
