//! The segment item as the Consultations report reads it (SPEC C9, Q4): ingest keeps on every
//! segment item a copy of each of its participants and of its session's waiting-area entry,
//! whatever order the events arrive in, on re-delivery and under concurrent deliveries, on
//! both store adapters.

#![allow(clippy::unwrap_used)]

use crate::support::events::{
    bandwidth, participant_joined, participant_left, queued_call_entered, segment_ended,
    segment_started, segment_transferred,
};
use crate::support::moto::dynamo_store;
use chrono::{DateTime, Duration, Utc};
use domain::events::ingest::ingest_batch;
use domain::export::cells::Cell;
use domain::org_reports::consultations::{build_rows, ConsultationFilter};
use domain::org_reports::load::{consultation_input, stream_consultation_rows};
use domain::org_reports::ReportScope;
use domain::ports::store::{query_all, Index, Query, Store};
use domain::readmodels::{keys, QueuedCall, Segment, SegmentParticipant};
use local_adapters::embedded_store::EmbeddedStore;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// 2026-03-02T09:00:00Z plus `minutes`.
fn t(minutes: i64) -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
}

fn now() -> DateTime<Utc> {
    t(24 * 60)
}

/// One transferred call of session `s` (event ids prefixed by `tag`): the caller waits in
/// clinic A, a host answers, the call moves to clinic B where another host joins; a second
/// host joins segment 1 after it ended (a late event), and the caller rejoins segment 2.
fn call(tag: &str, s: &str) -> Vec<Value> {
    let id = |n: &str| format!("{tag}_{n}");
    let at = |minutes: i64| t(minutes).to_rfc3339();
    let seg1 = format!("{s}_1");
    let seg2 = format!("{s}_2");
    let qc = format!("qc_{s}");
    let joined = |n: &str, seg: &str, p: &str, host: Option<&str>, minutes| {
        participant_joined(s, seg, p, host).event(&id(n), at(minutes))
    };
    let left = |n: &str, seg: &str, p: &str, minutes, kbps| {
        participant_left(s, seg, p, bandwidth(kbps)).event(&id(n), at(minutes))
    };
    vec![
        queued_call_entered(&qc, s, "org_seg", "cl_a").event(&id("q"), at(0)),
        segment_started(s, &seg1, &qc, "org_seg", "cl_a").event(&id("s1"), at(0)),
        joined("j1", &seg1, "p_caller", None, 0),
        joined("j2", &seg1, "p_host", Some("acc_1"), 5),
        left("l2", &seg1, "p_host", 20, 1100),
        segment_transferred(s, &seg1, "cl_b", &seg2).event(&id("x1"), at(20)),
        left("l1", &seg1, "p_caller", 20, 800),
        segment_ended(s, &seg1).event(&id("e1"), at(20)),
        segment_started(s, &seg2, &qc, "org_seg", "cl_b").event(&id("s2"), at(20)),
        joined("j3", &seg2, "p_caller", None, 21),
        joined("j4", &seg2, "p_host2", Some("acc_2"), 22),
        left("l3", &seg2, "p_caller", 30, 700),
        joined("j5", &seg2, "p_caller", None, 31),
        left("l5", &seg2, "p_caller", 40, 750),
        left("l4", &seg2, "p_host2", 40, 1300),
        segment_ended(s, &seg2).event(&id("e2"), at(40)),
        // Joined segment 1 after it ended (arrives last in the natural order).
        joined("j6", &seg1, "p_late", Some("acc_3"), 25),
    ]
}

/// A fixed shuffle (a linear congruential generator seeded by `seed`).
fn shuffled(mut events: Vec<Value>, seed: u64) -> Vec<Value> {
    let mut x = seed;
    for i in (1..events.len()).rev() {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = ((x >> 33) % (i as u64 + 1)) as usize;
        events.swap(i, j);
    }
    events
}

async fn ingest_each(store: &dyn Store, events: &[Value]) {
    for e in events {
        let report = ingest_batch(store, now(), std::slice::from_ref(e))
            .await
            .unwrap();
        assert_eq!(report.accepted, 1, "{report:?}");
    }
}

