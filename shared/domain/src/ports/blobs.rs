//! The blob port: report files, written whole or streamed in parts, and handed out as
//! short-lived signed download links.

use async_trait::async_trait;
use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlobError {
    #[error("no such object")]
    NotFound,
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    /// The service could not be reached or failed; a retry may succeed.
    #[error("blob service unavailable: {0}")]
    Unavailable(String),
    /// This function was built without a blob store (`crate::deps::Wiring`): a wiring
    /// mistake, never retried. Names the function.
    #[error("no blob store is wired into function {0}")]
    NotWired(&'static str),
}

/// Largest lifetime a signed link may be given (S3's own limit for SigV4 is 7 days; the
/// product never needs more than the 24-hour history).
pub const MAX_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

/// Object keys are `[A-Za-z0-9._/-]`, no `..`, no leading `/`, at most 512 bytes: they name
/// files in the embedded adapter and must never escape its directory.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && !key
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.chars().take(80).collect()))
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores a whole object.
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError>;

    /// Reads a whole object.
    async fn get(&self, key: &str) -> Result<Bytes, BlobError>;

    /// Starts a streamed upload (S3 multipart). Nothing is visible under `key` until
    /// [`BlobUpload::complete`]; [`BlobUpload::abort`] leaves nothing behind.
    async fn start_upload(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<Box<dyn BlobUpload>, BlobError>;

    /// A link that downloads the object for `ttl` (capped at [`MAX_LINK_TTL`]), offering it
    /// under `filename`.
    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        filename: &str,
    ) -> Result<String, BlobError>;

    /// Removes an object; removing a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Streamed uploads started and neither completed nor aborted (for leak checks).
    async fn incomplete_uploads(&self) -> Result<Vec<String>, BlobError>;
}

/// A streamed upload in progress. Parts are buffered by the adapter as its service needs
/// (S3 wants parts of at least 5 MiB but the last).
#[async_trait]
pub trait BlobUpload: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError>;
    /// Makes the object visible and returns its size in bytes.
    async fn complete(self: Box<Self>) -> Result<u64, BlobError>;
    async fn abort(self: Box<Self>) -> Result<(), BlobError>;
}

/// Characters kept as they are in an RFC 5987 `filename*` value (`attr-char`).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` offering the object as a download named `filename`: a plain ASCII
/// fallback and the exact UTF-8 name (RFC 6266 / RFC 5987).
pub fn attachment_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(filename, ATTR_CHAR)
    )
}
