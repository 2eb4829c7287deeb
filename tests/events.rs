//! Platform events (SPEC R5): `docs/events.md` held to the parser, validation of bad events
//! (exact field, no value echo), and ingest on both store adapters: the embedded one in
//! memory and the DynamoDB one on a fresh moto table. Every ingest scenario is an async
//! function taking the store, run once per adapter (`<scenario>::embedded`, `<scenario>::moto`).

#![allow(clippy::unwrap_used)]

use crate::support::events::{self, bandwidth, participant_joined, participant_left};
use crate::support::moto::dynamo_store;
use chrono::{DateTime, Duration, Utc};
use domain::events::ingest::{ingest_batch, BatchReport, EventResult, EventStatus};
use domain::events::{parse_event, EVENT_TYPES};
use domain::ports::store::{
    query_all, Condition, Index, Item, Key, Page, Query, Store, StoreError, TxOp,
};
use domain::readmodels::{
    keys, lists, sort_time, Consultation, Practitioner, Rating, RatingTotals, SegmentParticipant,
    ThreadSummary,
};
use local_adapters::embedded_store::EmbeddedStore;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

// ---- helpers ----

/// 2026-03-02T09:00:00Z plus `minutes`.
fn t(minutes: i64) -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
}

fn now() -> DateTime<Utc> {
    t(24 * 60)
}

/// A rating of `practitioner` by one patient, with a comment.
fn rating(id: &str, rating_id: &str, practitioner: &str, stars: u8, at: DateTime<Utc>) -> Value {
    events::rating(rating_id, "pat_5c81e2", practitioner, stars)
        .with("comment", "Clear and kind.")
        .event(id, at)
}

/// A thread between `pat_1` and `prac_1`.
fn thread_created(id: &str, thread: &str, at: DateTime<Utc>) -> Value {
    events::thread_created(thread, &["pat_1"], &["prac_1"]).event(id, at)
}

/// A text message of `pat_1` or `prac_1` (by `role`), sent from an Android phone.
fn message(id: &str, thread: &str, msg: &str, role: &str, at: DateTime<Utc>) -> Value {
    let sender = if role == "patient" { "pat_1" } else { "prac_1" };
    events::text_message(
        thread,
        msg,
        sender,
        role,
        "hQEMA5nB0k3s8qLzAQf+Kx2vQmL7yR4tW9pZcN1oE6uJ3aF8dG5hS0bV2iYkXw==",
    )
    .with(
        "device",
        json!({ "platform": "android", "model": "Pixel 8" }),
    )
    .event(id, at)
}

/// `prac_1` opens the thread.
fn opened(id: &str, thread: &str, at: DateTime<Utc>) -> Value {
    events::thread_opened(thread, "prac_1", "practitioner").event(id, at)
}

/// A payment in `thr_1` of `pat_1` to `prac_1`, for `consultation` if any.
fn payment(
    id: &str,
    payment_id: &str,
    payment_type: &str,
    consultation: Option<&str>,
    total: i64,
    commission: i64,
    at: DateTime<Utc>,
) -> Value {
    let mut payment = events::payment(
        payment_id,
        payment_type,
        "thr_1",
        "pat_1",
        "prac_1",
        total,
        commission,
    );
    if let Some(c) = consultation {
        payment = payment.with("consultation_id", c);
    }
    payment.event(id, at)
}

async fn ingest(store: &dyn Store, events: &[Value]) -> BatchReport {
    ingest_batch(store, now(), events).await.unwrap()
}

async fn ingest_all_accepted(store: &dyn Store, events: &[Value]) {
    let report = ingest(store, events).await;
    assert_eq!(report.accepted, events.len(), "{report:#?}");
}

async fn get(store: &dyn Store, key: &Key) -> Item {
    store
        .get(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no item at {key:?}"))
}

async fn count(store: &dyn Store, key: &Key) -> Option<i64> {
    store.get(key).await.unwrap().and_then(|item| item.count)
}

/// The platform's rating totals (`RATING_TOTALS`): practitioner id → (count, stars).
async fn rating_totals(store: &dyn Store) -> Vec<(String, (i64, i64))> {
    match store.get(&keys::rating_totals()).await.unwrap() {
        Some(item) => item
            .decode::<RatingTotals>()
            .unwrap()
            .practitioners
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

fn tally(entries: &[(&str, i64, i64)]) -> Vec<(String, (i64, i64))> {
    entries
        .iter()
        .map(|(p, c, s)| (p.to_string(), (*c, *s)))
        .collect()
}

async fn partition(store: &dyn Store, pk: &str) -> Vec<Item> {
    query_all(store, &Query::partition(Index::Primary, pk))
        .await
        .unwrap()
}

fn status_of(result: &EventResult) -> &'static str {
    match result.status {
        EventStatus::Accepted => "accepted",
        EventStatus::Duplicate => "duplicate",
        EventStatus::Rejected { .. } => "rejected",
    }
}

// ---- the catalogue document ----

/// When the doc's examples are received: a day after [`now`] (their latest happens on
/// 2026-03-04).
fn doc_examples_received() -> DateTime<Utc> {
    now() + Duration::days(1)
}

/// Every ```json block of `docs/events.md`, with the line it starts on.
fn doc_examples() -> Vec<(usize, Value)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim();
        match current.as_mut() {
            None if fence == "```json" => current = Some((n + 1, String::new())),
            None => {}
            Some(_) if fence == "```" => {
                let (start, body) = current.take().unwrap();
                let value = serde_json::from_str(&body).unwrap_or_else(|e| {
                    panic!("docs/events.md: the ```json block at line {start} is not JSON: {e}")
                });
                blocks.push((start, value));
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(
        current.is_none(),
        "docs/events.md: a ```json block is not closed"
    );
    blocks
}

#[test]
fn every_doc_example_is_valid_and_the_examples_cover_the_catalogue() {
    let examples = doc_examples();
    let mut types = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (line, value) in &examples {
        let event = parse_event(value, doc_examples_received()).unwrap_or_else(|(_, r)| {
            panic!(
                "docs/events.md line {line}: example refused on `{}`: {}",
                r.field, r.reason
            )
        });
        assert!(
            ids.insert(event.id.to_string()),
            "docs/events.md line {line}: event id {} used twice",
            event.id
        );
        types.push(event.body.type_name());
    }
    assert_eq!(
        types, EVENT_TYPES,
        "docs/events.md must show exactly one example per event type, in catalogue order"
    );
}

#[test]
fn every_event_type_has_a_section_in_the_doc() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.md")).unwrap();
    let headings: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
        .collect();
    assert_eq!(headings, EVENT_TYPES);
}

/// The doc's examples also ingest: every one is accepted, and a second time a duplicate.
async fn doc_examples_ingest(store: Arc<dyn Store>) {
    let events: Vec<Value> = doc_examples().into_iter().map(|(_, v)| v).collect();
    let first = ingest_batch(store.as_ref(), doc_examples_received(), &events)
        .await
        .unwrap();
    assert_eq!(
        (first.accepted, first.duplicates, first.rejected),
        (events.len(), 0, 0),
        "{first:#?}"
    );
    let again = ingest_batch(store.as_ref(), doc_examples_received(), &events)
        .await
        .unwrap();
    assert_eq!(
        (again.accepted, again.duplicates, again.rejected),
        (0, events.len(), 0)
    );
}

// ---- validation ----

/// A valid event of each shape the bad-event table mutates.
fn good_rating() -> Value {
    rating("evt_r1", "rat_1", "prac_1", 4, t(0))
}

fn good_practitioner() -> Value {
    events::practitioner(
        "prac_1",
        "Dr. Ángela Müller",
        &["Dermatology"],
        "approved",
        4500,
        false,
    )
    .event("evt_p1", t(0))
}

fn good_payment() -> Value {
    payment(
        "evt_pay1",
        "pay_1",
        "booked_appointment",
        Some("cons_1"),
        3500,
        525,
        t(0),
    )
}

fn good_system_message() -> Value {
    events::system_message(
        "thr_1",
        "msg_1",
        "The consultation was booked for Monday 10:00.",
    )
    .event("evt_m1", t(0))
}

fn good_participant_message() -> Value {
    message("evt_m2", "thr_1", "msg_2", "patient", t(0))
}

fn good_caller() -> Value {
    participant_joined("sess_1", "seg_1", "part_1", None).event("evt_pj1", t(0))
}

fn with(mut event: Value, path: &[&str], value: Value) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut target = &mut event;
    for p in parents {
        target = &mut target[*p];
    }
    target[*last] = value;
    event
}

fn without(mut event: Value, path: &[&str]) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut target = &mut event;
    for p in parents {
        target = &mut target[*p];
    }
    target.as_object_mut().unwrap().remove(*last);
    event
}