/// The session's items: its queued call, its segments by id and its participant items by
/// segment, as stored.
async fn session(
    store: &dyn Store,
    s: &str,
) -> (
    Option<QueuedCall>,
    BTreeMap<String, Segment>,
    BTreeMap<String, Vec<SegmentParticipant>>,
) {
    let items = query_all(
        store,
        &Query::partition(Index::Primary, keys::queued_call(s).pk),
    )
    .await
    .unwrap();
    let mut queued = None;
    let mut segments = BTreeMap::new();
    let mut parts: BTreeMap<String, Vec<SegmentParticipant>> = BTreeMap::new();
    for item in &items {
        if item.sk == "QUEUED" {
            queued = Some(item.decode::<QueuedCall>().unwrap());
        } else if item.sk.starts_with("SEG#") {
            let seg: Segment = item.decode().unwrap();
            segments.insert(seg.segment_id.clone(), seg);
        } else if item.sk.starts_with("PART#") {
            let p: SegmentParticipant = item.decode().unwrap();
            parts.entry(p.segment_id.clone()).or_default().push(p);
        }
    }
    for ps in parts.values_mut() {
        ps.sort_by(|a, b| a.participant_id.cmp(&b.participant_id));
    }
    (queued, segments, parts)
}

/// Every segment item of `s` carries exactly its participant items and its session's entry,
/// and the queued call lists exactly its segments. Returns the segments.
async fn assert_segments_exact(store: &dyn Store, s: &str) -> BTreeMap<String, Segment> {
    let (queued, segments, parts) = session(store, s).await;
    let queued = queued.expect("queued call item");
    assert_eq!(
        queued.segments,
        segments.keys().cloned().collect::<Vec<_>>(),
        "{s}"
    );
    for (id, seg) in &segments {
        assert_eq!(
            &seg.participants,
            parts.get(id).unwrap_or(&Vec::new()),
            "{s} {id}"
        );
        assert_eq!(seg.session_entered_at, queued.entered_at, "{s} {id}");
    }
    segments
}

/// The segments of one session with the session's id taken out, to compare two sessions.
fn normalised(s: &str, segments: BTreeMap<String, Segment>) -> Vec<Value> {
    segments
        .into_values()
        .map(|seg| {
            let text = serde_json::to_string(&seg).unwrap().replace(s, "S");
            serde_json::from_str(&text).unwrap()
        })
        .collect()
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
    segment_items_carry_their_participants_and_entry,
    any_arrival_order_gives_the_same_segment_items,
    redelivered_events_change_no_segment_item,
    the_consultations_report_reads_only_the_segment_index,
);

/// In the natural order: each segment holds its own participants (the late joiner of
/// segment 1 too) as their items are, and the session's entry.
async fn segment_items_carry_their_participants_and_entry(store: Arc<dyn Store>) {
    let store = store.as_ref();
    ingest_each(store, &call("n", "sess_n")).await;
    let segments = assert_segments_exact(store, "sess_n").await;
    assert_eq!(segments.len(), 2);
    let seg1 = &segments["sess_n_1"];
    let ids: Vec<&str> = seg1
        .participants
        .iter()
        .map(|p| p.participant_id.as_str())
        .collect();
    assert_eq!(ids, ["p_caller", "p_host", "p_late"]);
    let late = &seg1.participants[2];
    assert_eq!((late.joined_at, late.left_at), (Some(t(25)), None));
    assert_eq!(late.account_id.as_deref(), Some("acc_3"));
    let seg2 = &segments["sess_n_2"];
    let caller = &seg2.participants[0];
    assert_eq!(caller.participant_id, "p_caller");
    assert_eq!(
        (caller.joined_at, caller.left_at),
        (Some(t(21)), Some(t(40)))
    );
    assert_eq!(caller.bandwidth.map(|b| b.send_kbps_avg), Some(750));
    assert_eq!(seg1.session_entered_at, Some(t(0)));
    assert_eq!(seg2.session_entered_at, Some(t(0)));
    assert_eq!(seg1.to_segment_id.as_deref(), Some("sess_n_2"));
}

