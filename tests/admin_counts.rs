//! The 14-day tag counts (SPEC A3, clarified) at the edges of their window, on both store
//! adapters: the 14 × 24 hours up to now to the minute, or with `tz` the 14 local days ending
//! today in that zone (across a DST change, and with a half-hour offset), in a bounded number
//! of reads; a bad `tz` answers 400 naming it.

#![allow(clippy::unwrap_used)]

use crate::admin::{world_with, World};
use crate::support::events::payment;
use chrono::{DateTime, Duration, Utc};
use domain::admin::consultations::MAX_COUNT_READS;
use domain::ports::Store;
use serde_json::Value;
use std::sync::Arc;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// One booked consultation per start time, `cons_<i>` on its own thread.
fn consultations(starts: &[DateTime<Utc>]) -> Vec<Value> {
    starts
        .iter()
        .enumerate()
        .map(|(i, at)| {
            payment(
                &format!("pay_{i}"),
                "booked_appointment",
                &format!("thr_{i}"),
                "pat_1",
                "prac_a",
                3000,
                600,
            )
            .with("consultation_id", format!("cons_{i}"))
            .event(&format!("e{i}"), at.to_rfc3339().as_str())
        })
        .collect()
}

/// The counts at `now` with this query: total and items read (asserted bounded).
async fn total_at(w: &World, now: DateTime<Utc>, query: &[(&str, &str)]) -> (i64, usize) {
    w.clock.set(now);
    let a = w.get("/admin/consultations/counts", query).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let read = a.body["read"].as_u64().unwrap() as usize;
    assert_eq!(a.read, Some(read));
    assert!(read <= MAX_COUNT_READS, "{read}");
    (a.body["total"].as_i64().unwrap(), read)
}

/// Without a zone: 13 days 23 hours ago counts, 14 days and 1 minute ago does not, and a
/// start later than now (a booked appointment) does not either.
async fn the_past_fourteen_times_twenty_four_hours(store: Arc<dyn Store>) {
    let now = utc("2026-03-05T15:30:00Z");
    let inside = now - Duration::days(13) - Duration::hours(23);
    let edge = now - Duration::days(14);
    let outside = now - Duration::days(14) - Duration::minutes(1);
    let w = world_with(store, &consultations(&[inside, edge, outside])).await;
    let a = {
        w.clock.set(now);
        w.get("/admin/consultations/counts", &[]).await.body
    };
    assert_eq!(a["from"], "2026-02-19T15:30:00Z");
    assert_eq!(a["to"], "2026-03-05T15:31:00Z");
    assert_eq!(a["tz"], Value::Null);
    assert_eq!(a["counts"]["request"], 0);
    // 15 day items, the two edge hours' items.
    assert_eq!(total_at(&w, now, &[]).await, (2, 17));
    // A minute later the edge consultation has left; with seconds, its minute still counts.
    assert_eq!(total_at(&w, now + Duration::minutes(1), &[]).await.0, 1);
    assert_eq!(total_at(&w, now + Duration::seconds(59), &[]).await.0, 2);
    // An hour earlier the one 14 days and 1 minute ago was inside.
    assert_eq!(total_at(&w, now - Duration::hours(1), &[]).await.0, 3);
}

/// Europe/Paris over the end of summer time: the 14 local days ending on 5 November 2025 are
/// 337 hours, from 22:00 UTC on 22 October to 23:00 UTC on 5 November.
async fn fourteen_local_days_across_a_dst_change(store: Arc<dyn Store>) {
    let starts = [
        utc("2025-10-22T21:59:00Z"), // 23:59 on 22 October in Paris: out
        utc("2025-10-22T22:00:00Z"), // 00:00 on 23 October: in
        utc("2025-11-05T22:59:00Z"), // 23:59 on 5 November (CET): in
        utc("2025-11-05T23:00:00Z"), // 00:00 on 6 November: out
    ];
    let w = world_with(store, &consultations(&starts)).await;
    let now = utc("2025-11-05T10:00:00Z");
    w.clock.set(now);
    let a = w
        .get("/admin/consultations/counts", &[("tz", "Europe/Paris")])
        .await
        .body;
    assert_eq!(
        (&a["from"], &a["to"], &a["tz"], &a["total"]),
        (
            &Value::from("2025-10-22T22:00:00Z"),
            &Value::from("2025-11-05T23:00:00Z"),
            &Value::from("Europe/Paris"),
            &Value::from(2)
        )
    );
    // Whole hours: the 15 UTC days' items only.
    assert_eq!(a["read"], 15);
    // In UTC the 14 × 24 hours up to now hold the two October starts.
    assert_eq!(total_at(&w, now, &[]).await.0, 2);
}

/// Asia/Kolkata (+05:30): the local days start at half past the UTC hour, read to the minute
/// from the edge hours' items.
async fn fourteen_local_days_with_a_half_hour_offset(store: Arc<dyn Store>) {
    let starts = [
        utc("2026-02-19T18:29:00Z"),
        utc("2026-02-19T18:30:00Z"),
        utc("2026-03-05T18:29:00Z"),
        utc("2026-03-05T18:30:00Z"),
    ];
    let w = world_with(store, &consultations(&starts)).await;
    let a = total_at(&w, utc("2026-03-05T12:00:00Z"), &[("tz", "Asia/Kolkata")]).await;
    assert_eq!(a, (2, 17));
}

/// A bad or repeated `tz`, or another parameter, answers 400 naming it.
async fn a_bad_zone_names_the_field(store: Arc<dyn Store>) {
    let w = world_with(store, &[]).await;
    for (query, field) in [
        (vec![("tz", "Mars/Olympus")], "tz"),
        (vec![("tz", "UTC"), ("tz", "UTC")], "tz"),
        (vec![("from", "2026-03-01")], "from"),
    ] {
        let a = w.get("/admin/consultations/counts", &query).await;
        assert_eq!((a.status, a.body["field"].as_str()), (400, Some(field)));
    }
}

/// One test per store adapter for each scenario `fn(Arc<dyn Store>)` named, each on an empty
/// store of its own (the embedded one in memory, a fresh table on moto).
macro_rules! on_both_empty_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name(std::sync::Arc::new(
                        local_adapters::embedded_store::EmbeddedStore::in_memory(),
                    ))
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn moto() {
                    super::$name(std::sync::Arc::new(
                        $crate::support::moto::dynamo_store().await,
                    ))
                    .await;
                }
            }
        )+
    };
}
pub(crate) use on_both_empty_stores;

on_both_empty_stores!(
    the_past_fourteen_times_twenty_four_hours,
    fourteen_local_days_across_a_dst_change,
    fourteen_local_days_with_a_half_hour_offset,
    a_bad_zone_names_the_field,
);
