//! The embedded [`BlobStore`] adapter for the local run: one file per object under a
//! directory, and download links signed with HMAC-SHA256 that the local server checks
//! (with [`DirBlobs::verify_link`]) before it serves `/blobs/{key}`: the local twin of S3
//! presigned URLs.
//!
//! Layout of the directory:
//! - `<dir>/<key>`: a stored object (keys may contain `/`, which makes sub-directories);
//! - `<dir>/.tmp/<id>`: a whole object being written, renamed into place when complete, so a
//!   reader never sees half an object;
//! - `<dir>/.uploads/<id>/<key>`: a streamed upload in progress, renamed into place by
//!   [`BlobUpload::complete`] and removed by [`BlobUpload::abort`]; the ones left behind are
//!   what [`BlobStore::incomplete_uploads`] lists.
//!
//! Keys whose first segment is `.tmp` or `.uploads` are refused. The content type is not
//! kept (the local server derives it from the file name it offers).

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::ports::blobs::{check_key, BlobError, BlobStore, BlobUpload, MAX_LINK_TTL};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const UPLOADS: &str = ".uploads";
const TMP: &str = ".tmp";

/// Characters left as they are in the `filename` query parameter (RFC 3986 unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a download link is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    /// The link's `expires` instant has passed.
    #[error("link expired")]
    Expired,
    /// The signature does not match the key, expiry and file name (tampered or foreign link).
    #[error("bad link signature")]
    BadSignature,
}

/// Objects stored as files under a directory: see the module documentation.
#[derive(Debug)]
pub struct DirBlobs {
    dir: PathBuf,
    base_url: String,
    signing_key: Vec<u8>,
    next_id: AtomicU64,
}

impl DirBlobs {
    /// Objects under `dir` (created when missing), links pointing at `base_url` (the local
    /// server, e.g. `http://127.0.0.1:3000`) and signed with `signing_key`.
    pub fn new(dir: impl Into<PathBuf>, base_url: String, signing_key: Vec<u8>) -> Self {
        Self {
            dir: dir.into(),
            base_url: base_url.trim_end_matches('/').to_string(),
            signing_key,
            next_id: AtomicU64::new(0),
        }
    }

    /// The directory the objects live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Checks a download link (the query parameters of `/blobs/{key}`, `filename` already
    /// percent-decoded) at the instant `now`.
    pub fn verify_link(
        &self,
        key: &str,
        expires: i64,
        filename: &str,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LinkError> {
        let given = hex::decode(signature).map_err(|_| LinkError::BadSignature)?;
        self.mac(key, expires, filename)
            .verify_slice(&given)
            .map_err(|_| LinkError::BadSignature)?;
        if now.timestamp() >= expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }

    /// Builds the link as [`BlobStore::presign_get`] does, from an explicit instant.
    pub fn link_at(
        &self,
        key: &str,
        ttl: Duration,
        filename: &str,
        now: DateTime<Utc>,
    ) -> Result<String, BlobError> {
        self.path(key)?;
        let ttl = ttl.min(MAX_LINK_TTL).as_secs() as i64;
        let expires = now.timestamp() + ttl;
        let signature = hex::encode(self.mac(key, expires, filename).finalize().into_bytes());
        Ok(format!(
            "{}/blobs/{key}?expires={expires}&filename={}&signature={signature}",
            self.base_url,
            utf8_percent_encode(filename, QUERY_VALUE)
        ))
    }

    fn mac(&self, key: &str, expires: i64, filename: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this never fails.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(filename.as_bytes());
        mac
    }

    /// The file of an object, after checking its key.
    pub fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        check_key(key)?;
        let first = key.split('/').next().unwrap_or_default();
        if first == UPLOADS || first == TMP {
            return Err(BlobError::InvalidKey(key.chars().take(80).collect()));
        }
        Ok(self.dir.join(key))
    }

    /// A name no other temp file of this process or another one uses.
    fn unique(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        format!("{}-{nanos:x}-{n}", std::process::id())
    }
}

fn unavailable(what: &str, path: &Path, e: std::io::Error) -> BlobError {
    BlobError::Unavailable(format!("{what} {}: {e}", path.display()))
}

/// Whether an I/O error means "there is no such object".
fn is_missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory
    )
}

/// Creates the parent directory of `path`.
async fn make_parent(path: &Path) -> Result<(), BlobError> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| unavailable("cannot create", parent, e))?;
    }
    Ok(())
}

/// Moves a finished temp file to its object path.
async fn publish(from: &Path, to: &Path) -> Result<(), BlobError> {
    make_parent(to).await?;
    tokio::fs::rename(from, to)
        .await
        .map_err(|e| unavailable("cannot move into place", to, e))
}

