//! What ingest keeps for the admin area, on both store adapters: the consultation tags and the
//! per-day tag counters do not depend on the order events arrive in (the admin fixture
//! forwards and backwards give the same items), and a replay changes nothing. And the CSV
//! stream: an export larger than one S3 part goes out in several parts (moto S3 and the
//! directory adapter) and reads back byte for byte as the in-memory document.

#![allow(clippy::unwrap_used)]

use crate::admin::fixture;
use crate::support::moto::{dynamo_store, s3_blobs};
use crate::support::TempDir;
use chrono::{DateTime, Utc};
use domain::events::ingest::ingest_batch;
use domain::export::cells::Cell;
use domain::export::csv::{to_csv, CsvStream};
use domain::ports::store::{query_all, Index, Item, Query, SkRange, Store};
use domain::ports::{BlobError, BlobStore};
use domain::readmodels::{lists, Consultation};
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use std::sync::Arc;

fn at() -> DateTime<Utc> {
    "2026-03-05T12:00:00Z".parse().unwrap()
}

/// The consultations' tags and every per-day tag count of March 2026 (`<day>#<tag>`).
async fn tag_state(store: &dyn Store) -> (Vec<(String, Vec<String>)>, Vec<(String, Option<i64>)>) {
    let consultations = query_all(store, &Query::partition(Index::Gsi1, lists::CONSULTATIONS))
        .await
        .unwrap();
    let tags = consultations
        .iter()
        .map(|i: &Item| {
            let c: Consultation = i.decode().unwrap();
            (
                c.consultation_id,
                c.tags.iter().map(|t| t.as_str().to_string()).collect(),
            )
        })
        .collect();
    let days = query_all(
        store,
        &Query::partition(Index::Primary, "CONSULT_TAGS#2026-03").range(SkRange::All),
    )
    .await
    .unwrap();
    let mut counts = Vec::new();
    for day in days {
        if let Some(totals) = day.body.get("totals").and_then(|t| t.as_object()) {
            for (tag, n) in totals {
                counts.push((format!("{}#{tag}", day.sk), n.as_i64()));
            }
        }
    }
    (tags, counts)
}