/// One bad event: what it is, the event, the field it must be refused on, and the offending
/// value as text (which neither the field nor the reason may repeat; empty when nothing to echo).
struct Bad {
    what: &'static str,
    event: Value,
    field: &'static str,
    value: &'static str,
}

fn bad_events() -> Vec<Bad> {
    vec![
        Bad {
            what: "missing field",
            event: without(good_rating(), &["data", "practitioner_id"]),
            field: "data.practitioner_id",
            value: "",
        },
        Bad {
            what: "missing nested field",
            event: without(good_payment(), &["data", "total", "currency"]),
            field: "data.total.currency",
            value: "",
        },
        Bad {
            what: "wrong type",
            event: with(good_rating(), &["data", "stars"], json!("five stars")),
            field: "data.stars",
            value: "five stars",
        },
        Bad {
            what: "wrong type (number for an id)",
            event: with(good_rating(), &["data", "patient_id"], json!(73519)),
            field: "data.patient_id",
            value: "73519",
        },
        Bad {
            what: "unknown field",
            event: with(
                good_rating(),
                &["data", "patient_name"],
                json!("Jonas Lindqvist"),
            ),
            field: "data.patient_name",
            value: "Jonas Lindqvist",
        },
        Bad {
            what: "unknown nested field",
            event: with(
                good_payment(),
                &["data", "total", "card_last4"],
                json!("4242"),
            ),
            field: "data.total.card_last4",
            value: "4242",
        },
        Bad {
            what: "unknown enumeration value",
            event: with(
                good_practitioner(),
                &["data", "approval"],
                json!("suspended-by-Jonas"),
            ),
            field: "data.approval",
            value: "suspended-by-Jonas",
        },
        Bad {
            what: "bad currency",
            event: with(
                good_payment(),
                &["data", "total", "currency"],
                json!("Euro"),
            ),
            field: "data.total.currency",
            value: "Euro",
        },
        Bad {
            what: "negative price",
            event: with(
                good_practitioner(),
                &["data", "price", "amount_minor"],
                json!(-4517),
            ),
            field: "data.price.amount_minor",
            value: "4517",
        },
        Bad {
            what: "fractional money",
            event: with(
                good_payment(),
                &["data", "total", "amount_minor"],
                json!(35.17),
            ),
            field: "data.total.amount_minor",
            value: "35.17",
        },
        Bad {
            what: "stars 6",
            event: with(good_rating(), &["data", "stars"], json!(6)),
            field: "data.stars",
            value: "6",
        },
        Bad {
            what: "stars 0",
            event: with(good_rating(), &["data", "stars"], json!(0)),
            field: "data.stars",
            value: "0",
        },
        Bad {
            what: "stars negative",
            event: with(good_rating(), &["data", "stars"], json!(-3)),
            field: "data.stars",
            value: "-3",
        },
        Bad {
            what: "empty name",
            event: with(good_practitioner(), &["data", "name"], json!("   ")),
            field: "data.name",
            value: "",
        },
        Bad {
            what: "refund with a positive total",
            event: payment("evt_ref", "pay_2", "refund", None, 3517, 0, t(0)),
            field: "data.total.amount_minor",
            value: "3517",
        },
        Bad {
            what: "booked appointment with a negative total",
            event: payment(
                "evt_neg",
                "pay_3",
                "booked_appointment",
                Some("c"),
                -3517,
                0,
                t(0),
            ),
            field: "data.total.amount_minor",
            value: "3517",
        },
        Bad {
            what: "commission above total",
            event: with(good_payment(), &["data", "commission_minor"], json!(9871)),
            field: "data.commission_minor",
            value: "9871",
        },
        Bad {
            what: "commission of the other sign",
            event: payment("evt_ref2", "pay_4", "refund", None, -3500, 525, t(0)),
            field: "data.commission_minor",
            value: "525",
        },
        Bad {
            what: "booked appointment without a consultation",
            event: without(good_payment(), &["data", "consultation_id"]),
            field: "data.consultation_id",
            value: "",
        },
        Bad {
            what: "system message with ciphertext",
            event: with(
                good_system_message(),
                &["data", "ciphertext"],
                json!("c2VjcmV0IG5vdGU="),
            ),
            field: "data.ciphertext",
            value: "c2VjcmV0IG5vdGU=",
        },
        Bad {
            what: "participant message without ciphertext",
            event: without(good_participant_message(), &["data", "ciphertext"]),
            field: "data.ciphertext",
            value: "",
        },
        Bad {
            what: "participant message with plain text",
            event: with(
                good_participant_message(),
                &["data", "ciphertext"],
                json!("I have a rash on my arm"),
            ),
            field: "data.ciphertext",
            value: "rash on my arm",
        },
        Bad {
            what: "participant message with system text",
            event: with(
                good_participant_message(),
                &["data", "system_text"],
                json!("Hello Jonas"),
            ),
            field: "data.system_text",
            value: "Hello Jonas",
        },
        Bad {
            what: "kind system from a patient",
            event: with(
                good_participant_message(),
                &["data", "kind"],
                json!("system"),
            ),
            field: "data.kind",
            value: "",
        },
        Bad {
            what: "caller with an account_id",
            event: with(
                good_caller(),
                &["data", "account_id"],
                json!("acc_jonas_lindqvist"),
            ),
            field: "data.account_id",
            value: "acc_jonas_lindqvist",
        },
        Bad {
            what: "host without an account_id",
            event: with(good_caller(), &["data", "participant_type"], json!("host")),
            field: "data.account_id",
            value: "",
        },
        Bad {
            what: "bad id characters",
            event: with(good_rating(), &["id"], json!("evt Jonas Lindqvist")),
            field: "id",
            value: "Jonas Lindqvist",
        },
        Bad {
            what: "bad id characters in data",
            event: with(
                good_rating(),
                &["data", "rating_id"],
                json!("rat/Jonas Lindqvist"),
            ),
            field: "data.rating_id",
            value: "Jonas Lindqvist",
        },
        Bad {
            what: "id not a string",
            event: with(good_rating(), &["id"], json!(918273)),
            field: "id",
            value: "918273",
        },
        Bad {
            what: "id too long",
            event: with(good_rating(), &["id"], json!("e".repeat(129))),
            field: "id",
            value: "eeeeeeeeee",
        },
        Bad {
            what: "bad occurred_at",
            event: with(
                good_rating(),
                &["occurred_at"],
                json!("yesterday at Jonas's"),
            ),
            field: "occurred_at",
            value: "Jonas",
        },
        Bad {
            what: "occurred_at without an offset",
            event: with(
                good_rating(),
                &["occurred_at"],
                json!("2026-03-02T09:17:43"),
            ),
            field: "occurred_at",
            value: "09:17:43",
        },
        Bad {
            what: "occurred_at in year 9999",
            event: with(
                good_rating(),
                &["occurred_at"],
                json!("9999-12-31T23:59:59Z"),
            ),
            field: "occurred_at",
            value: "9999",
        },
        Bad {
            what: "occurred_at before 2000",
            event: with(
                good_rating(),
                &["occurred_at"],
                json!("1999-12-31T23:59:59Z"),
            ),
            field: "occurred_at",
            value: "1999",
        },
        Bad {
            what: "amount past 10^12 minor units",
            event: with(
                good_payment(),
                &["data", "total", "amount_minor"],
                json!(i64::MAX),
            ),
            field: "data.total.amount_minor",
            value: "9223372036854775807",
        },
        Bad {
            what: "price past 10^12 minor units",
            event: with(
                good_practitioner(),
                &["data", "price", "amount_minor"],
                json!(1_000_000_000_001_i64),
            ),
            field: "data.price.amount_minor",
            value: "1000000000001",
        },
        Bad {
            what: "missing occurred_at",
            event: without(good_rating(), &["occurred_at"]),
            field: "occurred_at",
            value: "",
        },
        Bad {
            what: "unknown type",
            event: with(good_rating(), &["type"], json!("rating.deleted_by_jonas")),
            field: "type",
            value: "jonas",
        },
        Bad {
            what: "missing type",
            event: without(good_rating(), &["type"]),
            field: "type",
            value: "",
        },
        Bad {
            what: "data not an object",
            event: with(good_rating(), &["data"], json!("Jonas Lindqvist, 5 stars")),
            field: "data",
            value: "Jonas",
        },
        Bad {
            what: "data missing",
            event: without(good_rating(), &["data"]),
            field: "data",
            value: "",
        },
        Bad {
            what: "event not an object",
            event: json!("Jonas `Lindqvist` rated 5"),
            field: "event",
            value: "Lindqvist",
        },
        Bad {
            what: "event as an array",
            event: json!(["evt_arr", "rating.submitted", "2026-03-02T09:00:00Z", {
                "rating_id": "rat_1", "patient_id": "pat_1", "practitioner_id": "prac_1", "stars": 4
            }]),
            field: "event",
            value: "",
        },
    ]
}