/// Reversed, and in four fixed shuffles (the queued call, a segment's start or a join
/// arriving after everything else): the same segment items as in the natural order.
async fn any_arrival_order_gives_the_same_segment_items(store: Arc<dyn Store>) {
    let store = store.as_ref();
    ingest_each(store, &call("n", "sess_n")).await;
    let want = normalised("sess_n", assert_segments_exact(store, "sess_n").await);
    let mut reversed = call("r", "sess_r");
    reversed.reverse();
    let mut orders = vec![("r".to_string(), reversed)];
    for seed in 1..=4u64 {
        let tag = format!("o{seed}");
        let events = shuffled(call(&tag, &format!("sess_{tag}")), seed);
        orders.push((tag, events));
    }
    // The queued call last of all.
    let mut last = call("q", "sess_q");
    let queued = last.remove(0);
    last.push(queued);
    orders.push(("q".to_string(), last));
    for (tag, events) in orders {
        let s = format!("sess_{tag}");
        ingest_each(store, &events).await;
        let got = normalised(&s, assert_segments_exact(store, &s).await);
        assert_eq!(got, want, "{tag}");
    }
}

/// Every item of the session's partition: version and body, by sort key.
async fn versions(store: &dyn Store, s: &str) -> BTreeMap<String, (u64, Value)> {
    let items = query_all(
        store,
        &Query::partition(Index::Primary, keys::queued_call(s).pk),
    )
    .await
    .unwrap();
    items
        .into_iter()
        .map(|i| (i.sk.clone(), (i.version, i.body)))
        .collect()
}

/// The same events again (duplicates by id), and the same facts under new event ids: no
/// segment item changes, not even its version.
async fn redelivered_events_change_no_segment_item(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let events = call("n", "sess_n");
    ingest_each(store, &events).await;
    let before = versions(store, "sess_n").await;
    let again = ingest_batch(store, now(), &events).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, events.len()));
    assert_eq!(versions(store, "sess_n").await, before);
    let renamed = call("m", "sess_n");
    let report = ingest_batch(store, now(), &renamed).await.unwrap();
    assert_eq!(report.accepted, renamed.len());
    assert_eq!(versions(store, "sess_n").await, before);
    assert_segments_exact(store, "sess_n").await;
}

/// Every event of three calls at once (the queued call racing the segments' creation, the
/// joins racing each other into one segment item): each lands once and every segment item is
/// exact. On the embedded store (moto's transactions are not isolated from each other; the
/// version conditions are the same code on both adapters).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_events_of_one_session_keep_the_segment_items_exact() {
    let store = embedded();
    let mut tasks = Vec::new();
    for tag in ["c1", "c2", "c3"] {
        for event in call(tag, &format!("sess_{tag}")) {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                ingest_batch(store.as_ref(), now(), &[event]).await
            }));
        }
    }
    for task in tasks {
        let report = task.await.unwrap().unwrap();
        assert_eq!(report.accepted, 1, "{report:?}");
    }
    let store = store.as_ref();
    ingest_each(store, &call("n", "sess_n")).await;
    let want = normalised("sess_n", assert_segments_exact(store, "sess_n").await);
    for tag in ["c1", "c2", "c3"] {
        let s = format!("sess_{tag}");
        let got = normalised(&s, assert_segments_exact(store, &s).await);
        assert_eq!(got, want, "{tag}");
    }
}

