//! The admin reporting area (SPEC A1–A9) on both store adapters (embedded in memory, DynamoDB
//! on moto): a hand-made platform history goes through ingest, then every tab is asked through
//! its function (the API's Router, exactly what the Lambda serves) and answers the
//! rows written out below by hand — filters, search, period in a zone, pagination, exports
//! (exact CSV cells), the availability override, role checks and bad input. A marker put in
//! every participant message's ciphertext never appears in any answer or CSV.

#![allow(clippy::unwrap_used)]

use crate::support::events::{
    availability_changed, call_joined, call_left, clinical_note, consultation_cancelled, patient,
    payment, payment_request, payment_request_answered, practitioner, rating, system_message,
    text_message, thread_created, thread_opened, voucher_created, voucher_redeemed, Payload,
};
use crate::support::moto::dynamo_store;
use crate::support::TempDir;
use chrono::{DateTime, Duration, Utc};
use domain::auth::{Principal, Role};
use domain::deps::Deps;
use domain::events::ingest::ingest_batch;
use domain::ports::{FixedClock, Store};
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use local_adapters::outbox::OutboxMailer;
use serde_json::{json, Value};
use std::sync::Arc;

/// What every participant message's ciphertext holds (base64 of it, as ciphertext is).
const MARKER: &str = "SECRET-MARKER-7731";

fn marker_b64() -> String {
    // base64 of MARKER
    "U0VDUkVULU1BUktFUi03NzMx".to_string()
}

/// 2026-03-02T09:00:00Z plus `m` minutes.
pub fn t(m: i64) -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(m)
}

fn now() -> DateTime<Utc> {
    "2026-03-05T12:00:00Z".parse().unwrap()
}

/// [`t`]`(m)` as the fixture's envelopes write it.
pub fn at(m: i64) -> String {
    t(m).to_rfc3339()
}

/// A participant's text message, its ciphertext the marker.
fn msg(thread: &str, m: &str, sender: &str, role: &str) -> Payload {
    text_message(thread, m, sender, role, &marker_b64())
}

/// The hand-made history every scenario starts from.
pub fn fixture() -> Vec<Value> {
    let ios = json!({"platform": "ios", "model": "iPhone 15"});
    let android = json!({"platform": "android", "model": "Pixel 8"});
    let joined = |call: &str, who: &str, role: &str, media: &str| {
        call_joined(call, who, role, "thr_1", "prac_a", media)
    };
    vec![
        practitioner(
            "prac_a",
            "Dr. Ángela Müller",
            &["Dermatology"],
            "approved",
            4500,
            true,
        )
        .event("e01", at(-1000)),
        practitioner(
            "prac_b",
            "Bob Stone",
            &["General practice"],
            "pending",
            3000,
            false,
        )
        .event("e02", at(-1000)),
        availability_changed("prac_a", "available").event("e03", at(-900)),
        availability_changed("prac_b", "away").event("e04", at(-900)),
        patient("pat_1", "Zoë Nuñez").event("e05", at(-1000)),
        patient("pat_2", "=Evil Ed").event("e06", at(-1000)),
        thread_created("thr_1", &["pat_1"], &["prac_a"]).event("e07", at(0)),
        msg("thr_1", "m1", "pat_1", "patient")
            .with("device", ios)
            .event("e08", at(1)),
        msg("thr_1", "m2", "prac_a", "practitioner")
            .with("device", json!({"platform": "web"}))
            .event("e09", at(2)),
        payment_request("r1", "thr_1", "prac_a", "pat_1", 5000).event("e10", at(3)),
        system_message("thr_1", "m3", "Payment request sent.").event("e11", at(3)),
        payment_request_answered("r1", "thr_1", "accepted").event("e12", at(4)),
        payment(
            "pay_1",
            "thread_request",
            "thr_1",
            "pat_1",
            "prac_a",
            5000,
            1000,
        )
        .with("consultation_id", "cons_1")
        .with("request_id", "r1")
        .event("e13", at(5)),
        msg("thr_1", "m4", "pat_1", "patient")
            .with("device", android)
            .event("e14", at(10)),
        thread_opened("thr_1", "prac_a", "practitioner").event("e15", at(11)),
        clinical_note("thr_1", "n1", "prac_a", "diagnosis").event("e16", at(12)),
        thread_created("thr_2", &["pat_2"], &["prac_b"]).event("e17", at(20)),
        msg("thr_2", "m5", "pat_2", "patient").event("e18", at(21)),
        payment(
            "pay_2",
            "booked_appointment",
            "thr_2",
            "pat_2",
            "prac_b",
            3000,
            600,
        )
        .with("consultation_id", "cons_2")
        .event("e19", at(22)),
        payment_request("r2", "thr_2", "prac_b", "pat_2", 2000).event("e20", at(25)),
        consultation_cancelled("cons_2", "patient").event("e21", at(30)),
        payment("pay_3", "refund", "thr_2", "pat_2", "prac_b", -3000, -600).event("e22", at(40)),
        joined("call_1", "pat_1", "patient", "video").event("e23", at(100)),
        joined("call_1", "prac_a", "practitioner", "video").event("e24", at(101)),
        call_left("call_1", "pat_1", "patient").event("e25", at(111)),
        call_left("call_1", "prac_a", "practitioner").event("e26", at(112)),
        joined("call_2", "prac_a", "practitioner", "audio").event("e27", at(200)),
        joined("call_2", "pat_1", "patient", "audio").event("e28", at(201)),
        call_left("call_2", "prac_a", "practitioner").event("e29", at(203)),
        call_left("call_2", "pat_1", "patient").event("e30", at(205)),
        rating("rat_1", "pat_1", "prac_a", 5)
            .with("comment", "Great care")
            .event("e31", at(50)),
        rating("rat_2", "pat_2", "prac_a", 4)
            .with("comment", "=HYPERLINK(\"x\")")
            .event("e32", at(51)),
        voucher_created("WELCOME10")
            .with("usage_limit", 100)
            .with("expires_at", "2026-12-31T23:00:00Z")
            .event("e33", at(-500)),
        voucher_created("FREE").event("e34", at(-400)),
        voucher_redeemed("WELCOME10", "red_1", "pat_1")
            .with("payment_id", "pay_1")
            .event("e35", at(60)),
    ]
}

