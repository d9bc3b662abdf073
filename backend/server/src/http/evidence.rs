use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use duban_dto::api::{CampaignEvidence, Evidence, Page, Problem};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::upload::{self, Staged};
use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::db::lookups;
use crate::error::Error;
use crate::evidence::{self, Download, EvidenceFilter, StoredFile, UploadDetails, sniff};
use crate::pagination::Cursor;

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
    // Check who may upload, and whether the work takes evidence now,
    // before reading a byte of the body.
    let caller_for_check = caller.clone();
    let can = state
        .db(move |conn| {
            let assignment = lookups::assignment_state(conn, assignment_id)?;
            let can = caller_for_check.work_on(&assignment)?;
            evidence::accepts_uploads(conn, &can)?;
            Ok::<_, Error>(can)
        })
        .await?;

    let staging = state.storage.staging_dir();
    let mut allowance = limit;
    let mut details = UploadDetails::default();
    let mut staged: Vec<Staged> = Vec::new();
    while let Some(mut field) =
        form.try_next().await.map_err(|error| ApiError::malformed("malformed_body", format!("not a readable multipart form: {error}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = upload::file_name_of(&field)
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .ok_or_else(|| Error::invalid("file_name_required", "every file needs its file name"))?;
                // Checked before a byte of the file is stored.
                evidence::check_file_name(&file_name)?;
                staged.push(upload::stage(&mut field, &staging, file_name, &mut allowance).await?);
            }
            "description" => details.description = upload::text(&mut field, "description").await?.trim().to_owned(),
            "effective_date" => {
                let text = upload::text(&mut field, "effective_date").await?;
                let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map_err(|_| Error::invalid("invalid_date", format!("effective_date {text:?} is not a date (YYYY-MM-DD)")))?;
                details.effective_date = Some(date);
            }
            "evidence_id" => {
                let text = upload::text(&mut field, "evidence_id").await?;
                details.replaces = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| Error::invalid("invalid_evidence_id", format!("evidence_id {text:?} is not a number")))?,
                );
            }
            other => return Err(Error::invalid("unknown_field", format!("the form has no field {other:?}")).into()),
        }
    }
    if staged.is_empty() {
        return Err(Error::invalid("no_file", "send at least one file in the field \"file\"").into());
    }
    // Content already stored but found corrupted is replaced by this copy.
    let hashes: Vec<[u8; 32]> = staged.iter().map(|file| file.sha256).collect();
    let (can, corrupted) = state
        .db(move |conn| {
            let corrupted = evidence::corrupted_among(conn, &can, &hashes)?;
            Ok::<_, Error>((can, corrupted))
        })
        .await?;
    let mut stored = Vec::new();
    for file in staged {
        let replace = corrupted.contains(&file.sha256);
        state.storage.store(&hex::encode(file.sha256), file.path(), replace).await.map_err(Error::internal)?;
        stored.push(StoredFile { sha256: file.sha256, size: file.size, content_type: file.kind.mime, file_name: file.file_name.clone() });
        file.stored();
    }
    let created = state.db(move |conn| evidence::record(conn, &can, &caller, &details, &stored)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The evidence of an assignment with every version.
#[utoipa::path(tag = "evidence", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "Evidence, oldest first", body = Vec<Evidence>)))]
#[get("/assignments/{id}/evidence")]
pub async fn list_evidence(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<Vec<Evidence>>, ApiError> {
    let assignment_id = id.into_inner();
    let items = state
        .db(move |conn| {
            let assignment = lookups::assignment_state(conn, assignment_id)?;
            let can = caller.read_evidence(assignment.id, &assignment.facts)?;
            evidence::list(conn, &can)
        })
        .await?;
    Ok(web::Json(items))
}

/// Filters and page of a campaign's evidence.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CampaignEvidenceQuery {
    /// Handed in by this unit (its id).
    unit: Option<i64>,
    /// For this task (its code, e.g. B012).
    task: Option<String>,
    /// Created, given a new version or withdrawn at or after this time
    /// (RFC 3339): what changed since the last visit.
    changed_since: Option<DateTime<Utc>>,
    /// Withdrawn evidence too (marked `withdrawn`); false by default.
    include_withdrawn: Option<bool>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// The evidence of a whole campaign, oldest first, each with its task and
/// unit: for portals, instead of walking every assignment. Those who
/// oversee the campaign (lead office, inspectors, keys with `evidence:read`)
/// see all of it; a unit sees its own and that of the tasks it leads.
#[utoipa::path(
    tag = "evidence",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping"), CampaignEvidenceQuery),
    responses(
        (status = 200, description = "A page of evidence", body = Page<CampaignEvidence>),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/campaigns/{code}/evidence")]
pub async fn list_campaign_evidence(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    query: web::Query<CampaignEvidenceQuery>,
) -> Result<web::Json<Page<CampaignEvidence>>, ApiError> {
    let can = caller.list_evidence()?;
    let query = query.into_inner();
    let filter = EvidenceFilter {
        campaign: code.into_inner(),
        unit: query.unit,
        task: query.task,
        changed_since: query.changed_since,
        include_withdrawn: query.include_withdrawn.unwrap_or(false),
    };
    crate::limits::parameter("task", filter.task.as_deref().unwrap_or_default(), duban_dto::limits::SEARCH)?;
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &filter)?;
    Ok(web::Json(state.db(move |conn| evidence::list_campaign(conn, &can, &filter, &cursor)).await?))
}

/// Withdraws evidence while the work is not under review; its versions stay on record.
#[utoipa::path(tag = "evidence", params(("id" = i64, Path, description = "Evidence id")), responses((status = 204, description = "Withdrawn")))]
#[delete("/evidence/{id}")]
pub async fn withdraw_evidence(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let evidence_id = id.into_inner();
    state
        .db(move |conn| {
            let assignment = lookups::evidence_assignment(conn, evidence_id)?;
            let can = caller.work_on(&assignment)?;
            evidence::withdraw(conn, &can, &caller, evidence_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// Show in the browser (images, PDF) rather than download.
    inline: Option<bool>,
}

/// What `Range: bytes=…` asked for, before the file's size is known.
enum RangeSpec {
    Whole,
    /// `bytes=START-END` or `bytes=START-` (END `None`).
    From(u64, Option<u64>),
    /// `bytes=-SUFFIX`: the last SUFFIX bytes.
    Suffix(u64),
    Unsatisfiable,
}

/// A byte range to serve, once the size is known.
enum RangeAsked {
    Whole,
    Part(std::ops::Range<u64>),
    Unsatisfiable,
}

impl RangeSpec {
    fn of(request: &HttpRequest) -> RangeSpec {
        let Some(spec) =
            request.headers().get(header::RANGE).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("bytes="))
        else {
            return RangeSpec::Whole;
        };
        // One range only; a list of ranges is answered with the whole file.
        if spec.contains(',') {
            return RangeSpec::Whole;
        }
        let Some((start, end)) = spec.trim().split_once('-') else { return RangeSpec::Unsatisfiable };
        match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
            (Some(start), Some(end)) if start <= end => RangeSpec::From(start, Some(end)),
            (Some(start), None) if end.is_empty() => RangeSpec::From(start, None),
            (None, Some(suffix)) if start.is_empty() && suffix > 0 => RangeSpec::Suffix(suffix),
            _ => RangeSpec::Unsatisfiable,
        }
    }

    fn resolve(self, size: u64) -> RangeAsked {
        let range = match self {
            RangeSpec::Whole => return RangeAsked::Whole,
            RangeSpec::Unsatisfiable => return RangeAsked::Unsatisfiable,
            RangeSpec::From(start, Some(end)) => start..(end + 1).min(size),
            RangeSpec::From(start, None) => start..size,
            RangeSpec::Suffix(suffix) => size.saturating_sub(suffix)..size,
        };
        if range.start >= size { RangeAsked::Unsatisfiable } else { RangeAsked::Part(range) }
    }
}

/// Whole files up to this size are checked against their hash before they
/// are sent; larger ones while they stream.
const VERIFY_BEFORE_SENDING: u64 = 64 << 20;

/// The stream, hashed as it goes. One chunk is always held back, so the
/// last is sent only once the hash is known: when it does not match
/// `sha256_hex`, an error takes the last chunk's place (the client sees a
/// broken transfer, never a complete wrong file) and `corrupted` runs.
fn verified(
    stream: futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>,
    sha256_hex: String,
    corrupted: impl FnOnce() + Send + 'static,
) -> futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>> {
    use sha2::Digest;
    use std::task::Poll;
    let mut inner = stream;
    let mut hasher = Some(sha2::Sha256::new());
    let mut held: Option<bytes::Bytes> = None;
    let mut corrupted = Some(corrupted);
    futures_util::stream::poll_fn(move |cx| {
        loop {
            // The inner stream ended and was checked: it is not polled again.
            if hasher.is_none() {
                return Poll::Ready(None);
            }
            match inner.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(hasher) = hasher.as_mut() {
                        hasher.update(&chunk);
                    }
                    if let Some(previous) = held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Poll::Ready(None) => {
                    let Some(hasher) = hasher.take() else { return Poll::Ready(None) };
                    if hex::encode(hasher.finalize()) != sha256_hex {
                        held = None;
                        if let Some(report) = corrupted.take() {
                            report();
                        }
                        return Poll::Ready(Some(Err(std::io::Error::other("the stored file does not match its hash"))));
                    }
                    return Poll::Ready(held.take().map(Ok));
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .boxed()
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
/// file name and `Range` support. Every download that sends content is
/// audited, ranges included, once per version and caller per minute.
#[utoipa::path(
    tag = "evidence",
    params(("id" = i64, Path, description = "Evidence version id"), DownloadQuery, ("Range" = Option<String>, Header, description = "bytes=START-END")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = inline(super::openapi::Binary)),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = inline(super::openapi::Binary)),
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
    let asked = RangeSpec::of(&request);
    // One trip to the database: find the version, decide access, audit.
    let (download, range, can, caller) = state
        .db(move |conn| {
            let download = evidence::version_for_download(conn, version_id)?;
            let assignment = lookups::assignment_state(conn, download.assignment_id)?;
            let can = caller.read_evidence(assignment.id, &assignment.facts)?;
            download.check_intact()?;
            let range = asked.resolve(download.size);
            // Every download that sends content is audited, ranges included
            // (the domain coalesces a player's many ranges into one row).
            if !matches!(range, RangeAsked::Unsatisfiable) {
                evidence::record_download(conn, &can, &caller, version_id, &download)?;
            }
            Ok::<_, Error>((download, range, can, caller))
        })
        .await?;
    let (status, range) = match range {
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
    // A whole file is checked against its hash before it is served when it
    // is small, and while it streams when it is large (a mismatch then
    // breaks the transfer rather than completing it); a corrupted object is
    // reported and refused from then on. A range cannot be checked alone.
    let verify_while_streaming = range.is_none() && download.size > VERIFY_BEFORE_SENDING;
    if range.is_none() && !verify_while_streaming {
        let (hash, size) = state.storage.rehash(&download.sha256_hex).await.map_err(Error::internal)?;
        if hex::encode(hash) != download.sha256_hex || size != download.size {
            let reported = download.clone();
            state.db(move |conn| evidence::report_corrupted(conn, &can, &caller, &reported)).await?;
            return Err(ApiError::from(Download { corrupted: true, ..download }.check_intact().unwrap_err()));
        }
    }
    let stream = state.storage.read(&download.sha256_hex, range.clone()).await.map_err(Error::internal)?;
    let stream = if verify_while_streaming {
        let (state, download_for_check) = (state.clone(), download.clone());
        verified(stream, download.sha256_hex.clone(), move || {
            // Reported on a blocking thread: the stream has already failed.
            actix_web::rt::spawn(async move {
                let result = state.db(move |conn| evidence::report_corrupted(conn, &can, &caller, &download_for_check)).await;
                if let Err(error) = result {
                    tracing::error!(%error, "recording a corrupted evidence file");
                }
            });
        })
    } else {
        stream
    };
    let length = range.as_ref().map_or(download.size, |range| range.end - range.start);
    let mut response = HttpResponse::build(status);
    response
        .content_type(download.content_type.as_str())
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, format!("\"{}\"", download.sha256_hex)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&sniff::download_name(&download.file_name, &download.content_type), query.inline.unwrap_or(false)),
        ))
        .no_chunking(length);
    if let Some(range) = &range {
        response.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{}", range.start, range.end - 1, download.size)));
    }
    Ok(response.streaming(stream.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError))))
}

/// Sends a whole stored file as an attachment, checked against its hash as
/// it streams (a mismatch breaks the transfer, and `corrupted` runs).
pub(super) async fn send_whole_verified(
    state: &AppState,
    download: &Download,
    corrupted: impl FnOnce() + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let stream = state.storage.read(&download.sha256_hex, None).await.map_err(Error::internal)?;
    let stream = verified(stream, download.sha256_hex.clone(), corrupted);
    Ok(HttpResponse::Ok()
        .content_type(download.content_type.as_str())
        .insert_header((header::ETAG, format!("\"{}\"", download.sha256_hex)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&sniff::download_name(&download.file_name, &download.content_type), false),
        ))
        .no_chunking(download.size)
        .streaming(stream.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError))))
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
