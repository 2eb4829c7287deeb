//! The blob contract: `DirBlobs` (a temp dir, its links served by a test server that checks
//! them like the local server) and `S3Blobs` (a fresh bucket on moto) behave the same.

use crate::support::links::{served_blobs, ServedBlobs};
use crate::support::moto::s3_blobs;
use aws_adapters::s3::{S3Blobs, PART_SIZE};
use bytes::Bytes;
use domain::ports::blobs::{BlobError, BlobStore, MAX_LINK_TTL};
use local_adapters::dir_blobs::LinkError;
use std::time::Duration;

enum Fixture {
    Embedded(ServedBlobs),
    Moto(S3Blobs),
}

impl Fixture {
    fn port(&self) -> &dyn BlobStore {
        match self {
            Fixture::Embedded(served) => served.blobs.as_ref(),
            Fixture::Moto(s3) => s3,
        }
    }
}

contract_tests!(
    embedded: Fixture::Embedded(served_blobs().await),
    moto: Fixture::Moto(s3_blobs().await),
    port: fixture => fixture.port();
    put_get_delete,
    invalid_keys_are_refused,
    streamed_upload_in_parts,
    small_and_empty_streamed_uploads,
    aborted_upload_leaves_nothing,
    presigned_link_downloads_the_object,
);

/// Deterministic bytes that differ at every offset modulo a prime (a misplaced part shows).
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8).wrapping_add(seed))
        .collect()
}

async fn put_get_delete(blobs: &dyn BlobStore) {
    let key = "reports/2024/05/weekly-report.csv";
    assert_eq!(blobs.get(key).await, Err(BlobError::NotFound));
    let body = Bytes::from("id,name\n1,Zoë\n");
    blobs.put(key, body.clone(), "text/csv").await.unwrap();
    assert_eq!(blobs.get(key).await, Ok(body));

    // Overwrite, binary content.
    let binary = Bytes::from(pattern(70_000, 3));
    blobs
        .put(key, binary.clone(), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(blobs.get(key).await, Ok(binary));

    // A neighbour and a prefix of the key are other objects (or none).
    assert_eq!(
        blobs.get("reports/2024/05/weekly-report.cs").await,
        Err(BlobError::NotFound)
    );
    assert_eq!(blobs.get("reports/2024/05").await, Err(BlobError::NotFound));
    blobs
        .put(
            "reports/2024/05/other.csv",
            Bytes::from_static(b"x"),
            "text/csv",
        )
        .await
        .unwrap();

    blobs.delete(key).await.unwrap();
    assert_eq!(blobs.get(key).await, Err(BlobError::NotFound));
    blobs.delete(key).await.unwrap();
    blobs.delete("never/there.csv").await.unwrap();
    assert_eq!(
        blobs.get("reports/2024/05/other.csv").await,
        Ok(Bytes::from_static(b"x"))
    );

    // Empty object.
    blobs
        .put("empty", Bytes::new(), "text/plain")
        .await
        .unwrap();
    assert_eq!(blobs.get("empty").await, Ok(Bytes::new()));
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![]));
}

async fn invalid_keys_are_refused(blobs: &dyn BlobStore) {
    let long = "a".repeat(513);
    let bad = [
        "",
        "/abs",
        "a/../b",
        "..",
        "a//b",
        "a/",
        "./a",
        "a b",
        "é.csv",
        "a\\b",
        "a?b",
        "a%2Fb",
        long.as_str(),
    ];
    for key in bad {
        let invalid = |r: Result<(), BlobError>, op: &str| {
            assert!(
                matches!(r, Err(BlobError::InvalidKey(_))),
                "{op} {key:?}: {r:?}"
            );
        };
        invalid(
            blobs.put(key, Bytes::from_static(b"x"), "text/plain").await,
            "put",
        );
        invalid(blobs.get(key).await.map(|_| ()), "get");
        invalid(blobs.delete(key).await, "delete");
        invalid(
            blobs.start_upload(key, "text/plain").await.map(|_| ()),
            "start_upload",
        );
        invalid(
            blobs
                .presign_get(key, Duration::from_secs(60), "x.csv")
                .await
                .map(|_| ()),
            "presign_get",
        );
    }
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![]));
    // The longest valid key is fine.
    let longest = format!("{}/{}", "b".repeat(200), "c".repeat(200));
    blobs
        .put(&longest, Bytes::from_static(b"ok"), "text/plain")
        .await
        .unwrap();
    assert_eq!(blobs.get(&longest).await, Ok(Bytes::from_static(b"ok")));
}