#[test]
fn bad_events_are_refused_on_the_exact_field_without_echoing_the_value() {
    for bad in bad_events() {
        let (_, rejection) = match parse_event(&bad.event, now()) {
            Ok(event) => panic!("{}: accepted: {event:?}", bad.what),
            Err(e) => e,
        };
        assert_eq!(rejection.field, bad.field, "{}: {rejection:?}", bad.what);
        assert!(!rejection.reason.is_empty(), "{}: empty reason", bad.what);
        if !bad.value.is_empty() {
            for text in [&rejection.reason, &rejection.field] {
                assert!(
                    !text.to_lowercase().contains(&bad.value.to_lowercase()),
                    "{}: `{text}` repeats the offending value",
                    bad.what
                );
            }
        }
    }
}

#[test]
fn the_good_events_the_table_mutates_are_valid() {
    for event in [
        good_rating(),
        good_practitioner(),
        good_payment(),
        good_system_message(),
        good_participant_message(),
        good_caller(),
    ] {
        parse_event(&event, now()).unwrap_or_else(|(_, r)| panic!("{event}: {r:?}"));
    }
}

#[test]
fn an_invalid_event_id_is_not_echoed_back() {
    let bad = with(good_rating(), &["id"], json!("evt Jonas Lindqvist"));
    let (id, _) = parse_event(&bad, now()).unwrap_err();
    assert_eq!(id, None);
    // A valid id is given back with a rejection elsewhere, so the caller can match it up.
    let bad = with(good_rating(), &["data", "stars"], json!(9));
    let (id, r) = parse_event(&bad, now()).unwrap_err();
    assert_eq!(
        (id.as_deref(), r.field.as_str()),
        (Some("evt_r1"), "data.stars")
    );
}

#[test]
fn equivalent_spellings_parse_to_the_same_event() {
    let a = good_practitioner();
    let b = with(
        with(
            a.clone(),
            &["occurred_at"],
            json!("2026-03-02T10:00:00+01:00"),
        ),
        &["data", "name"],
        json!("  Dr. Ángela Müller "),
    );
    assert_eq!(
        parse_event(&a, now()).unwrap(),
        parse_event(&b, now()).unwrap()
    );
}

// ---- ingest, on both adapters ----

fn embedded() -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::in_memory())
}

async fn moto() -> Arc<dyn Store> {
    Arc::new(dynamo_store().await)
}

/// Declares, for each scenario `f(Arc<dyn Store>)`, a module `f` with the tests `embedded`
/// and `moto`.
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name(super::embedded()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn moto() {
                    super::$name(super::moto().await).await;
                }
            }
        )+
    };
}

on_both_stores!(
    doc_examples_ingest,
    good_events_land_and_bad_ones_are_reported,
    a_replayed_batch_changes_nothing,
    same_id_with_other_content_is_rejected_on_id,
    thread_opened_before_its_messages_lands_the_same,
    participant_left_before_joined_lands_the_same,
    an_older_snapshot_does_not_overwrite_a_newer_one,
    ratings_move_the_counters,
    a_rating_sent_again_is_counted_once,
    a_voucher_redemption_sent_again_is_counted_once,
    a_payment_opens_a_consultation,
    the_earliest_payment_owns_its_consultation,
    the_feed_orders_threads_by_last_message,
);