/// Removes the empty directories between `path` and `root` (after a delete).
async fn prune_dirs(root: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || tokio::fs::remove_dir(d).await.is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[async_trait]
impl BlobStore for DirBlobs {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        let tmp = self.dir.join(TMP).join(self.unique());
        make_parent(&tmp).await?;
        if let Err(e) = tokio::fs::write(&tmp, &body).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(unavailable("cannot write", &tmp, e));
        }
        let moved = publish(&tmp, &path).await;
        if moved.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        moved
    }

    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(e) if is_missing(&e) => Err(BlobError::NotFound),
            Err(e) => Err(unavailable("cannot read", &path, e)),
        }
    }

    async fn start_upload(
        &self,
        key: &str,
        _content_type: &str,
    ) -> Result<Box<dyn BlobUpload>, BlobError> {
        let target = self.path(key)?;
        let root = self.dir.join(UPLOADS).join(self.unique());
        let temp = root.join(key);
        make_parent(&temp).await?;
        let file = tokio::fs::File::create(&temp)
            .await
            .map_err(|e| unavailable("cannot create", &temp, e))?;
        Ok(Box::new(DirUpload {
            root,
            temp,
            target,
            file,
            size: 0,
        }))
    }

    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        filename: &str,
    ) -> Result<String, BlobError> {
        self.link_at(key, ttl, filename, Utc::now())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                prune_dirs(&self.dir, &path).await;
                Ok(())
            }
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(unavailable("cannot delete", &path, e)),
        }
    }

    async fn incomplete_uploads(&self) -> Result<Vec<String>, BlobError> {
        let uploads = self.dir.join(UPLOADS);
        let mut keys = Vec::new();
        let mut dirs = match tokio::fs::read_dir(&uploads).await {
            Ok(dirs) => dirs,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(keys),
            Err(e) => return Err(unavailable("cannot list", &uploads, e)),
        };
        while let Some(entry) = dirs
            .next_entry()
            .await
            .map_err(|e| unavailable("cannot list", &uploads, e))?
        {
            // Each upload directory holds one file, at the path of its key.
            let root = entry.path();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let mut entries = match tokio::fs::read_dir(&dir).await {
                    Ok(entries) => entries,
                    Err(e) if is_missing(&e) => continue,
                    Err(e) => return Err(unavailable("cannot list", &dir, e)),
                };
                while let Some(e) = entries
                    .next_entry()
                    .await
                    .map_err(|e| unavailable("cannot list", &dir, e))?
                {
                    let path = e.path();
                    let is_dir = e.file_type().await.map(|t| t.is_dir()).unwrap_or(false);
                    if is_dir {
                        stack.push(path);
                    } else if let Ok(rel) = path.strip_prefix(&root) {
                        keys.push(rel.to_string_lossy().into_owned());
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// A streamed upload into `<dir>/.uploads/<id>/<key>`.
struct DirUpload {
    root: PathBuf,
    temp: PathBuf,
    target: PathBuf,
    file: tokio::fs::File,
    size: u64,
}

#[async_trait]
impl BlobUpload for DirUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        self.file
            .write_all(&chunk)
            .await
            .map_err(|e| unavailable("cannot write", &self.temp, e))?;
        self.size += chunk.len() as u64;
        Ok(())
    }

    async fn complete(mut self: Box<Self>) -> Result<u64, BlobError> {
        self.file
            .flush()
            .await
            .map_err(|e| unavailable("cannot write", &self.temp, e))?;
        self.file
            .sync_all()
            .await
            .map_err(|e| unavailable("cannot sync", &self.temp, e))?;
        publish(&self.temp, &self.target).await?;
        let _ = tokio::fs::remove_dir_all(&self.root).await;
        Ok(self.size)
    }

    async fn abort(self: Box<Self>) -> Result<(), BlobError> {
        drop(self.file);
        match tokio::fs::remove_dir_all(&self.root).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable("cannot remove", &self.root, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_until_they_expire() {
        let blobs = DirBlobs::new("/nonexistent", "http://x/".into(), b"k".to_vec());
        let now = Utc::now();
        let link = blobs
            .link_at("a/b.csv", Duration::from_secs(60), "r é.csv", now)
            .expect("link");
        assert!(
            link.starts_with("http://x/blobs/a/b.csv?expires="),
            "{link}"
        );
        assert!(link.contains("&filename=r%20%C3%A9.csv&"), "{link}");
        let sig = link.rsplit("signature=").next().expect("signature");
        let exp = now.timestamp() + 60;
        assert_eq!(
            blobs.verify_link("a/b.csv", exp, "r é.csv", sig, now),
            Ok(())
        );
        assert_eq!(
            blobs.verify_link(
                "a/b.csv",
                exp,
                "r é.csv",
                sig,
                now + chrono::Duration::seconds(60)
            ),
            Err(LinkError::Expired)
        );
        assert_eq!(
            blobs.verify_link("a/c.csv", exp, "r é.csv", sig, now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            blobs.verify_link("a/b.csv", exp + 1, "r é.csv", sig, now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            blobs.verify_link("a/b.csv", exp, "r é.csv", "zz", now),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn reserved_directories_are_not_keys() {
        let blobs = DirBlobs::new("/nonexistent", "http://x".into(), b"k".to_vec());
        assert!(matches!(
            blobs.path(".uploads/x"),
            Err(BlobError::InvalidKey(_))
        ));
        assert!(matches!(blobs.path(".tmp"), Err(BlobError::InvalidKey(_))));
        assert!(blobs.path("a/.uploads").is_ok());
    }
}