async fn streamed_upload_in_parts(blobs: &dyn BlobStore) {
    let key = "exports/big.csv";
    let total = 2 * PART_SIZE + 12_345;
    let data = pattern(total, 7);
    let mut upload = blobs.start_upload(key, "text/csv").await.unwrap();
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![key.to_string()]));
    // Uneven chunks that straddle part boundaries.
    let mut at = 0;
    let sizes = [1, 1_000_000, 3_333_333, 7, 5_000_000];
    let mut i = 0;
    while at < total {
        let n = sizes[i % sizes.len()].min(total - at);
        upload
            .write(Bytes::copy_from_slice(&data[at..at + n]))
            .await
            .unwrap();
        at += n;
        i += 1;
    }
    // Invisible until complete, even once whole parts have gone out.
    assert_eq!(blobs.get(key).await, Err(BlobError::NotFound));
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![key.to_string()]));
    assert_eq!(upload.complete().await, Ok(total as u64));
    let got = blobs.get(key).await.unwrap();
    assert_eq!(got.len(), total);
    assert!(got == data, "the object reads back whole and in order");
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![]));
}

async fn small_and_empty_streamed_uploads(blobs: &dyn BlobStore) {
    let mut small = blobs
        .start_upload("s/small.txt", "text/plain")
        .await
        .unwrap();
    small.write(Bytes::from_static(b"hello ")).await.unwrap();
    small.write(Bytes::from_static(b"")).await.unwrap();
    small.write(Bytes::from_static(b"world")).await.unwrap();
    assert_eq!(small.complete().await, Ok(11));
    assert_eq!(
        blobs.get("s/small.txt").await,
        Ok(Bytes::from_static(b"hello world"))
    );

    let empty = blobs
        .start_upload("s/empty.txt", "text/plain")
        .await
        .unwrap();
    assert_eq!(empty.complete().await, Ok(0));
    assert_eq!(blobs.get("s/empty.txt").await, Ok(Bytes::new()));

    // Exactly one part: the last part is a whole one.
    let exact = pattern(PART_SIZE, 1);
    let mut one = blobs
        .start_upload("s/exact.bin", "application/octet-stream")
        .await
        .unwrap();
    one.write(Bytes::from(exact.clone())).await.unwrap();
    assert_eq!(one.complete().await, Ok(PART_SIZE as u64));
    assert!(blobs.get("s/exact.bin").await.unwrap() == exact);

    // Replacing an existing object by a streamed upload.
    let mut again = blobs
        .start_upload("s/small.txt", "text/plain")
        .await
        .unwrap();
    again.write(Bytes::from_static(b"v2")).await.unwrap();
    assert_eq!(
        blobs.get("s/small.txt").await,
        Ok(Bytes::from_static(b"hello world")),
        "the old object stays until complete"
    );
    assert_eq!(again.complete().await, Ok(2));
    assert_eq!(
        blobs.get("s/small.txt").await,
        Ok(Bytes::from_static(b"v2"))
    );
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![]));
}

async fn aborted_upload_leaves_nothing(blobs: &dyn BlobStore) {
    let key = "exports/aborted.csv";
    let mut upload = blobs.start_upload(key, "text/csv").await.unwrap();
    // More than a part, so one part has been stored when the upload is aborted.
    upload
        .write(Bytes::from(pattern(PART_SIZE + 1000, 9)))
        .await
        .unwrap();
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![key.to_string()]));
    upload.abort().await.unwrap();
    assert_eq!(blobs.incomplete_uploads().await, Ok(vec![]));
    assert_eq!(blobs.get(key).await, Err(BlobError::NotFound));

    // Aborting right after the start; and an upload left open is listed.
    let upload = blobs.start_upload(key, "text/csv").await.unwrap();
    upload.abort().await.unwrap();
    let _open = blobs
        .start_upload("exports/leaked.csv", "text/csv")
        .await
        .unwrap();
    assert_eq!(
        blobs.incomplete_uploads().await,
        Ok(vec!["exports/leaked.csv".to_string()])
    );
    assert_eq!(
        blobs.get("exports/leaked.csv").await,
        Err(BlobError::NotFound)
    );
}

/// Reads a query parameter of a URL (raw, not decoded).
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

