//! Where evidence files live: the local file system by default, or any
//! S3-compatible object store. Objects are named by the SHA-256 of their
//! content, so the same file is stored once.
//!
//! Uploads are first streamed to a staging file on local disk (hashed and
//! counted on the way, then fsynced), and only then moved into the store:
//! renamed in place locally, or uploaded in parts to S3. An object is
//! referenced by the database only after it is completely stored, so an
//! interrupted upload leaves at most a staging file (removed at the next
//! start) or an unreferenced object (reported by `duban evidence verify`).

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Where objects go.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// A directory on this machine.
    Local { root: PathBuf },
    /// An S3-compatible object store; uploads are staged in `staging` first.
    S3 {
        endpoint: Option<String>,
        bucket: String,
        region: String,
        access_key_id: String,
        secret_access_key: String,
        prefix: String,
        allow_http: bool,
        staging: PathBuf,
    },
}

#[derive(Debug)]
pub enum Storage {
    Local { root: PathBuf },
    S3 { store: Arc<dyn ObjectStore>, prefix: String, staging: PathBuf },
}

fn other(error: impl std::fmt::Display) -> io::Error {
    io::Error::other(error.to_string())
}

/// An object's key: the hex SHA-256, fanned out over two directory levels.
fn object_name(sha256_hex: &str) -> String {
    format!("{}/{}/{}", &sha256_hex[..2], &sha256_hex[2..4], sha256_hex)
}