/// A scenario's world: the store loaded with the fixture, blobs in a temporary directory.
pub struct World {
    pub deps: Arc<Deps>,
    pub clock: Arc<FixedClock>,
    _dir: TempDir,
}

pub async fn world(store: Arc<dyn Store>) -> World {
    world_with(store, &fixture()).await
}

/// A world loaded with these events (all accepted).
pub async fn world_with(store: Arc<dyn Store>, events: &[Value]) -> World {
    let report = ingest_batch(&*store, now(), events).await.unwrap();
    assert_eq!(report.accepted, events.len(), "{:?}", report.results);
    let dir = TempDir::new("admin");
    let clock = Arc::new(FixedClock::new(now()));
    let deps = Arc::new(Deps {
        store,
        blobs: Arc::new(DirBlobs::new(
            dir.path().join("blobs"),
            "http://127.0.0.1:1".into(),
            vec![7; 32],
        )),
        mailer: Arc::new(OutboxMailer::new(dir.path().join("outbox"), "a@b.c".into())),
        clock: clock.clone(),
        settings: local_server::local_settings("http://x").unwrap(),
    });
    World {
        deps,
        clock,
        _dir: dir,
    }
}

pub fn principal(role: Role) -> Principal {
    Principal {
        sub: format!("{role}-1"),
        role,
        orgs: vec!["org-1".into()],
        clinics: vec![],
    }
}

/// An answer: status, JSON body, `x-items-read`.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub read: Option<usize>,
}

impl World {
    pub async fn call_as(
        &self,
        who: Option<Principal>,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap().into())
            .unwrap_or_default();
        let resp = crate::support::app::TestApp::new(self.deps.clone())
            .call(who.as_ref(), method, path, &query, &[], body)
            .await;
        let text = String::from_utf8(resp.body.to_vec()).unwrap();
        assert!(
            !text.contains(MARKER) && !text.contains(&marker_b64()),
            "{path} leaks a message"
        );
        Answer {
            status: resp.status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            read: resp.header("x-items-read").map(|r| r.parse().unwrap()),
        }
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        self.call_as(
            Some(principal(Role::PlatformAdmin)),
            "GET",
            path,
            query,
            None,
        )
        .await
    }

    /// Rows of a list, asserting 200.
    pub async fn rows(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let a = self.get(path, query).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.read, a.body["read"].as_u64().map(|n| n as usize));
        a.body["items"].clone()
    }

    /// The CSV an export wrote, checked for leaks; `rows` must match the answer.
    pub async fn export(&self, path: &str, query: &[(&str, &str)]) -> String {
        let a = self.get(path, query).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let key = a.body["key"].as_str().unwrap();
        assert!(key.starts_with("exports/admin/"), "{key}");
        assert!(a.body["url"].as_str().unwrap().starts_with("http"));
        let bytes = self.deps.blobs.get(key).await.unwrap();
        assert_eq!(a.body["bytes"].as_u64(), Some(bytes.len() as u64));
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(!text.contains(MARKER) && !text.contains(&marker_b64()));
        let lines = text.trim_end_matches("\r\n").split("\r\n").count() as u64;
        assert_eq!(a.body["rows"].as_u64(), Some(lines - 1), "{text}");
        text
    }
}

fn embedded() -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::in_memory())
}

async fn moto() -> Arc<dyn Store> {
    Arc::new(dynamo_store().await)
}

macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name(super::world(super::embedded()).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn moto() {
                    super::$name(super::world(super::moto().await).await).await;
                }
            }
        )+
    };
}

on_both_stores!(
    feed_rows_tags_search_and_pages,
    thread_details_show_no_message_text,
    consultations_rows_tags_export_and_counts,
    calls_per_practitioner_in_a_period,
    practitioners_and_the_availability_override,
    ratings_rows_and_export,
    ratings_follow_edits_and_redeliveries,
    payments_per_practitioner_per_currency,
    payment_items_rows_filters_and_export,
    vouchers_rows_and_export,
    other_roles_are_refused_and_bad_input_names_the_field,
);

fn thr_1_row() -> Value {
    json!({
        "thread_id": "thr_1",
        "last_activity_at": "2026-03-02T09:10:00Z",
        "last_message_at": "2026-03-02T09:10:00Z",
        "patients": [{"id": "pat_1", "name": "Zoë Nuñez"}],
        "practitioners": [{"id": "prac_a", "name": "Dr. Ángela Müller"}],
        "message_count": 4,
        "tags": ["conversation", "waiting_answer"],
        "kind": "patient_practitioner",
        "waiting_since": "2026-03-02T09:10:00Z",
        "clock": {"response_time_hours": 24, "due_at": "2026-03-03T09:10:00Z", "overdue": true},
    })
}

