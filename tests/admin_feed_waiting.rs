//! Waiting answer with a clock (SPEC A11) on both store adapters: each Feed row says since
//! when a patient has waited; a waiting thread's clock applies the shortest commitment of its
//! practitioners (`response_time_hours` of `practitioner.upserted`) or the platform default,
//! and says whether the answer is overdue; `overdue=true` and `sort=waiting` list the waiting
//! threads longest waiting first from their own list; a reply takes a thread off it; the
//! overdue count sits beside the 14-day counts; bad values answer 400 naming the field, and a
//! commitment out of its bounds refuses the event.

#![allow(clippy::unwrap_used)]

use crate::admin::{world_with, World};
use crate::admin_counts::on_both_empty_stores;
use crate::support::events::{practitioner, text_message, thread_created};
use chrono::{DateTime, Duration, Utc};
use domain::events::ingest::{ingest_batch, EventStatus};
use domain::ports::Store;
use serde_json::{json, Value};
use std::sync::Arc;

/// 2026-03-02T09:00:00Z plus `m` minutes.
fn t(m: i64) -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(m)
}

fn at(m: i64) -> String {
    t(m).to_rfc3339()
}

fn ingest_now() -> DateTime<Utc> {
    "2026-03-05T12:00:00Z".parse().unwrap()
}

/// prac_a commits to 2 hours, prac_b to none (the default, 24). Waiting: thr_1 (prac_a)
/// since 0, thr_2 (prac_b) since 10, thr_3 (both) since 70 (its first message was answered);
/// thr_4 answered.
fn history() -> Vec<Value> {
    let msg = |thread: &str, id: &str, sender: &str, role: &str, m: i64| {
        text_message(thread, id, sender, role, "eA==").event(&format!("e-{id}"), at(m).as_str())
    };
    vec![
        practitioner("prac_a", "Dr A", &["Dermatology"], "approved", 4500, false)
            .with("response_time_hours", 2)
            .event("e-pa", at(-100).as_str()),
        practitioner("prac_b", "Dr B", &["Cardiology"], "approved", 4500, false)
            .event("e-pb", at(-100).as_str()),
        thread_created("thr_1", &["pat_1"], &["prac_a"]).event("e-t1", at(-50).as_str()),
        thread_created("thr_2", &["pat_2"], &["prac_b"]).event("e-t2", at(-50).as_str()),
        thread_created("thr_3", &["pat_3"], &["prac_a", "prac_b"]).event("e-t3", at(-50).as_str()),
        thread_created("thr_4", &["pat_4"], &["prac_b"]).event("e-t4", at(-50).as_str()),
        msg("thr_1", "m1", "pat_1", "patient", 0),
        msg("thr_1", "m2", "pat_1", "patient", 20),
        msg("thr_2", "m3", "pat_2", "patient", 10),
        msg("thr_3", "m4", "pat_3", "patient", 5),
        msg("thr_3", "m5", "prac_b", "practitioner", 6),
        msg("thr_3", "m6", "pat_3", "patient", 70),
        msg("thr_4", "m7", "pat_4", "patient", 1),
        msg("thr_4", "m8", "prac_b", "practitioner", 2),
    ]
}

/// A row's thread id, waiting since (minutes), commitment and overdue.
type Clock = (String, Option<i64>, Option<u64>, Option<bool>);

/// The [`Clock`] of each row.
fn clocks(rows: &Value) -> Vec<Clock> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let since = r["waiting_since"]
                .as_str()
                .map(|s| (s.parse::<DateTime<Utc>>().unwrap() - t(0)).num_minutes());
            (
                r["thread_id"].as_str().unwrap().to_string(),
                since,
                r["clock"]["response_time_hours"].as_u64(),
                r["clock"]["overdue"].as_bool(),
            )
        })
        .collect()
}

/// The [`Clock`] of a waiting row.
fn row(id: &str, since: i64, hours: u64, overdue: bool) -> Clock {
    (id.to_string(), Some(since), Some(hours), Some(overdue))
}