async fn presigned_link_downloads_the_object(blobs: &dyn BlobStore) {
    let key = "reports/r-1/report.xlsx";
    let body = Bytes::from(pattern(300_000, 5));
    blobs
        .put(
            key,
            body.clone(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .await
        .unwrap();
    let filename = "Rapport été 2024.xlsx";
    let link = blobs
        .presign_get(key, Duration::from_secs(300), filename)
        .await
        .unwrap();
    let response = reqwest::get(&link).await.unwrap();
    assert_eq!(response.status(), 200, "GET {link}");
    let disposition = response
        .headers()
        .get("content-disposition")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    assert_eq!(
        disposition.as_deref(),
        Some(domain::ports::blobs::attachment_disposition(filename).as_str()),
        "the download is offered as an attachment under the file name"
    );
    assert!(response.bytes().await.unwrap() == body);

    // The lifetime is capped at MAX_LINK_TTL.
    let long = blobs
        .presign_get(key, Duration::from_secs(7 * 24 * 3600), filename)
        .await
        .unwrap();
    let lifetime = match query_param(&long, "X-Amz-Expires") {
        Some(secs) => secs.parse::<u64>().unwrap(),
        None => {
            let expires: i64 = query_param(&long, "expires").unwrap().parse().unwrap();
            (expires - chrono::Utc::now().timestamp()) as u64
        }
    };
    let cap = MAX_LINK_TTL.as_secs();
    assert!(
        lifetime <= cap && lifetime + 5 >= cap,
        "lifetime {lifetime}"
    );

    // A link to a missing object does not download anything.
    let missing = blobs
        .presign_get("reports/none.xlsx", Duration::from_secs(60), "x.xlsx")
        .await
        .unwrap();
    // (S3 answers 404, or 403 when the signer may not list the bucket; moto answers 403.)
    let status = reqwest::get(&missing).await.unwrap().status();
    assert!(status == 404 || status == 403, "GET {missing}: {status}");
}

/// The embedded links are checked by `verify_link`: expired, tampered and foreign links
/// are refused (by the function, and so by the server).
#[tokio::test]
async fn embedded_links_refuse_expired_and_tampered_links() {
    let served = served_blobs().await;
    let blobs = served.blobs.as_ref();
    let key = "reports/r-2/report.csv";
    blobs
        .put(key, Bytes::from_static(b"a,b\n"), "text/csv")
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let link = blobs
        .link_at(key, Duration::from_secs(60), "r.csv", now)
        .unwrap();
    assert_eq!(
        link,
        format!(
            "{}/blobs/{key}?expires={}&filename=r.csv&signature={}",
            served.base_url,
            now.timestamp() + 60,
            query_param(&link, "signature").unwrap()
        )
    );
    let signature = query_param(&link, "signature").unwrap();
    let expires = now.timestamp() + 60;
    assert_eq!(
        blobs.verify_link(key, expires, "r.csv", &signature, now),
        Ok(())
    );
    let later = now + chrono::Duration::seconds(61);
    assert_eq!(
        blobs.verify_link(key, expires, "r.csv", &signature, later),
        Err(LinkError::Expired)
    );
    for (k, e, f, s) in [
        (
            "reports/r-2/other.csv",
            expires,
            "r.csv",
            signature.as_str(),
        ),
        (key, expires + 3600, "r.csv", signature.as_str()),
        (key, expires, "evil.exe", signature.as_str()),
        (key, expires, "r.csv", "00"),
        (key, expires, "r.csv", "not hex"),
    ] {
        assert_eq!(
            blobs.verify_link(k, e, f, s, now),
            Err(LinkError::BadSignature),
            "{k} {e} {f} {s}"
        );
    }

    // Over HTTP: the good link works, tampered and expired ones are refused.
    assert_eq!(reqwest::get(&link).await.unwrap().status(), 200);
    let tampered = link.replace("filename=r.csv", "filename=x.csv");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    let expired = blobs
        .link_at(
            key,
            Duration::from_secs(60),
            "r.csv",
            now - chrono::Duration::seconds(120),
        )
        .unwrap();
    let response = reqwest::get(&expired).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.text().await.unwrap(), "link expired");

    // Another signing key does not verify this store's links.
    let other = local_adapters::dir_blobs::DirBlobs::new(
        served.blobs.dir(),
        served.base_url.clone(),
        b"another key".to_vec(),
    );
    assert_eq!(
        other.verify_link(key, expires, "r.csv", &signature, now),
        Err(LinkError::BadSignature)
    );
}
