//! Thread kinds in the Feed (SPEC A13) on both store adapters: each row says whether its
//! thread is patient–practitioner or practitioner–practitioner (a referral pair thread, no
//! patient); `kind` filters from the kind's own index list, so a page of one kind reads only
//! its rows; a thread whose participants arrive after its first message moves to its kind's
//! list; a bad or repeated `kind` answers 400 naming it.

#![allow(clippy::unwrap_used)]

use crate::admin::{at, fixture, world_with, World};
use crate::admin_counts::on_both_empty_stores;
use crate::support::events::{text_message, thread_created};
use domain::events::ingest::ingest_batch;
use domain::ports::Store;
use serde_json::{json, Value};
use std::sync::Arc;

/// The fixture's two patient threads, a pair thread of its two practitioners, and a patient
/// thread whose practitioner's message lands before its `thread.created`.
async fn world(store: Arc<dyn Store>) -> World {
    let mut events = fixture();
    events.push(thread_created("thr_p", &[], &["prac_a", "prac_b"]).event("ep0", at(29)));
    events
        .push(text_message("thr_p", "mp1", "prac_a", "practitioner", "eA==").event("ep1", at(30)));
    events
        .push(text_message("thr_3", "m31", "prac_b", "practitioner", "eA==").event("ep2", at(35)));
    world_with(store, &events).await
}

fn ids(rows: &Value) -> Vec<(&str, &str)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["thread_id"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
            )
        })
        .collect()
}

async fn the_feed_tells_pair_threads_from_patient_threads(store: Arc<dyn Store>) {
    let w = world(store).await;
    // Known only by a practitioner's message, thr_3 looks like a practitioners' thread...
    assert_eq!(
        ids(&w
            .rows("/admin/feed", &[("kind", "practitioner_practitioner")])
            .await),
        [
            ("thr_3", "practitioner_practitioner"),
            ("thr_p", "practitioner_practitioner")
        ]
    );
    // ... until its participants land: then it moves to the patient threads' list.
    let created = thread_created("thr_3", &["pat_1"], &["prac_b"]).event("ep3", at(34));
    ingest_batch(&*w.deps.store, at_now(), &[created])
        .await
        .unwrap();
    assert_eq!(
        ids(&w.rows("/admin/feed", &[]).await),
        [
            ("thr_3", "patient_practitioner"),
            ("thr_p", "practitioner_practitioner"),
            ("thr_2", "patient_practitioner"),
            ("thr_1", "patient_practitioner")
        ]
    );
    // One kind: its own list, one item read per row plus the one that ends the page.
    let pair = w
        .get("/admin/feed", &[("kind", "practitioner_practitioner")])
        .await;
    assert_eq!(pair.status, 200);
    assert_eq!(
        ids(&pair.body["items"]),
        [("thr_p", "practitioner_practitioner")]
    );
    assert_eq!(
        pair.body["items"][0]["practitioners"],
        json!([{"id": "prac_a", "name": "Dr. Ángela Müller"}, {"id": "prac_b", "name": "Bob Stone"}])
    );
    assert_eq!(pair.body["items"][0]["patients"], json!([]));
    assert_eq!(pair.read, Some(1));
    let patients = w
        .get(
            "/admin/feed",
            &[("kind", "patient_practitioner"), ("limit", "1")],
        )
        .await;
    assert_eq!(
        ids(&patients.body["items"]),
        [("thr_3", "patient_practitioner")]
    );
    assert_eq!(patients.read, Some(2));
    // With the other filters, and in the export.
    assert_eq!(
        ids(&w
            .rows(
                "/admin/feed",
                &[("kind", "patient_practitioner"), ("tag", "conversation")]
            )
            .await),
        [("thr_1", "patient_practitioner")]
    );
    assert_eq!(
        ids(&w
            .rows(
                "/admin/feed",
                &[("kind", "practitioner_practitioner"), ("q", "stone")]
            )
            .await),
        [("thr_p", "practitioner_practitioner")]
    );
    let csv = w
        .export(
            "/admin/feed/export",
            &[("kind", "practitioner_practitioner"), ("bom", "false")],
        )
        .await;
    assert_eq!(
        csv,
        "thread_id,last_activity_at,patients,practitioners,messages,tags,kind,waiting_since,response_time_hours,due_at,overdue\r\n\
         thr_p,2026-03-02T09:30:00+00:00,,Dr. Ángela Müller (prac_a); Bob Stone (prac_b),1,,practitioner_practitioner,,,,\r\n"
    );
    // The thread details say it too.
    let details = w.get("/admin/threads/thr_p", &[]).await;
    assert_eq!(details.body["thread"]["kind"], "practitioner_practitioner");
}

async fn a_bad_kind_names_the_field(store: Arc<dyn Store>) {
    let w = world_with(store, &[]).await;
    for query in [
        vec![("kind", "patient")],
        vec![
            ("kind", "patient_practitioner"),
            ("kind", "patient_practitioner"),
        ],
    ] {
        for path in ["/admin/feed", "/admin/feed/export"] {
            let a = w.get(path, &query).await;
            assert_eq!(
                (a.status, a.body["field"].as_str()),
                (400, Some("kind")),
                "{path}"
            );
        }
    }
}

fn at_now() -> chrono::DateTime<chrono::Utc> {
    "2026-03-05T12:00:00Z".parse().unwrap()
}

on_both_empty_stores!(
    the_feed_tells_pair_threads_from_patient_threads,
    a_bad_kind_names_the_field,
);
