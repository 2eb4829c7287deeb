//! Bounded input at ingest (SPEC Q7), on both store adapters: an amount past 10^12 minor units
//! and an instant outside 2000-01-01 .. now + 1 day are refused naming the field, and leave
//! the practitioner's later events landing as before; a running total that a move would take
//! out of the range of `i64` refuses the event naming the field (never a panic or a wrapped
//! total), and nothing of it is written.

#![allow(clippy::unwrap_used)]

use crate::support::events;
use crate::support::moto::dynamo_store;
use chrono::{DateTime, Duration, Utc};
use domain::events::ingest::{ingest_batch, BatchReport, EventStatus};
use domain::events::types::MAX_AMOUNT_MINOR;
use domain::ports::store::{Condition, Item, Store};
use domain::readmodels::{keys, Practitioner, PractitionerTotals};
use local_adapters::embedded_store::EmbeddedStore;
use serde_json::{json, Value};
use std::sync::Arc;

/// The receiving clock: 2026-03-03T09:00:00Z.
fn now() -> DateTime<Utc> {
    "2026-03-03T09:00:00Z".parse().unwrap()
}

fn embedded() -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::in_memory())
}

async fn moto() -> Arc<dyn Store> {
    Arc::new(dynamo_store().await)
}

/// A no-show fee of `total` (no commission) paid to `prac_1`, at `at`.
fn fee(id: &str, payment_id: &str, total: i64, at: DateTime<Utc>) -> Value {
    events::payment(
        payment_id,
        "no_show_fee",
        "thr_1",
        "pat_1",
        "prac_1",
        total,
        0,
    )
    .event(id, at)
}

/// The outcome of each event of the batch: `accepted`, or the field it was refused on.
fn outcomes(report: &BatchReport) -> Vec<String> {
    report
        .results
        .iter()
        .map(|r| match &r.status {
            EventStatus::Accepted => "accepted".to_string(),
            EventStatus::Duplicate => "duplicate".to_string(),
            EventStatus::Rejected { field, .. } => field.clone(),
        })
        .collect()
}

async fn payment_totals(store: &dyn Store) -> PractitionerTotals {
    store
        .get(&keys::payment_totals("prac_1"))
        .await
        .unwrap()
        .expect("payment totals")
        .decode()
        .unwrap()
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
    amounts_past_the_bound_are_refused_and_later_payments_land,
    a_total_out_of_range_refuses_the_event_and_writes_nothing,
    instants_out_of_bounds_are_refused_and_the_snapshot_stays_current,
);

async fn amounts_past_the_bound_are_refused_and_later_payments_land(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let at = now() - Duration::hours(1);
    let batch = [
        fee("evt_max", "pay_max", i64::MAX, at),
        fee("evt_past", "pay_past", MAX_AMOUNT_MINOR + 1, at),
        fee("evt_bound", "pay_bound", MAX_AMOUNT_MINOR, at),
        fee("evt_next", "pay_next", 500, at + Duration::minutes(1)),
        events::practitioner(
            "prac_1",
            "Dr. A",
            &[],
            "approved",
            MAX_AMOUNT_MINOR + 1,
            false,
        )
        .event("evt_price", at),
        events::payment_request("preq_1", "thr_1", "prac_1", "pat_1", i64::MAX)
            .event("evt_req", at),
    ];
    let report = ingest_batch(store, now(), &batch).await.unwrap();
    assert_eq!(
        outcomes(&report),
        [
            "data.total.amount_minor",
            "data.total.amount_minor",
            "accepted",
            "accepted",
            "data.price.amount_minor",
            "data.amount.amount_minor",
        ]
    );
    for refused in ["pay_max", "pay_past"] {
        assert_eq!(store.get(&keys::payment(refused)).await.unwrap(), None);
    }
    let totals = payment_totals(store).await.totals;
    assert_eq!(
        totals.get("EUR#total_minor"),
        Some(&(MAX_AMOUNT_MINOR + 500))
    );
    assert_eq!(totals.get("EUR#payments"), Some(&2));
}