async fn good_events_land_and_bad_ones_are_reported(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let batch = vec![
        rating("evt_ok1", "rat_ok1", "prac_1", 5, t(0)),
        with(
            rating("evt_bad1", "rat_bad1", "prac_1", 4, t(1)),
            &["data", "stars"],
            json!(6),
        ),
        events::patient("pat_1", "Jonas").event("evt_ok2", t(2)),
        with(good_rating(), &["type"], json!("rating.deleted")),
        with(
            payment(
                "evt_bad2",
                "pay_x",
                "booked_appointment",
                Some("c_x"),
                3500,
                0,
                t(3),
            ),
            &["data", "total", "currency"],
            json!("euro"),
        ),
        message("evt_ok3", "thr_1", "msg_1", "patient", t(4)),
        json!(42),
    ];
    let report = ingest(store, &batch).await;
    assert_eq!(
        (report.accepted, report.duplicates, report.rejected),
        (3, 0, 4)
    );
    let summary: Vec<(usize, Option<&str>, &str, Option<&str>)> = report
        .results
        .iter()
        .map(|r| {
            let field = match &r.status {
                EventStatus::Rejected { field, .. } => Some(field.as_str()),
                _ => None,
            };
            (r.index, r.id.as_deref(), status_of(r), field)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, Some("evt_ok1"), "accepted", None),
            (1, Some("evt_bad1"), "rejected", Some("data.stars")),
            (2, Some("evt_ok2"), "accepted", None),
            (3, Some("evt_r1"), "rejected", Some("type")),
            (4, Some("evt_bad2"), "rejected", Some("data.total.currency")),
            (5, Some("evt_ok3"), "accepted", None),
            (6, None, "rejected", Some("event")),
        ]
    );
    // The good ones landed ...
    let r: Option<Rating> = get(store, &keys::rating("rat_ok1")).await.decode().unwrap();
    assert_eq!(r.map(|r| r.stars), Some(5));
    assert!(store.get(&keys::patient("pat_1")).await.unwrap().is_some());
    let thread: ThreadSummary = get(store, &keys::thread("thr_1")).await.decode().unwrap();
    assert_eq!(thread.message_count, 1);
    // ... the bad ones left nothing: no item, no marker, no counter move.
    assert_eq!(store.get(&keys::rating("rat_bad1")).await.unwrap(), None);
    assert_eq!(store.get(&keys::payment("pay_x")).await.unwrap(), None);
    assert_eq!(store.get(&keys::consultation("c_x")).await.unwrap(), None);
    for id in ["evt_bad1", "evt_bad2", "evt_r1"] {
        assert_eq!(store.get(&keys::event(id)).await.unwrap(), None, "{id}");
    }
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_1")).await,
        Some(1)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_1")).await,
        Some(5)
    );
    // A rejected event can be sent again once corrected.
    let fixed = rating("evt_bad1", "rat_bad1", "prac_1", 4, t(1));
    let report = ingest(store, &[fixed]).await;
    assert_eq!(report.accepted, 1, "{report:?}");
}

/// Everything the replay scenario's events touch.
async fn snapshot(store: &dyn Store) -> Vec<Item> {
    let mut items = Vec::new();
    for pk in [
        "THREAD#thr_1",
        "PRAC#prac_1",
        "RATING#rat_1",
        "PAY#pay_1",
        "CONSULT#cons_1",
        "PARTY#pat_1",
        "PARTY#prac_1",
        "VOUCHER#SPRING26",
        "SESSION#sess_1",
        "EVENT#evt_1",
    ] {
        items.extend(partition(store, pk).await);
    }
    for list in [
        lists::FEED,
        lists::CONSULTATIONS,
        lists::RATINGS,
        lists::PAYMENTS,
    ] {
        items.extend(
            query_all(store, &Query::partition(Index::Gsi1, list))
                .await
                .unwrap(),
        );
    }
    items
}

async fn a_replayed_batch_changes_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let batch = vec![
        thread_created("evt_1", "thr_1", t(0)),
        message("evt_2", "thr_1", "msg_1", "patient", t(1)),
        message("evt_3", "thr_1", "msg_2", "practitioner", t(2)),
        opened("evt_4", "thr_1", t(3)),
        rating("evt_5", "rat_1", "prac_1", 4, t(4)),
        payment(
            "evt_6",
            "pay_1",
            "booked_appointment",
            Some("cons_1"),
            4500,
            675,
            t(5),
        ),
        events::voucher_created("SPRING26")
            .with("usage_limit", 10)
            .event("evt_7", t(6)),
        events::voucher_redeemed("SPRING26", "red_1", "pat_1").event("evt_8", t(7)),
        participant_joined("sess_1", "seg_1", "p_1", Some("acc_1")).event("evt_9", t(8)),
    ];
    let first = ingest(store, &batch).await;
    assert_eq!(first.accepted, batch.len(), "{first:#?}");
    let before = snapshot(store).await;
    assert!(
        before.len() > 15,
        "the snapshot sees the read models: {before:#?}"
    );

    let again = ingest(store, &batch).await;
    assert_eq!(
        (again.accepted, again.duplicates, again.rejected),
        (0, batch.len(), 0)
    );
    assert!(again
        .results
        .iter()
        .all(|r| r.status == EventStatus::Duplicate));
    // Item for item, version for version, counter for counter: nothing moved.
    assert_eq!(snapshot(store).await, before);

    // One by one and shuffled, the same.
    let mut reversed = batch.clone();
    reversed.reverse();
    for event in &reversed {
        let report = ingest(store, std::slice::from_ref(event)).await;
        assert_eq!(report.duplicates, 1);
    }
    assert_eq!(snapshot(store).await, before);
}

async fn same_id_with_other_content_is_rejected_on_id(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let first = rating("evt_same", "rat_1", "prac_1", 4, t(0));
    ingest_all_accepted(store, std::slice::from_ref(&first)).await;
    let rating_before = get(store, &keys::rating("rat_1")).await;

    let other = rating("evt_same", "rat_1", "prac_1", 1, t(0));
    let report = ingest(store, &[other]).await;
    match &report.results[0].status {
        EventStatus::Rejected { field, reason } => {
            assert_eq!(field, "id");
            assert!(!reason.is_empty());
        }
        s => panic!("expected a rejection on id, got {s:?}"),
    }
    assert_eq!(report.results[0].id.as_deref(), Some("evt_same"));
    // Another type under the same id: also refused.
    let other_type = opened("evt_same", "thr_1", t(0));
    let report = ingest(store, &[other_type]).await;
    assert!(
        matches!(&report.results[0].status, EventStatus::Rejected { field, .. } if field == "id")
    );
    assert_eq!(store.get(&keys::thread("thr_1")).await.unwrap(), None);

    // The first event stands.
    assert_eq!(get(store, &keys::rating("rat_1")).await, rating_before);
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_1")).await,
        Some(1)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_1")).await,
        Some(4)
    );

    // The same event spelled differently (offset, padding) is a duplicate, not a conflict.
    let respelled = with(
        with(
            first,
            &["occurred_at"],
            json!("2026-03-02T10:00:00.000+01:00"),
        ),
        &["data", "comment"],
        json!("  Clear and kind.  "),
    );
    let report = ingest(store, &[respelled]).await;
    assert_eq!(report.results[0].status, EventStatus::Duplicate);
}