async fn waiting_threads_carry_a_clock(store: Arc<dyn Store>) {
    let w: World = world_with(store, &history()).await;
    // A minute before thr_1's two hours and a half: thr_1 (prac_a's 2 hours) is overdue;
    // thr_3 (prac_a's too) and thr_2 (the default 24 hours) are not.
    w.clock.set(t(149));
    assert_eq!(
        clocks(&w.rows("/admin/feed", &[]).await),
        [
            row("thr_3", 70, 2, false),
            row("thr_1", 0, 2, true),
            row("thr_2", 10, 24, false),
            ("thr_4".to_string(), None, None, None),
        ]
    );
    let a = w.get("/admin/feed", &[("limit", "1")]).await;
    assert_eq!(
        a.body["items"][0]["clock"],
        json!({"response_time_hours": 2, "due_at": "2026-03-02T12:10:00Z", "overdue": false})
    );
    // Longest waiting first, the waiting threads only.
    assert_eq!(
        clocks(&w.rows("/admin/feed", &[("sort", "waiting")]).await),
        [
            row("thr_1", 0, 2, true),
            row("thr_2", 10, 24, false),
            row("thr_3", 70, 2, false)
        ]
    );
    let overdue = w.get("/admin/feed", &[("overdue", "true")]).await;
    assert_eq!(clocks(&overdue.body["items"]), [row("thr_1", 0, 2, true)]);
    // The waiting list up to waits of an hour or more (all three), and the commitments item.
    assert_eq!(overdue.read, Some(4));
    // Earlier, a wait younger than an hour (thr_3's) is not even read.
    w.clock.set(t(100));
    assert_eq!(
        w.get("/admin/feed", &[("overdue", "true")]).await.read,
        Some(3)
    );
    // At the due instant a thread is overdue; with a period, on the start of the wait.
    w.clock.set(t(70 + 120));
    assert_eq!(
        clocks(&w.rows("/admin/feed", &[("overdue", "true")]).await),
        [row("thr_1", 0, 2, true), row("thr_3", 70, 2, true)]
    );
    assert_eq!(
        clocks(
            &w.rows(
                "/admin/feed",
                &[
                    ("overdue", "true"),
                    ("from", "2026-03-02"),
                    ("to", "2026-03-02"),
                    ("tz", "Pacific/Kiritimati")
                ]
            )
            .await
        ),
        [row("thr_1", 0, 2, true)],
        "2026-03-02 in Kiritimati (+14) ends at 10:00Z"
    );
    let counts = w.get("/admin/consultations/counts", &[]).await;
    assert_eq!(
        counts.body["overdue"],
        json!({"count": 2, "complete": true, "read": 4})
    );
    assert_eq!(
        counts.read,
        Some(counts.body["read"].as_u64().unwrap() as usize + 4)
    );
    // A day later thr_2 is overdue too (the default); the export says so.
    w.clock.set(t(10 + 24 * 60));
    assert_eq!(
        w.get("/admin/consultations/counts", &[]).await.body["overdue"]["count"],
        3
    );
    let csv = w
        .export(
            "/admin/feed/export",
            &[("sort", "waiting"), ("bom", "false")],
        )
        .await;
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[2].ends_with(",2026-03-02T09:10:00+00:00,24,2026-03-03T09:10:00+00:00,true"),
        "{}",
        lines[2]
    );
    // A reply ends thr_1's wait; prac_a's new profile without a commitment puts thr_3 on
    // the default.
    let later = vec![
        text_message("thr_1", "m9", "prac_a", "practitioner", "eA==")
            .event("e-m9", at(200).as_str()),
        practitioner("prac_a", "Dr A", &["Dermatology"], "approved", 4500, false)
            .event("e-pa2", at(201).as_str()),
    ];
    ingest_batch(&*w.deps.store, ingest_now(), &later)
        .await
        .unwrap();
    w.clock.set(t(300));
    assert_eq!(
        clocks(&w.rows("/admin/feed", &[("sort", "waiting")]).await),
        [row("thr_2", 10, 24, false), row("thr_3", 70, 24, false)]
    );
    assert_eq!(
        w.get("/admin/consultations/counts", &[]).await.body["overdue"]["count"],
        0
    );
}

async fn bad_clock_values_name_their_field(store: Arc<dyn Store>) {
    let w = world_with(store, &[]).await;
    for (query, field) in [
        (vec![("overdue", "yes")], "overdue"),
        (vec![("overdue", "true"), ("overdue", "true")], "overdue"),
        (vec![("sort", "oldest")], "sort"),
        (
            vec![("overdue", "true"), ("kind", "practitioner_practitioner")],
            "overdue",
        ),
        (
            vec![("sort", "waiting"), ("kind", "practitioner_practitioner")],
            "sort",
        ),
    ] {
        let a = w.get("/admin/feed", &query).await;
        assert_eq!(
            (a.status, a.body["field"].as_str()),
            (400, Some(field)),
            "{query:?}"
        );
    }
    // A commitment is 1 to 720 hours.
    let events: Vec<Value> = [0, 721, 720]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            practitioner(&format!("prac_{i}"), "Dr X", &[], "approved", 100, false)
                .with("response_time_hours", *h)
                .event(&format!("e-bad-{i}"), at(0).as_str())
        })
        .collect();
    let report = ingest_batch(&*w.deps.store, ingest_now(), &events)
        .await
        .unwrap();
    let fields: Vec<String> = report
        .results
        .iter()
        .map(|r| match &r.status {
            EventStatus::Rejected { field, .. } => field.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        fields[..2],
        ["data.response_time_hours", "data.response_time_hours"]
    );
    assert_eq!(fields[2], "Accepted");
}

on_both_empty_stores!(
    waiting_threads_carry_a_clock,
    bad_clock_values_name_their_field
);
