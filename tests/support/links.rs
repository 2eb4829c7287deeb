//! A tiny HTTP server that serves `GET /blobs/{key}?expires=..&filename=..&signature=..`
//! from a [`DirBlobs`] after [`DirBlobs::verify_link`], as the local server does: the
//! embedded side of the presigned-link contract.

use domain::ports::blobs::{BlobError, BlobStore};
use local_adapters::dir_blobs::DirBlobs;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::TempDir;

/// A [`DirBlobs`] in a temp dir whose links point at a server running on the test's runtime.
pub struct ServedBlobs {
    pub blobs: Arc<DirBlobs>,
    pub base_url: String,
    _dir: TempDir,
}

/// Creates the blobs and starts serving their links.
pub async fn served_blobs() -> ServedBlobs {
    let dir = TempDir::new("blobs");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
    let blobs = Arc::new(DirBlobs::new(
        dir.path(),
        base_url.clone(),
        b"contract-test-signing-key".to_vec(),
    ));
    let served = blobs.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let blobs = served.clone();
            tokio::spawn(async move {
                let _ = serve(stream, &blobs).await;
            });
        }
    });
    ServedBlobs {
        blobs,
        base_url,
        _dir: dir,
    }
}

/// Decodes `%XX` escapes (and `+` as a space) of a query value.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

async fn serve(mut stream: TcpStream, blobs: &DirBlobs) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (status, body, disposition) = answer(blobs, &target).await;
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(d) = disposition {
        response.push_str(&format!("Content-Disposition: {d}\r\n"));
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}

async fn answer(blobs: &DirBlobs, target: &str) -> (&'static str, Vec<u8>, Option<String>) {
    let bad = |why: &str| ("400 Bad Request", why.as_bytes().to_vec(), None);
    let Some((path, query)) = target.split_once('?') else {
        return bad("no query");
    };
    let Some(key) = path.strip_prefix("/blobs/") else {
        return ("404 Not Found", b"not a blob path".to_vec(), None);
    };
    let mut expires = None;
    let mut filename = None;
    let mut signature = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "expires" => expires = v.and_then(|v| v.parse::<i64>().ok()),
            "filename" => filename = v,
            "signature" => signature = v,
            _ => {}
        }
    }
    let (Some(expires), Some(filename), Some(signature)) = (expires, filename, signature) else {
        return bad("missing parameter");
    };
    if let Err(e) = blobs.verify_link(key, expires, &filename, &signature, chrono::Utc::now()) {
        return ("403 Forbidden", e.to_string().into_bytes(), None);
    }
    match blobs.get(key).await {
        Ok(bytes) => (
            "200 OK",
            bytes.to_vec(),
            Some(domain::ports::blobs::attachment_disposition(&filename)),
        ),
        Err(BlobError::NotFound) => ("404 Not Found", b"no such object".to_vec(), None),
        Err(e) => (
            "500 Internal Server Error",
            e.to_string().into_bytes(),
            None,
        ),
    }
}