async fn tags_do_not_depend_on_arrival_order(forward: Arc<dyn Store>, backward: Arc<dyn Store>) {
    let events = fixture();
    let r = ingest_batch(&*forward, at(), &events).await.unwrap();
    assert_eq!(r.accepted, events.len());
    let mut reversed = events.clone();
    reversed.reverse();
    let r = ingest_batch(&*backward, at(), &reversed).await.unwrap();
    assert_eq!(r.accepted, events.len(), "{:?}", r.results);
    let a = tag_state(&*forward).await;
    assert_eq!(
        a,
        (
            vec![
                (
                    "cons_1".into(),
                    vec![
                        "concluded".into(),
                        "diagnosis".into(),
                        "waiting_answer".into()
                    ]
                ),
                ("cons_2".into(), vec!["cancelled".into(), "request".into()]),
            ],
            vec![
                ("2026-03-02#09/all".into(), Some(2)),
                ("2026-03-02#09/cancelled".into(), Some(1)),
                ("2026-03-02#09/concluded".into(), Some(1)),
                ("2026-03-02#09/diagnosis".into(), Some(1)),
                ("2026-03-02#09/request".into(), Some(1)),
                ("2026-03-02#09/waiting_answer".into(), Some(1)),
                ("2026-03-02#all".into(), Some(2)),
                ("2026-03-02#cancelled".into(), Some(1)),
                ("2026-03-02#concluded".into(), Some(1)),
                ("2026-03-02#diagnosis".into(), Some(1)),
                ("2026-03-02#request".into(), Some(1)),
                ("2026-03-02#waiting_answer".into(), Some(1)),
                ("2026-03-02T09#05/all".into(), Some(1)),
                ("2026-03-02T09#05/concluded".into(), Some(1)),
                ("2026-03-02T09#05/diagnosis".into(), Some(1)),
                ("2026-03-02T09#05/waiting_answer".into(), Some(1)),
                ("2026-03-02T09#22/all".into(), Some(1)),
                ("2026-03-02T09#22/cancelled".into(), Some(1)),
                ("2026-03-02T09#22/request".into(), Some(1)),
            ]
        )
    );
    let b = tag_state(&*backward).await;
    // Backwards, counts pass through other tags and come back to zero; zeros aside, equal.
    let nonzero = |s: (Vec<(String, Vec<String>)>, Vec<(String, Option<i64>)>)| {
        (
            s.0,
            s.1.into_iter()
                .filter(|(_, n)| *n != Some(0))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(nonzero(b), a);
    // A replay changes nothing.
    let r = ingest_batch(&*forward, at(), &events).await.unwrap();
    assert_eq!(r.duplicates, events.len());
    assert_eq!(tag_state(&*forward).await, a);
}

mod tags_do_not_depend_on_arrival_order {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        tags_do_not_depend_on_arrival_order(
            Arc::new(EmbeddedStore::in_memory()),
            Arc::new(EmbeddedStore::in_memory()),
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moto() {
        tags_do_not_depend_on_arrival_order(
            Arc::new(dynamo_store().await),
            Arc::new(dynamo_store().await),
        )
        .await;
    }
}

/// 60,000 rows of about 120 bytes: more than one 5 MiB part and several 1 MiB flushes.
async fn a_large_csv_streams_in_parts(blobs: Arc<dyn BlobStore>) {
    let header = ["n", "name", "when", "amount"];
    let rows: Vec<Vec<Cell>> = (0..60_000i64)
        .map(|n| {
            vec![
                Cell::Int(n),
                Cell::text(format!("Zoë, row {n} {}", "x".repeat(60))),
                Cell::Time(at()),
                Cell::Decimal {
                    units: -n,
                    scale: 2,
                },
            ]
        })
        .collect();
    let upload = blobs
        .start_upload("exports/admin/test/big.csv", "text/csv")
        .await
        .unwrap();
    let mut stream = CsvStream::new(upload, &header, chrono_tz::Tz::Europe__Paris, true).unwrap();
    for row in &rows {
        stream.write_row(row).await.unwrap();
    }
    let (n, bytes) = stream.finish().await.unwrap();
    let expected = to_csv(&header, &rows, chrono_tz::Tz::Europe__Paris, true);
    assert!(expected.len() > 6 * 1024 * 1024, "{}", expected.len());
    assert_eq!((n, bytes), (60_000, expected.len() as u64));
    let stored = blobs.get("exports/admin/test/big.csv").await.unwrap();
    assert!(
        stored.as_ref() == expected.as_slice(),
        "the stored CSV differs"
    );
    assert!(blobs.incomplete_uploads().await.unwrap().is_empty());
}

/// Rows handed in one by one and chunks made on the workers join in the order they were handed
/// in; a document without rows is its header; a chunk that fails fails the stream and leaves
/// no object and no upload behind.
async fn csv_chunks_keep_their_order(blobs: Arc<dyn BlobStore>) {
    let header = ["n", "name", "when"];
    let tz = chrono_tz::Tz::America__New_York;
    let row = |n: i64| {
        vec![
            Cell::Int(n),
            Cell::text(format!("=row, \"{n}\"")),
            Cell::Time(at() + chrono::Duration::seconds(n * 97)),
        ]
    };
    let upload = blobs
        .start_upload("exports/admin/test/chunks.csv", "text/csv")
        .await
        .unwrap();
    let mut stream = CsvStream::new(upload, &header, tz, false).unwrap();
    let mut expected_rows = Vec::new();
    for k in 0..40i64 {
        // A few single rows (fewer than a batch, then more), then a chunk of 50.
        for n in 0..(k * 13) {
            let r = row(-(k * 1000 + n));
            stream.write_row(&r).await.unwrap();
            expected_rows.push(r);
        }
        let chunk: Vec<Vec<Cell>> = (0..50).map(|n| row(k * 1000 + n)).collect();
        expected_rows.extend(chunk.iter().cloned());
        stream
            .write_chunk(move |c| {
                for r in &chunk {
                    c.write_row(r).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }
    let (n, bytes) = stream.finish().await.unwrap();
    let expected = to_csv(&header, &expected_rows, tz, false);
    assert_eq!(
        (n, bytes),
        (expected_rows.len() as u64, expected.len() as u64)
    );
    assert_eq!(n, 40 * 50 + 13 * (39 * 40 / 2));
    let stored = blobs.get("exports/admin/test/chunks.csv").await.unwrap();
    assert!(
        stored.as_ref() == expected.as_slice(),
        "the chunks' order differs"
    );

    // No rows: the mark and the header.
    let upload = blobs
        .start_upload("exports/admin/test/empty.csv", "text/csv")
        .await
        .unwrap();
    let stream = CsvStream::new(upload, &header, tz, true).unwrap();
    assert_eq!(stream.finish().await.unwrap(), (0, 16));
    let stored = blobs.get("exports/admin/test/empty.csv").await.unwrap();
    assert_eq!(stored.as_ref(), b"\xEF\xBB\xBFn,name,when\r\n");

    // A failing chunk between good ones: the stream fails, nothing is left.
    let upload = blobs
        .start_upload("exports/admin/test/failed.csv", "text/csv")
        .await
        .unwrap();
    let mut stream = CsvStream::new(upload, &header, tz, true).unwrap();
    stream.write_row(&row(1)).await.unwrap();
    stream
        .write_chunk(|_| Err("item 7 does not decode".to_string()))
        .await
        .unwrap();
    let mut failed = None;
    for n in 0..2000 {
        if let Err(e) = stream.write_row(&row(n)).await {
            failed = Some(e);
            break;
        }
    }
    let failed = match failed {
        Some(e) => {
            stream.abort().await;
            e
        }
        None => stream.finish().await.unwrap_err(),
    };
    assert!(
        failed.to_string().contains("item 7 does not decode"),
        "{failed}"
    );
    assert!(matches!(
        blobs.get("exports/admin/test/failed.csv").await,
        Err(BlobError::NotFound)
    ));
    assert!(blobs.incomplete_uploads().await.unwrap().is_empty());
}

/// A module named after a test function, running it on the local run's blob store (a
/// directory) and on moto's S3.
macro_rules! on_both_blob_stores {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dir_blobs() {
                let dir = TempDir::new(stringify!($name));
                super::$name(Arc::new(DirBlobs::new(
                    dir.path(),
                    "http://127.0.0.1:1".into(),
                    vec![1; 32],
                )))
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn moto_s3() {
                super::$name(Arc::new(s3_blobs().await)).await;
            }
        }
    };
}

on_both_blob_stores!(a_large_csv_streams_in_parts);
on_both_blob_stores!(csv_chunks_keep_their_order);