async fn thread_opened_before_its_messages_lands_the_same(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let events = |thread: &str, prefix: &str| {
        vec![
            thread_created(&format!("{prefix}_1"), thread, t(0)),
            message(&format!("{prefix}_2"), thread, "msg_1", "patient", t(1)),
            message(
                &format!("{prefix}_3"),
                thread,
                "msg_2",
                "practitioner",
                t(5),
            ),
            opened(&format!("{prefix}_4"), thread, t(3)),
            message(&format!("{prefix}_5"), thread, "msg_3", "patient", t(7)),
            opened(&format!("{prefix}_6"), thread, t(4)),
        ]
    };
    // In order of time on one thread; the opens first (and everything reversed) on the other.
    let mut in_order = events("thr_a", "a");
    in_order.sort_by_key(|e| e["occurred_at"].as_str().unwrap().to_string());
    let mut opens_first = events("thr_b", "b");
    opens_first.sort_by_key(|e| (e["type"] != "thread.opened", e["occurred_at"].to_string()));
    opens_first[2..].reverse();
    assert_eq!(opens_first[0]["type"], "thread.opened");
    ingest_all_accepted(store, &in_order).await;
    ingest_all_accepted(store, &opens_first).await;

    let a_item = get(store, &keys::thread("thr_a")).await;
    let b_item = get(store, &keys::thread("thr_b")).await;
    let a: ThreadSummary = a_item.decode().unwrap();
    let mut b: ThreadSummary = b_item.decode().unwrap();
    b.thread_id = a.thread_id.clone();
    assert_eq!(a, b);
    assert_eq!(a.message_count, 3);
    assert_eq!(a.practitioner_opened_at, Some(t(4)));
    assert_eq!(a.last_patient_message_at, Some(t(7)));
    assert_eq!(a.first_patient_message_at, Some(t(1)));
    assert_eq!(a.last_message_at, Some(t(7)));
    // Same Feed position too.
    let feed_time = |item: &Item| {
        item.gsi1
            .as_ref()
            .map(|k| k.sk.split('#').next().unwrap().to_string())
    };
    assert_eq!(feed_time(&a_item), Some(sort_time(t(7))));
    assert_eq!(feed_time(&a_item), feed_time(&b_item));
    // Every message is stored in both threads.
    for thread in ["thr_a", "thr_b"] {
        let msgs = query_all(
            store,
            &Query::partition(Index::Primary, keys::thread_pk(thread))
                .range(domain::ports::SkRange::BeginsWith("MSG#".into())),
        )
        .await
        .unwrap();
        assert_eq!(msgs.len(), 3, "{thread}");
    }
}

async fn participant_left_before_joined_lands_the_same(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let joined = |id: &str, session: &str, at: DateTime<Utc>| {
        participant_joined(session, "seg_1", "part_h", Some("acc_7d21f0")).event(id, at)
    };
    let left = |id: &str, session: &str, at: DateTime<Utc>, kbps: u32| {
        participant_left(session, "seg_1", "part_h", bandwidth(kbps)).event(id, at)
    };
    // A join, a leave, a rejoin and a final leave.
    ingest_all_accepted(
        store,
        &[
            joined("a1", "sess_a", t(0)),
            left("a2", "sess_a", t(10), 1000),
            joined("a3", "sess_a", t(12)),
            left("a4", "sess_a", t(30), 1200),
        ],
    )
    .await;
    ingest_all_accepted(
        store,
        &[
            left("b4", "sess_b", t(30), 1200),
            left("b2", "sess_b", t(10), 1000),
            joined("b3", "sess_b", t(12)),
            joined("b1", "sess_b", t(0)),
        ],
    )
    .await;
    let a_item = get(store, &keys::participant("sess_a", "seg_1", "part_h")).await;
    let b_item = get(store, &keys::participant("sess_b", "seg_1", "part_h")).await;
    let a: SegmentParticipant = a_item.decode().unwrap();
    let mut b: SegmentParticipant = b_item.decode().unwrap();
    b.session_id = a.session_id.clone();
    assert_eq!(a, b);
    assert_eq!((a.joined_at, a.left_at), (Some(t(0)), Some(t(30))));
    assert_eq!(a.bandwidth.map(|b| b.send_kbps_avg), Some(1200));
    assert_eq!(a.account_id.as_deref(), Some("acc_7d21f0"));
    // Both are listed under the host's account.
    let parts = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::account_participations("acc_7d21f0")),
    )
    .await
    .unwrap();
    assert_eq!(parts.len(), 2);
}

async fn an_older_snapshot_does_not_overwrite_a_newer_one(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let upsert = |id: &str, at: DateTime<Utc>, name: &str, price: i64| {
        events::practitioner("prac_1", name, &["Dermatology"], "approved", price, true)
            .event(id, at)
    };
    ingest_all_accepted(
        store,
        &[upsert("evt_new", t(60), "Dr. Ángela Müller-Roth", 5000)],
    )
    .await;
    let newer = get(store, &keys::practitioner("prac_1")).await;

    // The older one is a valid new event (accepted), but changes nothing.
    ingest_all_accepted(store, &[upsert("evt_old", t(0), "Dr. Angela Müller", 4000)]).await;
    let after = get(store, &keys::practitioner("prac_1")).await;
    assert_eq!(
        after, newer,
        "the item, its version and its index entry are unchanged"
    );
    let p: Practitioner = after.decode().unwrap();
    assert_eq!(p.name.as_deref(), Some("Dr. Ángela Müller-Roth"));
    assert_eq!(p.price.map(|m| m.amount_minor), Some(5000));
    assert_eq!(p.profile_as_of, Some(t(60)));
    let listed = query_all(store, &Query::partition(Index::Gsi1, lists::PRACTITIONERS))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0]
        .gsi1
        .as_ref()
        .unwrap()
        .sk
        .starts_with("dr. angela muller-roth#"));

    // Availability is a snapshot of its own: an older change after a newer one is ignored,
    // and it does not touch the profile.
    let availability = |id: &str, at: DateTime<Utc>, a: &str| {
        events::availability_changed("prac_1", a).event(id, at)
    };
    ingest_all_accepted(
        store,
        &[
            availability("evt_av2", t(90), "away"),
            availability("evt_av1", t(80), "available"),
        ],
    )
    .await;
    let p: Practitioner = get(store, &keys::practitioner("prac_1"))
        .await
        .decode()
        .unwrap();
    assert_eq!(
        p.availability,
        Some(domain::events::types::Availability::Away)
    );
    assert_eq!(p.name.as_deref(), Some("Dr. Ángela Müller-Roth"));
}

