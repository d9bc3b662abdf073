//! Streaming an upload to a staging file: hashed and counted as it
//! arrives, its type judged from its first bytes, never held in memory
//! whole, and removed again if anything goes wrong before it is stored.

use std::path::{Path, PathBuf};

use actix_multipart::Field;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::ApiError;
use crate::error::Error;
use crate::evidence::sniff::{self, Kind, SNIFF_BYTES};

/// How much of an upload is collected before it is written.
const WRITE_BUFFER: usize = 1 << 20;

/// A file streamed to the staging directory. Dropped before it is stored,
/// it deletes its staging file.
#[derive(Debug)]
pub struct Staged {
    path: Option<PathBuf>,
    pub sha256: [u8; 32],
    pub size: u64,
    pub kind: Kind,
    pub file_name: String,
}

impl Staged {
    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("a staged file not yet stored")
    }

    /// The store took the file: nothing to clean up any more.
    pub fn stored(mut self) {
        self.path = None;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Deletes a partial staging file when streaming stops early.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The name the browser gave the file, exactly: RFC 5987 `filename*` when
/// sent, else `filename` (which browsers send as raw UTF-8).
pub fn file_name_of(field: &Field) -> Option<String> {
    let disposition = field.content_disposition()?;
    if let Some(extended) = disposition.get_filename_ext() {
        let bytes = &extended.value;
        if let Ok(name) = String::from_utf8(bytes.clone()) {
            return Some(name);
        }
    }
    disposition.get_filename().map(str::to_owned)
}

/// Streams one file field to the staging directory. `allowance` is what
/// the request may still send, in bytes; the file's size is taken from it.
pub async fn stage(field: &mut Field, staging: &Path, file_name: String, allowance: &mut u64) -> Result<Staged, ApiError> {
    let path = staging.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
    let mut partial = Partial(Some(path.clone()));
    // Each write to a tokio file is a trip to a blocking thread; collecting
    // the upload's small chunks into 1 MiB writes makes those trips rare.
    let mut file = tokio::io::BufWriter::with_capacity(
        WRITE_BUFFER,
        tokio::fs::File::create(&path).await.map_err(|error| ApiError::from(Error::internal(error)))?,
    );
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut kind: Option<Kind> = None;
    let too_large = |limit: u64| ApiError::PayloadTooLarge { detail: format!("an upload may be at most {} MiB", limit >> 20) };
    let limit = *allowance;

    while let Some(chunk) =
        field.try_next().await.map_err(|error| ApiError::malformed("broken_upload", format!("the upload broke off: {error}")))?
    {
        size += chunk.len() as u64;
        if size > limit {
            return Err(too_large(limit));
        }
        hasher.update(&chunk);
        if kind.is_none() {
            head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_BYTES - head.len().min(SNIFF_BYTES))]);
            if head.len() >= SNIFF_BYTES {
                kind = Some(judge(&head, &file_name)?);
            }
        }
        file.write_all(&chunk).await.map_err(|error| ApiError::from(Error::internal(error)))?;
    }
    let kind = match kind {
        Some(kind) => kind,
        None => judge(&head, &file_name)?,
    };
    file.flush().await.map_err(|error| ApiError::from(Error::internal(error)))?;
    // Durable before the store takes it and the database refers to it.
    let file = file.into_inner();
    file.sync_all().await.map_err(|error| ApiError::from(Error::internal(error)))?;
    drop(file);
    *allowance -= size;
    partial.0 = None;
    Ok(Staged { path: Some(path), sha256: hasher.finalize().into(), size, kind, file_name })
}

fn judge(head: &[u8], file_name: &str) -> Result<Kind, ApiError> {
    sniff::sniff(head, file_name).ok_or_else(|| ApiError::UnsupportedMediaType {
        detail: format!(
            "{file_name:?} is not a file type evidence may have (PDF, OFD, images, Word, Excel, WPS, zip, MP3, MP4), judged by its content"
        ),
    })
}

/// Reads a small text field of the form.
pub async fn text(field: &mut Field, name: &str) -> Result<String, ApiError> {
    text_up_to(field, name, 4096).await
}

/// Reads a text field of the form of at most `max` bytes.
pub async fn text_up_to(field: &mut Field, name: &str, max: usize) -> Result<String, ApiError> {
    let max_bytes = max;
    let mut bytes = Vec::new();
    while let Some(chunk) =
        field.try_next().await.map_err(|error| ApiError::malformed("broken_upload", format!("the upload broke off: {error}")))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > max_bytes {
            return Err(Error::invalid("field_too_long", format!("the field {name} may have at most {max_bytes} bytes")).into());
        }
    }
    String::from_utf8(bytes).map_err(|_| Error::invalid("invalid_text", format!("the field {name} is not UTF-8 text")).into())
}

/// A form of text fields and files (a notice with its attachments, a reply
/// with its files): the files staged, the text fields read.
#[derive(Debug, Default)]
pub struct FilesForm {
    pub fields: std::collections::BTreeMap<String, String>,
    pub files: Vec<Staged>,
}

/// Reads a multipart form whose text fields are `text_fields` (each with
/// its largest size in bytes) and whose files come in fields named `file`.
pub async fn files_form(
    form: &mut actix_multipart::Multipart,
    staging: &Path,
    mut allowance: u64,
    text_fields: &[(&str, usize)],
) -> Result<FilesForm, ApiError> {
    let mut read = FilesForm::default();
    while let Some(mut field) =
        form.try_next().await.map_err(|error| ApiError::malformed("malformed_body", format!("not a readable multipart form: {error}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = file_name_of(&field)
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .ok_or_else(|| Error::invalid("file_name_required", "every file needs its file name"))?;
            crate::evidence::check_file_name(&file_name)?;
            read.files.push(stage(&mut field, staging, file_name, &mut allowance).await?);
        } else if let Some((_, max)) = text_fields.iter().find(|(known, _)| *known == name) {
            let value = text_up_to(&mut field, &name, *max).await?;
            read.fields.insert(name, value);
        } else {
            return Err(Error::invalid("unknown_field", format!("the form has no field {name:?}")).into());
        }
    }
    Ok(read)
}