async fn a_total_out_of_range_refuses_the_event_and_writes_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    // Totals near the end of the range, as only data written before amounts were bounded
    // can hold them.
    let key = keys::payment_totals("prac_1");
    let near = i64::MAX - 10;
    let body = json!({ "practitioner_id": "prac_1",
        "totals": { "EUR#payments": 1, "EUR#total_minor": near, "EUR#specialist_minor": near } });
    store
        .put(Item::new(key.pk, key.sk, body), Condition::NotExists)
        .await
        .unwrap();
    let at = now() - Duration::hours(1);
    let batch = [
        fee("evt_over", "pay_over", 11, at),
        fee("evt_fits", "pay_fits", 10, at),
    ];
    let report = ingest_batch(store, now(), &batch).await.unwrap();
    assert_eq!(outcomes(&report), ["data.total.amount_minor", "accepted"]);
    let EventStatus::Rejected { reason, .. } = &report.results[0].status else {
        unreachable!()
    };
    assert!(reason.contains("out of range"), "{reason}");
    assert_eq!(store.get(&keys::payment("pay_over")).await.unwrap(), None);
    assert_eq!(store.get(&keys::event("evt_over")).await.unwrap(), None);
    let totals = payment_totals(store).await.totals;
    assert_eq!(totals.get("EUR#total_minor"), Some(&i64::MAX));
    assert_eq!(totals.get("EUR#payments"), Some(&2));
}

async fn instants_out_of_bounds_are_refused_and_the_snapshot_stays_current(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let profile = |name: &str| {
        events::practitioner("prac_1", name, &["Dermatology"], "approved", 4500, false)
    };
    let clinic = |created_at: &str| {
        events::clinic(
            "cl_1",
            "org_1",
            "Clinic",
            "Victoria",
            "Enterprise",
            created_at,
        )
    };
    let latest = now() + Duration::days(1);
    let batch = [
        profile("Dr. Future").event("evt_9999", "9999-12-31T23:59:59Z"),
        profile("Dr. Ahead").event("evt_ahead", latest + Duration::seconds(1)),
        profile("Dr. Old").event("evt_old", "1999-12-31T23:59:59Z"),
        clinic("9999-01-01T00:00:00Z").event("evt_cl_future", now()),
        clinic("1999-12-31T23:59:59Z").event("evt_cl_old", now()),
        profile("Dr. Now").event("evt_now", now() - Duration::hours(1)),
    ];
    let report = ingest_batch(store, now(), &batch).await.unwrap();
    assert_eq!(
        outcomes(&report),
        [
            "occurred_at",
            "occurred_at",
            "occurred_at",
            "data.created_at",
            "data.created_at",
            "accepted",
        ]
    );
    let name = |p: Practitioner| p.name;
    let read = || async {
        let item = store.get(&keys::practitioner("prac_1")).await.unwrap();
        name(item.expect("the profile").decode().unwrap())
    };
    assert_eq!(read().await.as_deref(), Some("Dr. Now"));
    // A snapshot at the bound lands, and one newer still wins over it once the clock is there.
    let report = ingest_batch(
        store,
        now(),
        &[profile("Dr. Latest").event("evt_l", latest)],
    )
    .await
    .unwrap();
    assert_eq!(outcomes(&report), ["accepted"]);
    assert_eq!(read().await.as_deref(), Some("Dr. Latest"));
    let later = latest + Duration::minutes(1);
    let report = ingest_batch(
        store,
        later,
        &[profile("Dr. Later").event("evt_later", later)],
    )
    .await
    .unwrap();
    assert_eq!(outcomes(&report), ["accepted"]);
    assert_eq!(read().await.as_deref(), Some("Dr. Later"));
}

/// The release profile (which the `server` profile inherits) keeps overflow checks: an integer
/// that leaves its range stops the request instead of wrapping into a wrong figure.
#[test]
fn release_builds_keep_overflow_checks() {
    let manifest =
        std::fs::read_to_string(crate::support::workspace_root().join("Cargo.toml")).unwrap();
    let release: Vec<&str> = manifest
        .split("\n[")
        .find(|section| section.starts_with("profile.release]"))
        .expect("a [profile.release] section")
        .lines()
        .map(str::trim)
        .collect();
    assert!(release.contains(&"overflow-checks = true"), "{release:?}");
    let server = manifest
        .split("\n[")
        .find(|section| section.starts_with("profile.server]"))
        .expect("a [profile.server] section");
    assert!(server.contains("inherits = \"release\"") && !server.contains("overflow-checks"));
}