/// A store whose writes reach the wrapped one one at a time; reads are not held up.
///
/// moto (5.2) runs a TransactWriteItems op by op and, when an op fails, restores a copy of the
/// whole table taken when that request began, without a lock. Concurrent transactions on one
/// table then revert each other's writes: run bare, the concurrency scenario below leaves an
/// event marker without its effects, or no winner at all. DynamoDB does not do that (a
/// transaction is atomic and isolated). So on moto the scenario's writes go one at a time;
/// what ingest itself must get right (twenty deliveries each reading "not ingested yet" and
/// racing to commit) stays concurrent.
pub(crate) struct OneWriteAtATime {
    pub(crate) inner: Arc<dyn Store>,
    pub(crate) lock: tokio::sync::Mutex<()>,
}

type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

// `Store` is an `async_trait`; this is what the macro would write.
impl Store for OneWriteAtATime {
    fn get<'s, 'k, 'f>(&'s self, key: &'k Key) -> StoreFuture<'f, Option<Item>>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.get(key)
    }

    fn put<'s, 'f>(&'s self, item: Item, condition: Condition) -> StoreFuture<'f, ()>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let _one = self.lock.lock().await;
            self.inner.put(item, condition).await
        })
    }

    fn delete<'s, 'k, 'f>(&'s self, key: &'k Key, condition: Condition) -> StoreFuture<'f, ()>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let _one = self.lock.lock().await;
            self.inner.delete(key, condition).await
        })
    }

    fn transact<'s, 'f>(&'s self, ops: Vec<TxOp>) -> StoreFuture<'f, ()>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let _one = self.lock.lock().await;
            self.inner.transact(ops).await
        })
    }

    fn add<'s, 'k, 'f>(&'s self, key: &'k Key, delta: i64) -> StoreFuture<'f, i64>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let _one = self.lock.lock().await;
            self.inner.add(key, delta).await
        })
    }

    fn query<'s, 'q, 'f>(&'s self, query: &'q Query) -> StoreFuture<'f, Page>
    where
        's: 'f,
        'q: 'f,
        Self: 'f,
    {
        self.inner.query(query)
    }

    fn put_many<'s, 'f>(&'s self, items: Vec<Item>) -> StoreFuture<'f, ()>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let _one = self.lock.lock().await;
            self.inner.put_many(items).await
        })
    }
}