fn thr_2_row() -> Value {
    json!({
        "thread_id": "thr_2",
        "last_activity_at": "2026-03-02T09:21:00Z",
        "last_message_at": "2026-03-02T09:21:00Z",
        "patients": [{"id": "pat_2", "name": "=Evil Ed"}],
        "practitioners": [{"id": "prac_b", "name": "Bob Stone"}],
        "message_count": 1,
        "tags": ["not_seen", "waiting_answer"],
        "kind": "patient_practitioner",
        "waiting_since": "2026-03-02T09:21:00Z",
        "clock": {"response_time_hours": 24, "due_at": "2026-03-03T09:21:00Z", "overdue": true},
    })
}

async fn feed_rows_tags_search_and_pages(w: World) {
    assert_eq!(
        w.rows("/admin/feed", &[]).await,
        json!([thr_2_row(), thr_1_row()])
    );
    assert_eq!(
        w.rows("/admin/feed", &[("tag", "conversation")]).await,
        json!([thr_1_row()])
    );
    assert_eq!(
        w.rows(
            "/admin/feed",
            &[("tag", "waiting_answer"), ("tag", "not_seen")]
        )
        .await,
        json!([thr_2_row()])
    );
    // Search by specialist name, case- and accent-insensitive.
    assert_eq!(
        w.rows("/admin/feed", &[("q", "MULLER")]).await,
        json!([thr_1_row()])
    );
    assert_eq!(
        w.rows("/admin/feed", &[("q", "ángela")]).await,
        json!([thr_1_row()])
    );
    assert_eq!(w.rows("/admin/feed", &[("q", "nobody")]).await, json!([]));
    // Period on the last activity, in a zone: in Kiritimati (+14) 2026-03-02 ends at 10:00Z.
    assert_eq!(
        w.rows(
            "/admin/feed",
            &[
                ("from", "2026-03-02"),
                ("to", "2026-03-02"),
                ("tz", "Pacific/Kiritimati")
            ]
        )
        .await,
        json!([thr_2_row(), thr_1_row()])
    );
    assert_eq!(
        w.rows(
            "/admin/feed",
            &[
                ("from", "2026-03-03"),
                ("to", "2026-03-09"),
                ("tz", "Pacific/Kiritimati")
            ]
        )
        .await,
        json!([])
    );
    // Pages of one, a stable order.
    let first = w.get("/admin/feed", &[("limit", "1")]).await;
    assert_eq!(first.body["items"], json!([thr_2_row()]));
    // One Query page (the store reads one item past a page to know whether more follow),
    // and the commitments item for the waiting thread's clock: the names are copied into the
    // thread's item.
    assert_eq!(first.read, Some(3));
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = w
        .get("/admin/feed", &[("limit", "1"), ("cursor", &cursor)])
        .await;
    assert_eq!(second.body["items"], json!([thr_1_row()]));
    assert_eq!(second.body["next_cursor"], Value::Null);
    // The export holds every selected row, not a page.
    let csv = w
        .export("/admin/feed/export", &[("limit", "1"), ("bom", "false")])
        .await;
    assert_eq!(
        csv,
        "thread_id,last_activity_at,patients,practitioners,messages,tags,kind,waiting_since,response_time_hours,due_at,overdue\r\n\
         thr_2,2026-03-02T09:21:00+00:00,'=Evil Ed (pat_2),Bob Stone (prac_b),1,not_seen waiting_answer,patient_practitioner,2026-03-02T09:21:00+00:00,24,2026-03-03T09:21:00+00:00,true\r\n\
         thr_1,2026-03-02T09:10:00+00:00,Zoë Nuñez (pat_1),Dr. Ángela Müller (prac_a),4,conversation waiting_answer,patient_practitioner,2026-03-02T09:10:00+00:00,24,2026-03-03T09:10:00+00:00,true\r\n"
    );
}