impl Storage {
    pub fn open(config: &StorageConfig) -> io::Result<Storage> {
        let storage = match config {
            StorageConfig::Local { root } => {
                std::fs::create_dir_all(root.join("objects"))?;
                Storage::Local { root: root.clone() }
            }
            StorageConfig::S3 { endpoint, bucket, region, access_key_id, secret_access_key, prefix, allow_http, staging } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key)
                    .with_allow_http(*allow_http);
                if let Some(endpoint) = endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                Storage::S3 { store: Arc::new(builder.build().map_err(other)?), prefix: prefix.clone(), staging: staging.clone() }
            }
        };
        std::fs::create_dir_all(storage.staging_dir())?;
        Ok(storage)
    }

    /// Where uploads are staged: on the same file system as the objects
    /// when local, so that storing is a rename.
    pub fn staging_dir(&self) -> PathBuf {
        match self {
            Storage::Local { root } => root.join("staging"),
            Storage::S3 { staging, .. } => staging.clone(),
        }
    }

    /// Removes staging files left by uploads that never finished.
    pub fn clean_staging(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.staging_dir())? {
            std::fs::remove_file(entry?.path())?;
            removed += 1;
        }
        Ok(removed)
    }

    fn local_path(root: &Path, sha256_hex: &str) -> PathBuf {
        root.join("objects").join(object_name(sha256_hex))
    }

    fn s3_path(prefix: &str, sha256_hex: &str) -> object_store::path::Path {
        object_store::path::Path::from(format!("{prefix}{}", object_name(sha256_hex)))
    }

    /// Moves a complete, fsynced staging file into the store under its
    /// hash. An object already there (the same content) is kept, unless
    /// `replace`: an object found corrupted is replaced by a good copy.
    pub async fn store(&self, sha256_hex: &str, staged: &Path, replace: bool) -> io::Result<()> {
        match self {
            Storage::Local { root } => {
                let target = Self::local_path(root, sha256_hex);
                if !replace && tokio::fs::try_exists(&target).await? {
                    return tokio::fs::remove_file(staged).await;
                }
                let parent = target.parent().expect("objects live in a directory");
                tokio::fs::create_dir_all(parent).await?;
                tokio::fs::rename(staged, &target).await?;
                // The rename itself must survive a crash.
                let parent = parent.to_owned();
                tokio::task::spawn_blocking(move || std::fs::File::open(parent)?.sync_all()).await.map_err(other)?
            }
            Storage::S3 { store, prefix, .. } => {
                let location = Self::s3_path(prefix, sha256_hex);
                if !replace && store.head(&location).await.is_ok() {
                    return tokio::fs::remove_file(staged).await;
                }
                let upload = store.put_multipart(&location).await.map_err(other)?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, 8 << 20);
                let mut file = tokio::fs::File::open(staged).await?;
                let mut buffer = vec![0u8; 1 << 20];
                loop {
                    let read = file.read(&mut buffer).await?;
                    if read == 0 {
                        break;
                    }
                    writer.wait_for_capacity(2).await.map_err(other)?;
                    writer.write(&buffer[..read]);
                }
                writer.finish().await.map_err(other)?;
                tokio::fs::remove_file(staged).await
            }
        }
    }

    /// The object's bytes, or the bytes in `range`, as a stream.
    pub async fn read(&self, sha256_hex: &str, range: Option<Range<u64>>) -> io::Result<BoxStream<'static, io::Result<Bytes>>> {
        match self {
            Storage::Local { root } => {
                let mut file = tokio::fs::File::open(Self::local_path(root, sha256_hex)).await?;
                let (start, length) = match &range {
                    Some(range) => (range.start, range.end - range.start),
                    None => (0, file.metadata().await?.len()),
                };
                tokio::io::AsyncSeekExt::seek(&mut file, io::SeekFrom::Start(start)).await?;
                let reader = file.take(length);
                Ok(tokio_util_stream(reader))
            }
            Storage::S3 { store, prefix, .. } => {
                let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
                let result = store.get_opts(&Self::s3_path(prefix, sha256_hex), options).await.map_err(|error| match error {
                    object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, error.to_string()),
                    other_error => other(other_error),
                })?;
                Ok(result.into_stream().map_err(other).boxed())
            }
        }
    }

    /// The SHA-256 and size of what is actually stored for an object.
    pub async fn rehash(&self, sha256_hex: &str) -> io::Result<([u8; 32], u64)> {
        let mut stream = self.read(sha256_hex, None).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hasher.finalize().into(), size))
    }

    /// The hex names of every stored object.
    pub async fn list(&self) -> io::Result<Vec<String>> {
        match self {
            Storage::Local { root } => {
                let mut names = Vec::new();
                for first in std::fs::read_dir(root.join("objects"))? {
                    for second in std::fs::read_dir(first?.path())? {
                        for object in std::fs::read_dir(second?.path())? {
                            names.push(object?.file_name().to_string_lossy().into_owned());
                        }
                    }
                }
                names.sort();
                Ok(names)
            }
            Storage::S3 { store, prefix, .. } => {
                let listing_prefix = object_store::path::Path::from(prefix.trim_end_matches('/'));
                let prefix_filter = (!prefix.is_empty()).then_some(&listing_prefix);
                let objects: Vec<_> = store.list(prefix_filter).try_collect().await.map_err(other)?;
                let mut names: Vec<String> = objects.iter().filter_map(|meta| meta.location.filename().map(str::to_owned)).collect();
                names.sort();
                Ok(names)
            }
        }
    }

    /// Overwrites an object's content, for tests that prove tampering is found.
    pub async fn overwrite_for_test(&self, sha256_hex: &str, content: &[u8]) -> io::Result<()> {
        match self {
            Storage::Local { root } => tokio::fs::write(Self::local_path(root, sha256_hex), content).await,
            Storage::S3 { store, prefix, .. } => {
                store.put(&Self::s3_path(prefix, sha256_hex), Bytes::copy_from_slice(content).into()).await.map(drop).map_err(other)
            }
        }
    }
}

/// A byte stream from an async reader, in 256 KiB chunks.
fn tokio_util_stream<R: tokio::io::AsyncRead + Unpin + Send + 'static>(reader: R) -> BoxStream<'static, io::Result<Bytes>> {
    futures_util::stream::unfold((reader, vec![0u8; 256 << 10]), |(mut reader, mut buffer)| async move {
        match reader.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => Some((Ok(Bytes::copy_from_slice(&buffer[..read])), (reader, buffer))),
            Err(error) => Some((Err(error), (reader, buffer))),
        }
    })
    .boxed()
}