mod concurrent_deliveries_land_once {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::concurrent_deliveries_land_once(super::embedded()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moto() {
        let store = OneWriteAtATime {
            inner: super::moto().await,
            lock: tokio::sync::Mutex::new(()),
        };
        super::concurrent_deliveries_land_once(Arc::new(store)).await;
    }
}

mod concurrent_ratings_all_count {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::concurrent_ratings_all_count(super::embedded()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moto() {
        let store = OneWriteAtATime {
            inner: super::moto().await,
            lock: tokio::sync::Mutex::new(()),
        };
        super::concurrent_ratings_all_count(Arc::new(store)).await;
    }
}

mod concurrent_events_on_one_thread_all_land {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::concurrent_events_on_one_thread_all_land(super::embedded()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moto() {
        let store = OneWriteAtATime {
            inner: super::moto().await,
            lock: tokio::sync::Mutex::new(()),
        };
        super::concurrent_events_on_one_thread_all_land(Arc::new(store)).await;
    }
}

/// Different events racing into one read model (twenty messages of one thread at once): each
/// lands once, none is lost to a lost race.
async fn concurrent_events_on_one_thread_all_land(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = Arc::clone(&store);
        let role = if n % 2 == 0 {
            "patient"
        } else {
            "practitioner"
        };
        let event = message(
            &format!("evt_m{n}"),
            "thr_hot",
            &format!("msg_{n}"),
            role,
            t(n),
        );
        tasks.push(tokio::spawn(async move {
            ingest_batch(store.as_ref(), now(), &[event]).await
        }));
    }
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        assert_eq!(report.accepted, 1, "{report:?}");
    }
    let store = store.as_ref();
    let thread: ThreadSummary = get(store, &keys::thread("thr_hot")).await.decode().unwrap();
    assert_eq!(thread.message_count, 20);
    assert_eq!(thread.first_patient_message_at, Some(t(0)));
    assert_eq!(thread.last_practitioner_message_at, Some(t(19)));
    assert_eq!(get(store, &keys::thread("thr_hot")).await.version, 20);
}

async fn concurrent_deliveries_land_once(store: Arc<dyn Store>) {
    let event = rating("evt_race", "rat_race", "prac_race", 3, t(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = Arc::clone(&store);
        let event = event.clone();
        tasks.push(tokio::spawn(async move {
            ingest_batch(store.as_ref(), now(), &[event]).await
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        statuses.push(report.results[0].status.clone());
    }
    let accepted = statuses
        .iter()
        .filter(|s| **s == EventStatus::Accepted)
        .count();
    let duplicates = statuses
        .iter()
        .filter(|s| **s == EventStatus::Duplicate)
        .count();
    assert_eq!((accepted, duplicates), (1, 19), "{statuses:?}");
    let store = store.as_ref();
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_race")).await,
        Some(1)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_race")).await,
        Some(3)
    );
    assert_eq!(get(store, &keys::rating("rat_race")).await.version, 1);
    assert_eq!(rating_totals(store).await, tally(&[("prac_race", 1, 3)]));
    assert_eq!(get(store, &keys::rating_totals()).await.version, 1);
}

/// Twenty different ratings of four practitioners at once: every one lands, and the
/// platform's rating totals (one item all of them write, on its version) count each exactly
/// once, equal to the ratings listed and to the totals on each profile.
async fn concurrent_ratings_all_count(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 0..20u8 {
        let store = Arc::clone(&store);
        let event = rating(
            &format!("evt_cr{n}"),
            &format!("rat_cr{n}"),
            &format!("prac_c{}", n % 4),
            n % 5 + 1,
            t(i64::from(n)),
        );
        tasks.push(tokio::spawn(async move {
            ingest_batch(store.as_ref(), now(), &[event]).await
        }));
    }
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        assert_eq!(report.accepted, 1, "{report:?}");
    }
    let store = store.as_ref();
    // By brute force from the ratings listed.
    let mut expected: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for item in query_all(store, &Query::partition(Index::Gsi1, lists::RATINGS))
        .await
        .unwrap()
    {
        let r: Rating = item.decode().unwrap();
        let e = expected.entry(r.practitioner_id).or_default();
        e.0 += 1;
        e.1 += i64::from(r.stars);
    }
    let expected: Vec<_> = expected.into_iter().collect();
    assert_eq!(
        expected,
        tally(&[
            ("prac_c0", 5, 15),
            ("prac_c1", 5, 15),
            ("prac_c2", 5, 15),
            ("prac_c3", 5, 15),
        ])
    );
    assert_eq!(rating_totals(store).await, expected);
    assert_eq!(get(store, &keys::rating_totals()).await.version, 20);
    for (p, (c, s)) in &expected {
        let profile: Practitioner = get(store, &keys::practitioner(p)).await.decode().unwrap();
        assert_eq!(profile.totals.get("rating_count"), Some(c), "{p}");
        assert_eq!(profile.totals.get("rating_stars"), Some(s), "{p}");
    }
}

async fn ratings_move_the_counters(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_1")).await,
        None
    );
    ingest_all_accepted(
        store,
        &[
            rating("e1", "rat_1", "prac_1", 5, t(0)),
            rating("e2", "rat_2", "prac_1", 3, t(1)),
            rating("e3", "rat_3", "prac_2", 2, t(2)),
            rating("e4", "rat_4", "prac_1", 4, t(3)),
        ],
    )
    .await;
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_1")).await,
        Some(3)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_1")).await,
        Some(12)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_2")).await,
        Some(1)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_2")).await,
        Some(2)
    );
    // Every rating is listed, newest last, and per practitioner.
    let all = query_all(store, &Query::partition(Index::Gsi1, lists::RATINGS))
        .await
        .unwrap();
    let ids: Vec<String> = all
        .iter()
        .map(|i| i.decode::<Rating>().unwrap().rating_id)
        .collect();
    assert_eq!(ids, ["rat_1", "rat_2", "rat_3", "rat_4"]);
    let mine = query_all(
        store,
        &Query::partition(Index::Gsi2, lists::practitioner_ratings("prac_1")),
    )
    .await
    .unwrap();
    assert_eq!(mine.len(), 3);
    assert_eq!(
        rating_totals(store).await,
        tally(&[("prac_1", 3, 12), ("prac_2", 1, 2)])
    );
}

/// A rating re-sent under a new event id (an edit, or a platform replay that minted a new id)
/// replaces the rating item and counts once: the count and the average stay those of the
/// ratings listed.
async fn a_rating_sent_again_is_counted_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
    ingest_all_accepted(
        store,
        &[
            rating("e1", "rat_1", "prac_1", 5, t(0)),
            rating("e2", "rat_2", "prac_1", 3, t(1)),
        ],
    )
    .await;
    assert_eq!(rating_totals(store).await, tally(&[("prac_1", 2, 8)]));
    // Re-delivered (same id, same content): a duplicate, nothing moves.
    let report = ingest(store, &[rating("e1", "rat_1", "prac_1", 5, t(0))]).await;
    assert_eq!(report.duplicates, 1, "{report:#?}");
    assert_eq!(rating_totals(store).await, tally(&[("prac_1", 2, 8)]));
    // The same rating again, under a new event id: nothing to count.
    ingest_all_accepted(store, &[rating("e1_again", "rat_1", "prac_1", 5, t(0))]).await;
    assert_eq!(rating_totals(store).await, tally(&[("prac_1", 2, 8)]));
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_1")).await,
        Some(2)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_1")).await,
        Some(8)
    );
    // An edit (newer): the stars move, the count does not.
    ingest_all_accepted(store, &[rating("e1_edit", "rat_1", "prac_1", 2, t(30))]).await;
    assert_eq!(rating_totals(store).await, tally(&[("prac_1", 2, 5)]));
    assert_eq!(
        count(store, &keys::practitioner_rating_count("prac_1")).await,
        Some(2)
    );
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_1")).await,
        Some(5)
    );
    // An older version arriving late changes nothing.
    ingest_all_accepted(store, &[rating("e1_late", "rat_1", "prac_1", 1, t(10))]).await;
    assert_eq!(
        count(store, &keys::practitioner_rating_stars("prac_1")).await,
        Some(5)
    );
    assert_eq!(rating_totals(store).await, tally(&[("prac_1", 2, 5)]));
    let r: Option<Rating> = get(store, &keys::rating("rat_1")).await.decode().unwrap();
    assert_eq!(r.map(|r| (r.stars, r.submitted_at)), Some((2, t(30))));
    // An edit that names another practitioner moves the rating's count and stars over.
    ingest_all_accepted(store, &[rating("e1_moved", "rat_1", "prac_2", 4, t(40))]).await;
    assert_eq!(
        rating_totals(store).await,
        tally(&[("prac_1", 1, 3), ("prac_2", 1, 4)])
    );
    // As the totals on the profiles.
    for (p, c, st) in [("prac_1", 1, 3), ("prac_2", 1, 4)] {
        let profile: Practitioner = get(store, &keys::practitioner(p)).await.decode().unwrap();
        assert_eq!(profile.totals.get("rating_count"), Some(&c), "{p}");
        assert_eq!(profile.totals.get("rating_stars"), Some(&st), "{p}");
    }
}

/// The same redemption re-sent under a new event id counts as one use.
async fn a_voucher_redemption_sent_again_is_counted_once(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let redeemed = |id: &str, redemption: &str, at: DateTime<Utc>| {
        events::voucher_redeemed("SPRING26", redemption, "pat_1")
            .with("payment_id", "pay_1")
            .event(id, at)
    };
    ingest_all_accepted(
        store,
        &[
            events::voucher_created("SPRING26")
                .with("usage_limit", 2)
                .event("v0", t(0)),
            redeemed("v1", "red_1", t(5)),
            redeemed("v2", "red_2", t(6)),
            redeemed("v1_again", "red_1", t(5)),
            redeemed("v1_later", "red_1", t(9)),
        ],
    )
    .await;
    assert_eq!(count(store, &keys::voucher_uses("SPRING26")).await, Some(2));
    let redemption = get(store, &keys::voucher_redemption("SPRING26", "red_1")).await;
    assert_eq!(redemption.body["redeemed_at"], json!(t(5)));
}