/// The Consultations report, streamed or whole, reads the organisation once and the segment
/// index: nothing per session or per segment (SPEC Q4), whatever the arrival order was. Six
/// calls (twelve segments, thirty rows) in three orders; the rows show each segment's
/// participants and the session's entry from the segment items.
async fn the_consultations_report_reads_only_the_segment_index(store: Arc<dyn Store>) {
    for n in 0..6u64 {
        let tag = format!("k{n}");
        let events = match n % 3 {
            0 => call(&tag, &format!("sess_{tag}")),
            1 => {
                let mut e = call(&tag, &format!("sess_{tag}"));
                e.reverse();
                e
            }
            _ => shuffled(call(&tag, &format!("sess_{tag}")), n),
        };
        ingest_each(store.as_ref(), &events).await;
    }
    let counting = domain::ports::CountingStore::new(store.as_ref());
    let scope = ReportScope::Org {
        org_id: "org_seg".into(),
    };
    let filter = ConsultationFilter {
        start: t(0),
        end: t(60),
        clinic_id: None,
        min_duration_seconds: 0,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(100);
    stream_consultation_rows(&counting, &scope, &filter, 5, &tx)
        .await
        .unwrap();
    drop(tx);
    let mut rows = Vec::new();
    while let Some(batch) = rx.recv().await {
        rows.extend(batch);
    }
    // The organisation (one GetItem), no clinic or account stored, twelve segment items in
    // pages of five, the two full pages each looking one item ahead (a page's `next` is set
    // exactly when more match).
    assert_eq!(counting.take(), 1 + 12 + 2);
    assert_eq!(rows.len(), 6 * 5);
    let input = consultation_input(&counting, &scope, filter.start, filter.end)
        .await
        .unwrap();
    assert_eq!(counting.take(), 1 + 12);
    assert_eq!(build_rows(&input, &filter), rows);
    // Row 0: the first segment's caller (queued call id, session, segment, participant,
    // entry); the segment's three participants (the late host included).
    let entry = Cell::opt_time(Some(t(0)));
    assert_eq!(rows[0][2], Cell::text("qc_sess_k0"));
    assert_eq!(rows[0][5], Cell::text("p_caller"));
    assert_eq!(rows[0][6], entry);
    assert_eq!(rows[0][18], Cell::Int(3));
    for row in &rows {
        assert_eq!(row[6], entry);
    }
}

/// The documented fan-out bound (`docs/dynamodb.md`, "Segment items"): a `queued_call.entered`
/// arriving after 98 segments of its session copies its entry into all of them in one
/// transaction; after 99 the store refuses the transaction (more than 100 writes) and the event
/// fails, landing nothing. With the queued call first, a session of any number of segments
/// lands (each segment writes at most three items).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entry_reaches_98_segments_after_them_and_any_number_before() {
    let store = embedded();
    let store = store.as_ref();
    let started = |s: &str, n: usize| {
        segment_started(
            s,
            &format!("{s}_{n}"),
            &format!("qc_{s}"),
            "org_seg",
            "cl_a",
        )
        .event(&format!("{s}_s{n}"), t(n as i64).to_rfc3339())
    };
    let entered = |s: &str| {
        queued_call_entered(&format!("qc_{s}"), s, "org_seg", "cl_a")
            .event(&format!("{s}_q"), t(0).to_rfc3339())
    };
    let segments: Vec<Value> = (0..98).map(|n| started("sess_98", n)).collect();
    ingest_each(store, &segments).await;
    ingest_each(store, &[entered("sess_98")]).await;
    let got = assert_segments_exact(store, "sess_98").await;
    assert_eq!(got.len(), 98);
    assert!(got.values().all(|s| s.session_entered_at == Some(t(0))));

    let segments: Vec<Value> = (0..99).map(|n| started("sess_99", n)).collect();
    ingest_each(store, &segments).await;
    assert!(ingest_batch(store, now(), &[entered("sess_99")])
        .await
        .is_err());
    let (queued, segs, _) = session(store, "sess_99").await;
    assert_eq!(queued.and_then(|q| q.entered_at), None);
    assert!(segs.values().all(|s| s.session_entered_at.is_none()));

    ingest_each(store, &[entered("sess_120")]).await;
    let segments: Vec<Value> = (0..120).map(|n| started("sess_120", n)).collect();
    ingest_each(store, &segments).await;
    let got = assert_segments_exact(store, "sess_120").await;
    assert_eq!(got.len(), 120);
}