async fn thread_details_show_no_message_text(w: World) {
    let a = w.get("/admin/threads/thr_1", &[]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let mut thread = thr_1_row();
    thread.as_object_mut().unwrap().remove("clock");
    assert_eq!(a.body["thread"], thread);
    assert_eq!(
        a.body["devices"],
        json!({"pat_1": ["android/Pixel 8", "ios/iPhone 15"], "prac_a": ["web"]})
    );
    let m = |id: &str,
             sender: Value,
             role: &str,
             kind: &str,
             at: &str,
             device: Value,
             text: Value| {
        json!({"message_id": id, "sender": sender, "sender_role": role, "kind": kind, "sent_at": at, "device": device, "text": text})
    };
    let pat = json!({"id": "pat_1", "name": "Zoë Nuñez"});
    assert_eq!(
        a.body["messages"],
        json!([
            m(
                "m1",
                pat.clone(),
                "patient",
                "text",
                "2026-03-02T09:01:00Z",
                json!({"platform": "ios", "model": "iPhone 15"}),
                Value::Null
            ),
            m(
                "m2",
                json!({"id": "prac_a", "name": "Dr. Ángela Müller"}),
                "practitioner",
                "text",
                "2026-03-02T09:02:00Z",
                json!({"platform": "web"}),
                Value::Null
            ),
            m(
                "m3",
                json!({"id": "system", "name": null}),
                "system",
                "system",
                "2026-03-02T09:03:00Z",
                Value::Null,
                json!("Payment request sent.")
            ),
            m(
                "m4",
                pat,
                "patient",
                "text",
                "2026-03-02T09:10:00Z",
                json!({"platform": "android", "model": "Pixel 8"}),
                Value::Null
            ),
        ])
    );
    assert_eq!(a.body["next_cursor"], Value::Null);
    // Paged messages.
    let p1 = w.get("/admin/threads/thr_1", &[("limit", "3")]).await;
    assert_eq!(p1.body["messages"].as_array().unwrap().len(), 3);
    let c = p1.body["next_cursor"].as_str().unwrap().to_string();
    let p2 = w
        .get("/admin/threads/thr_1", &[("limit", "3"), ("cursor", &c)])
        .await;
    assert_eq!(p2.body["messages"][0]["message_id"], "m4");
    assert_eq!(w.get("/admin/threads/thr_9", &[]).await.status, 404);
    assert_eq!(
        w.get("/admin/threads/bad%20id", &[]).await.body["field"],
        "thread_id"
    );
    // No answer nor export of any tab carries a message (checked inside `get`/`export`).
    for path in [
        "/admin/threads/thr_2",
        "/admin/feed",
        "/admin/consultations",
    ] {
        assert_eq!(w.get(path, &[]).await.status, 200);
    }
    for path in [
        "/admin/feed/export",
        "/admin/consultations/export",
        "/admin/payment-items/export",
        "/admin/ratings/export",
    ] {
        w.export(path, &[]).await;
    }
}

fn cons_1_row() -> Value {
    json!({
        "consultation_id": "cons_1", "thread_id": "thr_1", "started_at": "2026-03-02T09:05:00Z",
        "practitioner": {"id": "prac_a", "name": "Dr. Ángela Müller"},
        "patient": {"id": "pat_1", "name": "Zoë Nuñez"},
        "payment_id": "pay_1", "payment_type": "thread_request",
        "cancelled_at": null, "cancelled_by": null,
        "tags": ["concluded", "diagnosis", "waiting_answer"],
    })
}

fn cons_2_row() -> Value {
    json!({
        "consultation_id": "cons_2", "thread_id": "thr_2", "started_at": "2026-03-02T09:22:00Z",
        "practitioner": {"id": "prac_b", "name": "Bob Stone"},
        "patient": {"id": "pat_2", "name": "=Evil Ed"},
        "payment_id": "pay_2", "payment_type": "booked_appointment",
        "cancelled_at": "2026-03-02T09:30:00Z", "cancelled_by": "patient",
        "tags": ["cancelled", "request"],
    })
}

async fn consultations_rows_tags_export_and_counts(w: World) {
    assert_eq!(
        w.rows("/admin/consultations", &[]).await,
        json!([cons_2_row(), cons_1_row()])
    );
    assert_eq!(
        w.rows("/admin/consultations", &[("tag", "diagnosis")])
            .await,
        json!([cons_1_row()])
    );
    assert_eq!(
        w.rows(
            "/admin/consultations",
            &[("tag", "cancelled"), ("tag", "request")]
        )
        .await,
        json!([cons_2_row()])
    );
    assert_eq!(
        w.rows(
            "/admin/consultations",
            &[("tag", "cancelled"), ("tag", "diagnosis")]
        )
        .await,
        json!([])
    );
    assert_eq!(
        w.rows("/admin/consultations", &[("q", "stone")]).await,
        json!([cons_2_row()])
    );
    assert_eq!(
        w.rows(
            "/admin/consultations",
            &[("from", "2026-03-01"), ("to", "2026-03-01")]
        )
        .await,
        json!([])
    );
    let csv = w
        .export("/admin/consultations/export", &[("tz", "Europe/Paris")])
        .await;
    assert_eq!(
        csv,
        "\u{feff}consultation_id,started_at,practitioner_id,practitioner,patient_id,patient,payment_id,payment_type,cancelled_at,thread_id,tags\r\n\
         cons_2,2026-03-02T10:22:00+01:00,prac_b,Bob Stone,pat_2,'=Evil Ed,pay_2,booked_appointment,2026-03-02T10:30:00+01:00,thr_2,cancelled request\r\n\
         cons_1,2026-03-02T10:05:00+01:00,prac_a,Dr. Ángela Müller,pat_1,Zoë Nuñez,pay_1,thread_request,,thr_1,concluded diagnosis waiting_answer\r\n"
    );
    let counts = w.get("/admin/consultations/counts", &[]).await;
    assert_eq!(counts.status, 200);
    assert_eq!(
        counts.body,
        json!({
            "from": "2026-02-19T12:00:00Z", "to": "2026-03-05T12:01:00Z", "tz": null, "total": 2,
            "counts": {"cancelled": 1, "conversation": 0, "concluded": 1, "diagnosis": 1, "medical_advice": 0,
                       "prescription": 0, "in_person_visit": 0, "rejected": 0, "request": 1, "waiting_answer": 1},
            "read": 16,
            "overdue": {"count": 2, "complete": true, "read": 3},
        })
    );
    // A practitioner reply clears Waiting answer and makes a Conversation; the counters follow.
    let reply = msg("thr_1", "m9", "prac_a", "practitioner").event("e90", at(13));
    ingest_batch(&*w.deps.store, now(), &[reply]).await.unwrap();
    let row = &w
        .rows("/admin/consultations", &[("tag", "conversation")])
        .await[0];
    assert_eq!(
        row["tags"],
        json!(["conversation", "concluded", "diagnosis"])
    );
    let counts = w.get("/admin/consultations/counts", &[]).await.body;
    assert_eq!(
        (
            counts["counts"]["waiting_answer"].as_i64(),
            counts["counts"]["conversation"].as_i64()
        ),
        (Some(0), Some(1))
    );
    // The window moves with the clock, to the minute: 14 × 24 hours after cons_1's start
    // minute it still counts, one minute later only cons_2 does, and after cons_2's nothing.
    for (minutes, total) in [(5, 2), (6, 1), (22, 1), (23, 0)] {
        w.clock.set(t(14 * 24 * 60 + minutes));
        let counts = w.get("/admin/consultations/counts", &[]).await.body;
        assert_eq!(counts["total"], total, "{minutes}");
    }
}

async fn calls_per_practitioner_in_a_period(w: World) {
    let row = |calls: u64, audio: u64, video: u64, a: i64, v: i64| {
        json!({"practitioner": {"id": "prac_a", "name": "Dr. Ángela Müller"}, "calls": calls, "audio_calls": audio,
               "video_calls": video, "audio_seconds": a, "video_seconds": v, "total_seconds": a + v})
    };
    // Video: the patient waited a minute alone (not call time), then 10 minutes together.
    // Audio: 2 minutes together; the patient stayed 2 minutes after the practitioner left.
    assert_eq!(
        w.rows("/admin/calls", &[]).await,
        json!([row(2, 1, 1, 120, 600)])
    );
    // UTC+12: 2026-03-02 ends at 12:00Z, between the two calls.
    assert_eq!(
        w.rows(
            "/admin/calls",
            &[
                ("from", "2026-03-02"),
                ("to", "2026-03-02"),
                ("tz", "Etc/GMT-12")
            ]
        )
        .await,
        json!([row(1, 0, 1, 0, 600)])
    );
    assert_eq!(
        w.rows(
            "/admin/calls",
            &[
                ("from", "2026-03-03"),
                ("to", "2026-03-03"),
                ("tz", "Etc/GMT-12")
            ]
        )
        .await,
        json!([row(1, 1, 0, 120, 0)])
    );
    assert_eq!(w.rows("/admin/calls", &[("q", "bob")]).await, json!([]));
    let csv = w.export("/admin/calls/export", &[("bom", "false")]).await;
    assert_eq!(
        csv,
        "practitioner_id,practitioner,calls,audio_calls,video_calls,audio_seconds,video_seconds,total_seconds\r\n\
         prac_a,Dr. Ángela Müller,2,1,1,120,600,720\r\n"
    );
}

fn prac_a_row(availability: &str, source: &str, until: Value) -> Value {
    json!({"practitioner_id": "prac_a", "name": "Dr. Ángela Müller", "specialties": ["Dermatology"], "approval": "approved",
           "availability": availability, "availability_source": source, "override_until": until, "rating_count": 2,
           "rating_average": "4.50", "price": {"amount_minor": 4500, "currency": "EUR"}})
}

fn prac_b_row() -> Value {
    json!({"practitioner_id": "prac_b", "name": "Bob Stone", "specialties": ["General practice"], "approval": "pending",
           "availability": "away", "availability_source": "platform", "override_until": null, "rating_count": 0,
           "rating_average": null, "price": {"amount_minor": 3000, "currency": "EUR"}})
}

async fn practitioners_and_the_availability_override(w: World) {
    assert_eq!(
        w.rows("/admin/practitioners", &[]).await,
        json!([
            prac_b_row(),
            prac_a_row("available", "platform", Value::Null)
        ])
    );
    assert_eq!(
        w.rows("/admin/practitioners", &[("q", "muller")]).await,
        json!([prac_a_row("available", "platform", Value::Null)])
    );
    assert_eq!(
        w.rows("/admin/practitioners", &[("approval", "pending")])
            .await,
        json!([prac_b_row()])
    );
    assert_eq!(
        w.rows(
            "/admin/practitioners",
            &[("approval", "pending"), ("approval", "approved")]
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        2
    );
    assert_eq!(
        w.rows("/admin/practitioners", &[("approval", "rejected")])
            .await,
        json!([])
    );
    assert_eq!(
        w.get("/admin/practitioners", &[("approval", "maybe")])
            .await
            .body["field"],
        "approval"
    );
    let admin = Some(principal(Role::PlatformAdmin));
    let until = "2026-03-05T13:00:00Z";
    let put = w
        .call_as(
            admin.clone(),
            "PUT",
            "/admin/practitioners/prac_a/availability",
            &[],
            Some(json!({"availability": "away", "until": until})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body, prac_a_row("away", "override", json!(until)));
    // Visible at once in the tab.
    assert_eq!(
        w.rows("/admin/practitioners", &[("q", "muller")]).await,
        json!([prac_a_row("away", "override", json!(until))])
    );
    // Audited: who, when, old and new value.
    let audit = domain::ports::store::query_all(
        &*w.deps.store,
        &domain::ports::Query::partition(domain::ports::Index::Primary, "AUDIT#PLATFORM"),
    )
    .await
    .unwrap();
    let records: Vec<domain::audit::AuditRecord> = audit
        .iter()
        .map(|i| i.decode().unwrap())
        .filter(|r: &domain::audit::AuditRecord| r.action == "availability.overridden")
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (
            records[0].actor_sub.as_str(),
            records[0].object_id.as_str(),
            records[0].at
        ),
        ("platform_admin-1", "prac_a", now())
    );
    assert_eq!(
        records[0].params,
        json!({"old": {"availability": "available", "source": "platform", "until": null}, "new": {"availability": "away", "until": until}})
    );
    // Expires by itself at its end time.
    w.clock.set(until.parse().unwrap());
    assert_eq!(
        w.rows("/admin/practitioners", &[("q", "muller")]).await,
        json!([prac_a_row("available", "platform", Value::Null)])
    );
    // Bad input.
    let bad = |body: Value| {
        w.call_as(
            admin.clone(),
            "PUT",
            "/admin/practitioners/prac_a/availability",
            &[],
            Some(body),
        )
    };
    assert_eq!(
        bad(json!({"availability": "away", "until": "2026-03-01T00:00:00Z"}))
            .await
            .body["field"],
        "until"
    );
    assert_eq!(
        bad(json!({"availability": "asleep"})).await.body["field"],
        "availability"
    );
    assert_eq!(
        bad(json!({"availability": "away", "colour": 1})).await.body["field"],
        "colour"
    );
    let missing = w
        .call_as(
            admin.clone(),
            "PUT",
            "/admin/practitioners/prac_zz/availability",
            &[],
            Some(json!({"availability": "away"})),
        )
        .await;
    assert_eq!(missing.status, 404);
    // Without an end, it holds until replaced.
    let put = w
        .call_as(
            admin,
            "PUT",
            "/admin/practitioners/prac_b/availability",
            &[],
            Some(json!({"availability": "available"})),
        )
        .await;
    assert_eq!(put.body["availability_source"], "override");
    w.clock.set(t(365 * 24 * 60));
    assert_eq!(
        w.rows("/admin/practitioners", &[("q", "bob")]).await[0]["availability"],
        "available"
    );
    let csv = w
        .export(
            "/admin/practitioners/export",
            &[("bom", "false"), ("q", "muller")],
        )
        .await;
    assert_eq!(
        csv,
        "practitioner_id,name,specialties,approval,availability,availability_source,override_until,rating_count,rating_average,price_minor,currency\r\n\
         prac_a,Dr. Ángela Müller,Dermatology,approved,available,platform,,2,4.50,4500,EUR\r\n"
    );
}

async fn ratings_rows_and_export(w: World) {
    let r = |id: &str, at: &str, pat: Value, stars: u8, comment: &str| {
        json!({"rating_id": id, "submitted_at": at, "patient": pat, "practitioner": {"id": "prac_a", "name": "Dr. Ángela Müller"},
               "stars": stars, "comment": comment, "practitioner_rating_count": 2, "practitioner_rating_average": "4.50"})
    };
    let rat_2 = r(
        "rat_2",
        "2026-03-02T09:51:00Z",
        json!({"id": "pat_2", "name": "=Evil Ed"}),
        4,
        "=HYPERLINK(\"x\")",
    );
    let rat_1 = r(
        "rat_1",
        "2026-03-02T09:50:00Z",
        json!({"id": "pat_1", "name": "Zoë Nuñez"}),
        5,
        "Great care",
    );
    assert_eq!(
        w.rows("/admin/ratings", &[]).await,
        json!([rat_2.clone(), rat_1])
    );
    assert_eq!(
        w.rows("/admin/ratings", &[("limit", "1")]).await,
        json!([rat_2])
    );
    assert_eq!(w.rows("/admin/ratings", &[("q", "bob")]).await, json!([]));
    let csv = w.export("/admin/ratings/export", &[("bom", "false")]).await;
    assert_eq!(
        csv,
        "rating_id,submitted_at,patient_id,patient,practitioner_id,practitioner,stars,comment,practitioner_rating_count,practitioner_rating_average\r\n\
         rat_2,2026-03-02T09:51:00+00:00,pat_2,'=Evil Ed,prac_a,Dr. Ángela Müller,4,\"'=HYPERLINK(\"\"x\"\")\",2,4.50\r\n\
         rat_1,2026-03-02T09:50:00+00:00,pat_1,Zoë Nuñez,prac_a,Dr. Ángela Müller,5,Great care,2,4.50\r\n"
    );
}

/// The practitioner's count and average every Ratings row shows, after ratings of a second
/// practitioner, a re-delivered event, an edit, an older version arriving late and a rating
/// re-sent under a new event id: equal to a brute-force recount of the ratings as listed, to
/// the Practitioners tab, and exact (2 ratings, 5 stars: 2.50; 3 ratings, 11 stars: 3.67). A
/// page reads its Query and one item more (the platform's rating totals), however many
/// practitioners its rows name.
async fn ratings_follow_edits_and_redeliveries(w: World) {
    let store = &*w.deps.store;
    let rating = |id: &str, rating_id: &str, pat: &str, prac: &str, stars: u8, m: i64| {
        rating(rating_id, pat, prac, stars).event(id, at(m))
    };
    let batch = [
        rating("e40", "rat_3", "pat_1", "prac_b", 2, 52),
        rating("e41", "rat_4", "pat_2", "prac_b", 5, 53),
        rating("e42", "rat_5", "pat_1", "prac_b", 4, 54),
        // rat_1 edited: 5 stars become 1.
        rating("e43", "rat_1", "pat_1", "prac_a", 1, 55),
        // An older version of rat_2 arriving late: changes nothing.
        rating("e44", "rat_2", "pat_2", "prac_a", 1, 20),
        // rat_4 re-sent under a new event id: counted once.
        rating("e45", "rat_4", "pat_2", "prac_b", 5, 53),
    ];
    let report = ingest_batch(store, now(), &batch).await.unwrap();
    assert_eq!(report.accepted, 6, "{:?}", report.results);
    // e40 delivered again: a duplicate.
    let report = ingest_batch(store, now(), &batch[..1]).await.unwrap();
    assert_eq!(report.duplicates, 1, "{:?}", report.results);

    // Brute force: every rating as listed, summed per practitioner, the average rounded half
    // up to hundredths by long division.
    let listed = domain::ports::store::query_all(
        store,
        &domain::ports::Query::partition(
            domain::ports::Index::Gsi1,
            domain::readmodels::lists::RATINGS,
        ),
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 5);
    let mut sums: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for item in &listed {
        let r: domain::readmodels::Rating = item.decode().unwrap();
        let e = sums.entry(r.practitioner_id).or_default();
        e.0 += 1;
        e.1 += i64::from(r.stars);
    }
    let expected = |prac: &str| -> (i64, String) {
        let (count, stars) = sums[prac];
        let (q, r) = (stars * 100 / count, stars * 100 % count);
        let h = if 2 * r >= count { q + 1 } else { q };
        (count, format!("{}.{:02}", h / 100, h % 100))
    };
    assert_eq!(expected("prac_a"), (2, "2.50".to_string()));
    assert_eq!(expected("prac_b"), (3, "3.67".to_string()));

    let page = w.get("/admin/ratings", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let rows = page.body["items"].as_array().unwrap();
    let shown: Vec<(&str, &str, i64, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["rating_id"].as_str().unwrap(),
                r["practitioner"]["id"].as_str().unwrap(),
                r["practitioner_rating_count"].as_i64().unwrap(),
                r["practitioner_rating_average"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("rat_1", "prac_a", 2, "2.50"),
            ("rat_5", "prac_b", 3, "3.67"),
            ("rat_4", "prac_b", 3, "3.67"),
            ("rat_3", "prac_b", 3, "3.67"),
            ("rat_2", "prac_a", 2, "2.50"),
        ]
    );
    for (_, prac, count, average) in &shown {
        assert_eq!((*count, average.to_string()), expected(prac), "{prac}");
    }
    assert_eq!(rows[0]["stars"], 1);
    // The Query's 5 items and the rating totals.
    assert_eq!(page.read, Some(6));
    // Pages of two: 3 items of the Query (one past the page) and the rating totals, each.
    let first = w.get("/admin/ratings", &[("limit", "2")]).await;
    assert_eq!(first.read, Some(4));
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = w
        .get("/admin/ratings", &[("limit", "2"), ("cursor", &cursor)])
        .await;
    assert_eq!(second.body["items"][0]["rating_id"], "rat_4");
    assert_eq!(second.read, Some(4));

    // The Practitioners tab (totals on the profile) agrees.
    for p in w
        .rows("/admin/practitioners", &[])
        .await
        .as_array()
        .unwrap()
    {
        let id = p["practitioner_id"].as_str().unwrap();
        let (count, average) = expected(id);
        assert_eq!(p["rating_count"], count, "{id}");
        assert_eq!(p["rating_average"], average.as_str(), "{id}");
    }
    // And the export's last two cells.
    let csv = w.export("/admin/ratings/export", &[("bom", "false")]).await;
    let tails: Vec<String> = csv
        .trim_end_matches("\r\n")
        .split("\r\n")
        .skip(1)
        .map(|l| l.rsplitn(3, ',').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        tails,
        ["2.50 2", "3.67 3", "3.67 3", "3.67 3", "2.50 2"],
        "{csv}"
    );
}

async fn payments_per_practitioner_per_currency(w: World) {
    let b = json!({"practitioner": {"id": "prac_b", "name": "Bob Stone"}, "totals": [
        {"currency": "EUR", "consultations": 1, "payments": 2, "total_minor": 0, "specialist_minor": 0, "commission_minor": 0}]});
    let a = json!({"practitioner": {"id": "prac_a", "name": "Dr. Ángela Müller"}, "totals": [
        {"currency": "EUR", "consultations": 1, "payments": 1, "total_minor": 5000, "specialist_minor": 4000, "commission_minor": 1000}]});
    assert_eq!(w.rows("/admin/payments", &[]).await, json!([b, a.clone()]));
    assert_eq!(
        w.rows("/admin/payments", &[("q", "ÁNGELA")]).await,
        json!([a])
    );
    assert_eq!(
        w.rows(
            "/admin/payments",
            &[("from", "2026-03-03"), ("to", "2026-03-04")]
        )
        .await,
        json!([])
    );
    // A second currency makes a second line.
    let usd = payment(
        "pay_9",
        "booked_appointment",
        "thr_1",
        "pat_1",
        "prac_a",
        1999,
        399,
    )
    .with("consultation_id", "cons_9")
    .with("total", json!({"amount_minor": 1999, "currency": "USD"}))
    .event("e91", at(70));
    ingest_batch(&*w.deps.store, now(), &[usd]).await.unwrap();
    let csv = w
        .export("/admin/payments/export", &[("bom", "false")])
        .await;
    assert_eq!(
        csv,
        "practitioner_id,practitioner,currency,consultations,payments,total_minor,specialist_minor,commission_minor\r\n\
         prac_b,Bob Stone,EUR,1,2,0,0,0\r\n\
         prac_a,Dr. Ángela Müller,EUR,1,1,5000,4000,1000\r\n\
         prac_a,Dr. Ángela Müller,USD,1,1,1999,1600,399\r\n"
    );
}

async fn payment_items_rows_filters_and_export(w: World) {
    let item = |id: &str,
                at: &str,
                ty: &str,
                pat: Value,
                prac: Value,
                total: i64,
                spec: i64,
                comm: i64,
                cons: Value,
                thr: &str| {
        json!({"payment_id": id, "paid_at": at, "payment_type": ty, "patient": pat, "practitioner": prac, "currency": "EUR",
               "total_minor": total, "specialist_minor": spec, "commission_minor": comm, "consultation_id": cons, "thread_id": thr, "voucher_code": null})
    };
    let ed = json!({"id": "pat_2", "name": "=Evil Ed"});
    let bob = json!({"id": "prac_b", "name": "Bob Stone"});
    let p3 = item(
        "pay_3",
        "2026-03-02T09:40:00Z",
        "refund",
        ed.clone(),
        bob.clone(),
        -3000,
        -2400,
        -600,
        Value::Null,
        "thr_2",
    );
    let p2 = item(
        "pay_2",
        "2026-03-02T09:22:00Z",
        "booked_appointment",
        ed,
        bob,
        3000,
        2400,
        600,
        json!("cons_2"),
        "thr_2",
    );
    let p1 = item(
        "pay_1",
        "2026-03-02T09:05:00Z",
        "thread_request",
        json!({"id": "pat_1", "name": "Zoë Nuñez"}),
        json!({"id": "prac_a", "name": "Dr. Ángela Müller"}),
        5000,
        4000,
        1000,
        json!("cons_1"),
        "thr_1",
    );
    let all = w.rows("/admin/payment-items", &[]).await;
    assert_eq!(all, json!([p3.clone(), p2.clone(), p1.clone()]));
    for row in all.as_array().unwrap() {
        assert_eq!(
            row["total_minor"].as_i64().unwrap(),
            row["specialist_minor"].as_i64().unwrap() + row["commission_minor"].as_i64().unwrap()
        );
    }
    assert_eq!(
        w.rows("/admin/payment-items", &[("type", "refund")]).await,
        json!([p3.clone()])
    );
    assert_eq!(
        w.rows(
            "/admin/payment-items",
            &[("type", "refund"), ("type", "thread_request")]
        )
        .await,
        json!([p3, p1.clone()])
    );
    // Search by patient or practitioner name.
    assert_eq!(
        w.rows("/admin/payment-items", &[("q", "zoe")]).await,
        json!([p1.clone()])
    );
    assert_eq!(
        w.rows("/admin/payment-items", &[("q", "muller")]).await,
        json!([p1])
    );
    // Pages of two.
    let first = w.get("/admin/payment-items", &[("limit", "2")]).await;
    assert_eq!(
        first.body["items"],
        json!([w.rows("/admin/payment-items", &[]).await[0], p2])
    );
    let c = first.body["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        w.rows("/admin/payment-items", &[("limit", "2"), ("cursor", &c)])
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let csv = w
        .export(
            "/admin/payment-items/export",
            &[("bom", "false"), ("type", "refund")],
        )
        .await;
    assert_eq!(
        csv,
        "payment_id,paid_at,type,patient_id,patient,practitioner_id,practitioner,currency,total_minor,specialist_minor,commission_minor,consultation_id,thread_id,voucher_code\r\n\
         pay_3,2026-03-02T09:40:00+00:00,refund,pat_2,'=Evil Ed,prac_b,Bob Stone,EUR,-3000,-2400,-600,,thr_2,\r\n"
    );
}

async fn vouchers_rows_and_export(w: World) {
    let free = json!({"code": "FREE", "times_used": 0, "usage_limit": null, "expires_at": null, "created_at": "2026-03-02T02:20:00Z"});
    let welcome = json!({"code": "WELCOME10", "times_used": 1, "usage_limit": 100, "expires_at": "2026-12-31T23:00:00Z", "created_at": "2026-03-02T00:40:00Z"});
    assert_eq!(
        w.rows("/admin/vouchers", &[]).await,
        json!([free, welcome.clone()])
    );
    assert_eq!(
        w.rows("/admin/vouchers", &[("q", "welcome")]).await,
        json!([welcome])
    );
    let csv = w
        .export("/admin/vouchers/export", &[("tz", "Europe/Paris")])
        .await;
    assert_eq!(
        csv,
        "\u{feff}code,times_used,usage_limit,expires_at,created_at\r\n\
         FREE,0,,,2026-03-02T03:20:00+01:00\r\n\
         WELCOME10,1,100,2027-01-01T00:00:00+01:00,2026-03-02T01:40:00+01:00\r\n"
    );
}

/// A concrete path for each admin route.
pub fn concrete(path: &str) -> String {
    path.replace("{thread_id}", "thr_1")
        .replace("{practitioner_id}", "prac_a")
}

async fn other_roles_are_refused_and_bad_input_names_the_field(w: World) {
    for route in api::routes::ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/admin/"))
    {
        let path = concrete(route.path);
        let body = (route.method == "PUT").then(|| json!({"availability": "away"}));
        for role in Role::ALL.into_iter().filter(|r| *r != Role::PlatformAdmin) {
            let a = w
                .call_as(
                    Some(principal(role)),
                    route.method,
                    &path,
                    &[],
                    body.clone(),
                )
                .await;
            assert_eq!(a.status, 403, "{role} {} {path}", route.method);
        }
        let a = w
            .call_as(None, route.method, &path, &[], body.clone())
            .await;
        assert_eq!(a.status, 401, "{path}");
        assert_eq!(route.roles, &[Role::PlatformAdmin]);
    }
    for (path, query, field) in [
        ("/admin/feed", vec![("tag", "sleepy")], "tag"),
        ("/admin/feed", vec![("limit", "500")], "limit"),
        ("/admin/consultations", vec![("tag", "nope")], "tag"),
        (
            "/admin/consultations/export",
            vec![("tz", "Nowhere/City")],
            "tz",
        ),
        ("/admin/consultations/counts", vec![("limit", "5")], "limit"),
        (
            "/admin/calls",
            vec![("from", "2026-03-05"), ("to", "2026-03-01")],
            "to",
        ),
        ("/admin/payment-items", vec![("type", "gift")], "type"),
        ("/admin/ratings", vec![("cursor", "garbage!")], "cursor"),
        ("/admin/vouchers/export", vec![("bom", "maybe")], "bom"),
        ("/admin/payments", vec![("colour", "red")], "query"),
        ("/admin/threads/thr_1", vec![("q", "x")], "query"),
    ] {
        let a = w.get(path, &query).await;
        assert_eq!(
            (a.status, a.body["field"].as_str()),
            (400, Some(field)),
            "{path} {query:?}: {}",
            a.body
        );
        let text = a.body.to_string();
        for (_, v) in query.iter().filter(|(_, v)| v.len() >= 3) {
            assert!(!text.contains(v), "{path} echoes {v}");
        }
    }
}