async fn a_payment_opens_a_consultation(store: Arc<dyn Store>) {
    let store = store.as_ref();
    ingest_all_accepted(
        store,
        &[
            payment(
                "e1",
                "pay_1",
                "booked_appointment",
                Some("cons_1"),
                4500,
                675,
                t(10),
            ),
            // A refund concerning it is an item of its own and opens nothing.
            payment("e2", "pay_2", "refund", Some("cons_1"), -4500, -675, t(20)),
            payment(
                "e3",
                "pay_3",
                "late_cancellation_fee",
                None,
                1000,
                150,
                t(21),
            ),
        ],
    )
    .await;
    let item = get(store, &keys::consultation("cons_1")).await;
    let c: Consultation = item.decode().unwrap();
    assert_eq!(c.thread_id.as_deref(), Some("thr_1"));
    assert_eq!(c.practitioner_id.as_deref(), Some("prac_1"));
    assert_eq!(c.payment_id.as_deref(), Some("pay_1"));
    assert_eq!(c.started_at, Some(t(10)));
    let gsi1 = item.gsi1.clone().expect("the consultation is listed");
    assert_eq!(gsi1.pk, lists::CONSULTATIONS);
    assert_eq!(gsi1.sk, format!("{}#cons_1", sort_time(t(10))));
    assert_eq!(
        item.gsi2.clone().map(|k| k.pk),
        Some(lists::practitioner_consultations("prac_1"))
    );
    let listed = query_all(store, &Query::partition(Index::Gsi1, lists::CONSULTATIONS))
        .await
        .unwrap();
    assert_eq!(listed, vec![item]);
    // The thread knows its consultation; every payment item is listed.
    assert!(store
        .get(&keys::thread_consultation("thr_1", "cons_1"))
        .await
        .unwrap()
        .is_some());
    let payments = query_all(store, &Query::partition(Index::Gsi1, lists::PAYMENTS))
        .await
        .unwrap();
    assert_eq!(payments.len(), 3);
    let refund: Option<domain::readmodels::Payment> =
        get(store, &keys::payment("pay_2")).await.decode().unwrap();
    assert_eq!(refund.map(|p| p.specialist_minor), Some(-3825));

    // A cancellation that arrives before its payment waits for it.
    ingest_all_accepted(
        store,
        &[
            events::consultation_cancelled("cons_2", "patient").event("e4", t(40)),
            payment(
                "e5",
                "pay_5",
                "booked_appointment",
                Some("cons_2"),
                4500,
                675,
                t(30),
            ),
        ],
    )
    .await;
    let item = get(store, &keys::consultation("cons_2")).await;
    let c: Consultation = item.decode().unwrap();
    assert_eq!((c.started_at, c.cancelled_at), (Some(t(30)), Some(t(40))));
    assert_eq!(
        item.gsi1.map(|k| k.pk).as_deref(),
        Some(lists::CONSULTATIONS)
    );
}

/// Of two opening payments naming one consultation, the earliest owns it, whichever arrives
/// last.
async fn the_earliest_payment_owns_its_consultation(store: Arc<dyn Store>) {
    let store = store.as_ref();
    ingest_all_accepted(
        store,
        &[
            payment(
                "e2",
                "pay_b",
                "booked_appointment",
                Some("cons_1"),
                4500,
                675,
                t(20),
            ),
            payment(
                "e1",
                "pay_a",
                "booked_appointment",
                Some("cons_1"),
                4500,
                675,
                t(10),
            ),
            payment(
                "e3",
                "pay_c",
                "booked_appointment",
                Some("cons_1"),
                4500,
                675,
                t(30),
            ),
        ],
    )
    .await;
    let c: Consultation = get(store, &keys::consultation("cons_1"))
        .await
        .decode()
        .unwrap();
    assert_eq!(
        (c.payment_id.as_deref(), c.started_at),
        (Some("pay_a"), Some(t(10)))
    );
    let listed = query_all(store, &Query::partition(Index::Gsi1, lists::CONSULTATIONS))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

async fn the_feed_orders_threads_by_last_message(store: Arc<dyn Store>) {
    let store = store.as_ref();
    ingest_all_accepted(
        store,
        &[
            thread_created("c1", "thr_quiet", t(3)),
            thread_created("c2", "thr_busy", t(0)),
            thread_created("c3", "thr_old", t(1)),
            // Out of order: the newest message of thr_busy first.
            message("m1", "thr_busy", "msg_3", "practitioner", t(50)),
            message("m2", "thr_old", "msg_1", "patient", t(20)),
            message("m3", "thr_busy", "msg_1", "patient", t(5)),
            message("m4", "thr_busy", "msg_2", "patient", t(40)),
            // A thread known only from a message (its thread.created has not arrived).
            message("m5", "thr_early", "msg_1", "patient", t(30)),
        ],
    )
    .await;
    let listed = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::FEED).backward(),
    )
    .await
    .unwrap();
    let order: Vec<String> = listed
        .iter()
        .map(|i| i.decode::<ThreadSummary>().unwrap().thread_id)
        .collect();
    assert_eq!(order, ["thr_busy", "thr_early", "thr_old", "thr_quiet"]);
    // A newer message moves a thread to the top; an older one arriving late does not.
    ingest_all_accepted(
        store,
        &[
            message("m6", "thr_quiet", "msg_1", "patient", t(60)),
            message("m7", "thr_old", "msg_0", "practitioner", t(2)),
        ],
    )
    .await;
    let listed = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::FEED).backward(),
    )
    .await
    .unwrap();
    let order: Vec<String> = listed
        .iter()
        .map(|i| i.decode::<ThreadSummary>().unwrap().thread_id)
        .collect();
    assert_eq!(order, ["thr_quiet", "thr_busy", "thr_early", "thr_old"]);
    // Paging backward gives the same order, one thread at a time.
    let mut paged = Vec::new();
    let mut query = Query::partition(Index::Gsi1, lists::FEED)
        .backward()
        .limit(1);
    loop {
        let page = store.query(&query).await.unwrap();
        paged.extend(
            page.items
                .iter()
                .map(|i| i.decode::<ThreadSummary>().unwrap().thread_id),
        );
        match page.next {
            Some(c) => query.after = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, order);
}

/// `pat_1`'s rating `rat_1` of `prac_1`, without a comment, at 09:`minute` on 2 March.
fn rating_event(id: &str, stars: u8, minute: u32) -> Value {
    events::rating("rat_1", "pat_1", "prac_1", stars)
        .event(id, format!("2026-03-02T09:{minute:02}:00Z"))
}

async fn rating_counters(store: &dyn domain::ports::Store) -> (Option<i64>, Option<i64>) {
    let count = store
        .get(&domain::readmodels::keys::practitioner_rating_count(
            "prac_1",
        ))
        .await
        .unwrap();
    let stars = store
        .get(&domain::readmodels::keys::practitioner_rating_stars(
            "prac_1",
        ))
        .await
        .unwrap();
    (count.and_then(|i| i.count), stars.and_then(|i| i.count))
}

/// One rating re-sent under new event ids counts once.
#[tokio::test]
async fn a_rating_counts_once_whatever_event_carries_it() {
    let store = EmbeddedStore::in_memory();
    let now = chrono::Utc::now();
    let report = ingest_batch(
        &store,
        now,
        &[rating_event("e1", 5, 0), rating_event("e2", 5, 0)],
    )
    .await
    .unwrap();
    assert_eq!(report.accepted, 2);
    assert_eq!(rating_counters(&store).await, (Some(1), Some(5)));
    // A newer version moves the stars only; an older one arriving late changes nothing.
    ingest_batch(
        &store,
        now,
        &[rating_event("e3", 2, 30), rating_event("e4", 1, 10)],
    )
    .await
    .unwrap();
    assert_eq!(rating_counters(&store).await, (Some(1), Some(2)));
}
