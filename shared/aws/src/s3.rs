//! The AWS [`BlobStore`] adapter: one S3 bucket through the official SDK. Streamed uploads
//! are S3 multipart uploads (parts of 8 MiB, the last one smaller), download links are
//! SigV4 presigned GETs that offer the object as an attachment under a file name.

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use bytes::{Bytes, BytesMut};
use domain::ports::blobs::{
    attachment_disposition, check_key, BlobError, BlobStore, BlobUpload, MAX_LINK_TTL,
};
use std::time::Duration;

/// Size of every part of a multipart upload but the last (S3 wants at least 5 MiB).
pub const PART_SIZE: usize = 8 << 20;

/// Objects in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// The blob store on bucket `bucket`.
    pub fn new(client: Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

/// Maps an SDK error to the port's error (the SDK types never leave this module).
fn sdk_error<E, R>(op: &str, err: SdkError<E, R>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(service) if matches!(service.code(), Some("NoSuchKey" | "NotFound")) => {
            BlobError::NotFound
        }
        Some(service) => BlobError::Unavailable(format!(
            "{op}: {}: {}",
            service.code().unwrap_or("Unknown"),
            service.message().unwrap_or_default()
        )),
        None => BlobError::Unavailable(format!("{op}: {}", DisplayErrorContext(&err))),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        check_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error("GetObject", e))?;
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(format!("GetObject body: {e}")))?;
        Ok(body.into_bytes())
    }

    async fn start_upload(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<Box<dyn BlobUpload>, BlobError> {
        check_key(key)?;
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| sdk_error("CreateMultipartUpload", e))?;
        let upload_id = out
            .upload_id
            .ok_or_else(|| BlobError::Unavailable("CreateMultipartUpload: no upload id".into()))?;
        Ok(Box::new(S3Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_string(),
            content_type: content_type.to_string(),
            upload_id,
            buffer: BytesMut::new(),
            parts: Vec::new(),
            size: 0,
        }))
    }

    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        filename: &str,
    ) -> Result<String, BlobError> {
        check_key(key)?;
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_LINK_TTL);
        let config = PresigningConfig::expires_in(ttl)
            .map_err(|e| BlobError::Unavailable(format!("presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(attachment_disposition(filename))
            .presigned(config)
            .await
            .map_err(|e| sdk_error("presign GetObject", e))?;
        Ok(request.uri().to_string())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match sdk_error("DeleteObject", e) {
                BlobError::NotFound => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn incomplete_uploads(&self) -> Result<Vec<String>, BlobError> {
        let mut keys = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut upload_marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_marker.take())
                .send()
                .await
                .map_err(|e| sdk_error("ListMultipartUploads", e))?;
            keys.extend(
                out.uploads()
                    .iter()
                    .filter_map(|u| u.key().map(str::to_string)),
            );
            if out.is_truncated() != Some(true) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_string);
            upload_marker = out.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && upload_marker.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// A multipart upload in progress: bytes are buffered until a whole part is there.
struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    content_type: String,
    upload_id: String,
    buffer: BytesMut,
    parts: Vec<CompletedPart>,
    size: u64,
}

impl S3Upload {
    async fn upload_part(&mut self, body: Bytes) -> Result<(), BlobError> {
        let number = i32::try_from(self.parts.len() + 1)
            .map_err(|_| BlobError::Unavailable("too many parts".into()))?;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error("UploadPart", e))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .build(),
        );
        Ok(())
    }

    async fn abort_upload(&self) -> Result<(), BlobError> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already gone: nothing is left behind, which is what abort promises.
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchUpload") => Ok(()),
            Err(e) => Err(sdk_error("AbortMultipartUpload", e)),
        }
    }

    async fn finish(&mut self) -> Result<u64, BlobError> {
        if self.parts.is_empty() && self.buffer.is_empty() {
            // S3 wants at least one part: an empty object is simply put.
            self.abort_upload().await?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(&self.content_type)
                .body(ByteStream::from(Bytes::new()))
                .send()
                .await
                .map_err(|e| sdk_error("PutObject", e))?;
            return Ok(0);
        }
        if !self.buffer.is_empty() {
            let last = self.buffer.split().freeze();
            self.upload_part(last).await?;
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(self.parts.clone()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("CompleteMultipartUpload", e))?;
        Ok(self.size)
    }
}

#[async_trait]
impl BlobUpload for S3Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        self.size += chunk.len() as u64;
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= PART_SIZE {
            let part = self.buffer.split_to(PART_SIZE).freeze();
            self.upload_part(part).await?;
        }
        Ok(())
    }

    async fn complete(mut self: Box<Self>) -> Result<u64, BlobError> {
        match self.finish().await {
            Ok(size) => Ok(size),
            Err(e) => {
                // Leave no half upload behind (S3 bills stored parts).
                let _ = self.abort_upload().await;
                Err(e)
            }
        }
    }

    async fn abort(self: Box<Self>) -> Result<(), BlobError> {
        self.abort_upload().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_has_an_ascii_fallback_and_the_exact_name() {
        assert_eq!(
            attachment_disposition("rapport été \"x\".csv"),
            "attachment; filename=\"rapport _t_ _x_.csv\"; \
             filename*=UTF-8''rapport%20%C3%A9t%C3%A9%20%22x%22.csv"
        );
    }
}
