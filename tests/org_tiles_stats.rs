//! Summary tiles from the statistics items (SPEC C2, Q4) on both store adapters: the
//! tiles computed from the statistics items ingest keeps ([`load_tiles`]) equal the tiles
//! computed from the raw lists ([`tiles`] on [`load_report_data`], the oracle), for generated
//! worlds whose segments, hosts, logins and room calls fall on and around quarter-hour, hour,
//! day and period bounds — in UTC, on DST-change days (Europe/London 29 March, Australia/Sydney
//! 5 April 2026), in zones offset by :30 and :45 (Asia/Kolkata, Asia/Kathmandu), at
//! organisation and clinic level, for minimum durations around the generated ones — after
//! delivery in order, after re-delivery of everything, after delivery shuffled with some
//! events re-sent under new ids, and after concurrent delivery. The aggregate reports built
//! from the same statistics (C4 Organisation, C8 Service provider summary, C5 Clinics, C7
//! Service providers) equal, cell for cell, their rows from the raw lists in those
//! comparisons. Then the read count: the same number of items for a world and one ten times
//! larger, for the tiles and those reports as the download builds them (C5 but its bounded
//! look back for the last consultation, C7 but its two items per account); the
//! room-call report (C6) reads the participants only, less than the raw lists.

#![allow(clippy::unwrap_used)]

use crate::support;
use crate::support::events::{
    account, clinic as clinic_upserted, logged_in, membership,
    organisation as organisation_upserted, participant_joined, participant_left,
    queued_call_abandoned, queued_call_entered, room, room_call_joined, room_call_left,
    segment_ended, segment_started, segment_transferred, Payload,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::events::ingest::ingest_batch;
use domain::export::cells::Cell;
use domain::org_reports::config::ReportConfig;
use domain::org_reports::data::{
    last_activity, last_consultations, load_entities, load_report_data, load_room_call_data,
    ReportData,
};
use domain::org_reports::download::{build_report, ReportType};
use domain::org_reports::params::ReportParams;
use domain::org_reports::stats::{period_buckets, DAY_SHARDS};
use domain::org_reports::tiles::{load_period, load_tiles, tiles, tiles_from, Tiles};
use domain::org_reports::{
    clinics, organisation, provider_summary, providers, room_calls, ReportScope,
};
use domain::ports::store::query_all;
use domain::ports::{CountingStore, Index, Key, Query, SkRange, Store};
use domain::readmodels::{keys, lists, sort_time};
use local_adapters::embedded_store::EmbeddedStore;
use serde_json::{json, Value};
use std::sync::Arc;

const ORG: &str = "org-st";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn now() -> DateTime<Utc> {
    t("2026-04-20T00:00:00Z")
}

/// A fixed pseudo-random sequence (a linear congruential generator).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Activity happens in this window (it holds both DST changes and every test period).
const WINDOW_START: &str = "2026-03-26T00:00:00Z";
const WINDOW_DAYS: i64 = 14;

/// Instants that are bounds of some bucket or period: local midnights of the test zones
/// (UTC 00:00, 23:00, 13:00, 14:00, 18:30, 18:15) and arbitrary quarter hours.
const BOUND_TIMES: &[(u32, u32)] = &[
    (0, 0),
    (23, 0),
    (13, 0),
    (14, 0),
    (18, 30),
    (18, 15),
    (0, 15),
    (12, 45),
];

/// An instant of the window: often exactly on a bound, or a second either side of one.
fn instant(rng: &mut Rng) -> DateTime<Utc> {
    let day = t(WINDOW_START) + Duration::days(rng.below(WINDOW_DAYS as u64) as i64);
    match rng.below(4) {
        0 => {
            let (h, m) = *rng.pick(BOUND_TIMES);
            let offset = *rng.pick(&[-1i64, 0, 0, 1]);
            day + Duration::hours(i64::from(h))
                + Duration::minutes(i64::from(m))
                + Duration::seconds(offset)
        }
        1 => {
            let quarter = rng.below(96) as i64;
            day + Duration::minutes(15 * quarter) + Duration::seconds(*rng.pick(&[-1i64, 0, 1]))
        }
        _ => day + Duration::seconds(rng.below(86_400) as i64),
    }
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

struct Events {
    list: Vec<Value>,
    prefix: String,
}

impl Events {
    fn push(&mut self, at: DateTime<Utc>, payload: Payload) {
        let id = format!("{}-{}", self.prefix, self.list.len() + 1);
        self.list.push(payload.event(&id, ts(at)));
    }
}

const ACCOUNTS: &[&str] = &["acc-1", "acc-2", "acc-3", "acc-4"];
const CLINICS: &[&str] = &["cl-a", "cl-b"];
/// `room-9` is never upserted: its calls are in no report.
const ROOMS: &[&str] = &["room-1", "room-2", "room-9"];
/// Consultation lengths around the minimums the tests ask for.
const LENGTHS: &[i64] = &[0, 1, 58, 59, 60, 61, 62, 299, 300, 301, 3599, 3600, 3601];
const MINIMUMS: &[u32] = &[0, 59, 60, 61, 300, 3600];
/// Fewer on moto (each comparison is a few hundred requests there).
const MOTO_MINIMUMS: &[u32] = &[0, 60, 61];

/// The organisation's shape (the same whatever the volume).
fn setup(e: &mut Events) {
    let at = t("2026-01-01T00:00:00Z");
    e.push(
        at,
        organisation_upserted(ORG, "Stats Org", "NSW", "Standard", "2025-01-01T00:00:00Z"),
    );
    for clinic in CLINICS {
        e.push(
            at,
            clinic_upserted(
                clinic,
                ORG,
                &format!("Clinic {clinic}"),
                "NSW",
                "Standard",
                "2025-01-01T00:00:00Z",
            ),
        );
    }
    e.push(
        at,
        room(
            "room-1",
            ORG,
            "cl-a",
            "meeting",
            "Room one",
            "2025-01-01T00:00:00Z",
        ),
    );
    e.push(
        at,
        room(
            "room-2",
            ORG,
            "cl-b",
            "user",
            "Room two",
            "2025-01-01T00:00:00Z",
        )
        .with("owner_account_id", "acc-2"),
    );
    for acc in ACCOUNTS {
        e.push(
            at,
            account(
                acc,
                ORG,
                &format!("{acc}@example.org"),
                &format!("Person {acc}"),
                "standard",
                "full",
                "2025-01-01T00:00:00Z",
            ),
        );
    }
    // Every account renamed: the room-call report shows the newest name whatever order the
    // two events land in (the organisation's names item keeps the account item's rule).
    for acc in ACCOUNTS {
        e.push(
            t("2026-01-02T00:00:00Z"),
            account(
                acc,
                ORG,
                &format!("{acc}@example.org"),
                &format!("Renamed {acc}"),
                "standard",
                "full",
                "2025-01-01T00:00:00Z",
            ),
        );
    }
    for (acc, clinic) in [
        ("acc-1", "cl-a"),
        ("acc-2", "cl-b"),
        ("acc-3", "cl-a"),
        ("acc-3", "cl-b"),
        ("acc-4", "cl-b"),
    ] {
        e.push(
            at,
            membership(acc, clinic, ORG, "provider", "2025-01-01T00:00:00Z"),
        );
    }
}

fn bw() -> Value {
    json!({"send_kbps_avg": 100, "receive_kbps_avg": 101, "send_kbps_max": 102,
        "receive_kbps_max": 103, "packet_loss_permille": 1, "round_trip_ms_avg": 10})
}

/// Volume of a generated world.
#[derive(Clone, Copy)]
struct Volume {
    segments: usize,
    logins: usize,
    calls: usize,
}

/// A world's events: the organisation, then `volume` of segments (abandoned, unanswered,
/// answered by one or two hosts for lengths around the minimums, some transferred), logins
/// and room calls (participants joining up to a day apart, some in another room, some never
/// leaving, some known only by their leave).
fn world_events(seed: u64, volume: Volume) -> Vec<Value> {
    let mut rng = Rng(seed);
    let mut e = Events {
        list: Vec::new(),
        prefix: format!("st{seed}"),
    };
    setup(&mut e);
    for i in 0..volume.segments {
        let session = format!("sess-{seed}-{i}");
        let seg = format!("seg-{seed}-{i}");
        let qc = format!("qc-{seed}-{i}");
        let clinic = *rng.pick(CLINICS);
        let start = instant(&mut rng);
        let caller = format!("c-{i}");
        e.push(start, queued_call_entered(&qc, &session, ORG, clinic));
        e.push(start, segment_started(&session, &seg, &qc, ORG, clinic));
        e.push(start, participant_joined(&session, &seg, &caller, None));
        match rng.below(6) {
            0 => {
                let gone = start + Duration::seconds(rng.below(600) as i64);
                e.push(gone, participant_left(&session, &seg, &caller, bw()));
                e.push(gone, queued_call_abandoned(&qc, &session, &seg));
                e.push(gone, segment_ended(&session, &seg));
            }
            1 => {} // still waiting: never answered, never ended
            kind => {
                let host_join = start + Duration::seconds(rng.below(900) as i64);
                let length = *rng.pick(LENGTHS);
                let end = host_join + Duration::seconds(length);
                let mut hosts = vec![*rng.pick(ACCOUNTS)];
                if kind == 4 {
                    hosts.push(*rng.pick(ACCOUNTS));
                }
                for (n, acc) in hosts.iter().enumerate() {
                    let part = format!("h-{i}-{n}");
                    let join = host_join + Duration::seconds(30 * n as i64);
                    e.push(
                        join.min(end),
                        participant_joined(&session, &seg, &part, Some(acc)),
                    );
                    e.push(end, participant_left(&session, &seg, &part, bw()));
                }
                if kind == 5 {
                    let to = format!("{seg}-t");
                    e.push(end, segment_transferred(&session, &seg, "cl-b", &to));
                } else {
                    e.push(end, segment_ended(&session, &seg));
                }
            }
        }
    }
    for _ in 0..volume.logins {
        let at = instant(&mut rng);
        let (acc, org) = if rng.below(10) == 0 {
            ("acc-x", "org-other")
        } else {
            (*rng.pick(ACCOUNTS), ORG)
        };
        e.push(at, logged_in(acc, org));
    }
    for i in 0..volume.calls {
        let call = format!("call-{seed}-{i}");
        let room = *rng.pick(ROOMS);
        let first = instant(&mut rng);
        let participants = 1 + rng.below(4);
        for p in 0..participants {
            let part = format!("rp-{i}-{p}");
            let room = if rng.below(8) == 0 {
                *rng.pick(ROOMS)
            } else {
                room
            };
            let join = if p == 0 {
                first
            } else {
                first
                    + Duration::seconds(
                        *rng.pick(&[0i64, 1, 60, 899, 900, 3600, 5400, 86_400])
                            + rng.below(3) as i64,
                    )
            };
            let leave = join + Duration::seconds(rng.below(7200) as i64);
            let only_leave = rng.below(12) == 0;
            if !only_leave {
                e.push(
                    join,
                    room_call_joined(room, &call, ORG, &part)
                        .with("account_id", *rng.pick(ACCOUNTS)),
                );
            }
            if rng.below(8) != 0 {
                e.push(leave, room_call_left(room, &call, &part, bw()));
            }
        }
    }
    e.list
}

/// Shuffled (fixed), with every tenth event also re-sent under a new id.
fn shuffled_with_resends(events: &[Value], seed: u64) -> Vec<Value> {
    let mut out: Vec<Value> = events.to_vec();
    for (n, ev) in events.iter().enumerate().filter(|(n, _)| n % 10 == 3) {
        let mut again = ev.clone();
        again["id"] = json!(format!("resent-{seed}-{n}"));
        out.push(again);
    }
    let mut rng = Rng(seed);
    for i in (1..out.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    out
}

/// The test periods: (zone, from, to).
const PERIODS: &[(&str, &str, &str)] = &[
    ("Europe/London", "2026-03-29", "2026-03-29"),
    ("Europe/London", "2026-03-28", "2026-03-31"),
    ("Australia/Sydney", "2026-04-05", "2026-04-05"),
    ("Australia/Sydney", "2026-03-30", "2026-04-06"),
    ("Asia/Kolkata", "2026-03-30", "2026-04-02"),
    ("Asia/Kathmandu", "2026-04-03", "2026-04-03"),
    ("UTC", "2026-03-27", "2026-04-07"),
];

fn params(zone: &str, from: &str, to: &str, min: u32) -> ReportParams {
    ReportParams {
        from: from.parse::<NaiveDate>().unwrap(),
        to: to.parse::<NaiveDate>().unwrap(),
        zone: zone.parse().unwrap(),
        min_duration_seconds: min,
    }
}

fn scopes() -> Vec<ReportScope> {
    let mut out = vec![ReportScope::Org { org_id: ORG.into() }];
    for c in CLINICS {
        out.push(ReportScope::Clinic {
            org_id: ORG.into(),
            clinic_id: (*c).into(),
        });
    }
    out
}

/// The aggregate reports built from the organisation's size and the period's statistics.
const FROM_STATISTICS: [ReportType; 2] =
    [ReportType::Organisation, ReportType::ServiceProviderSummary];

/// A report's rows from the raw lists of `data` (the oracle).
fn raw_rows(report: ReportType, data: &ReportData) -> Vec<Vec<Cell>> {
    match report {
        ReportType::Organisation => organisation::build_rows(data),
        ReportType::ServiceProviderSummary => provider_summary::build_rows(data),
        other => panic!("{} is not built from the statistics", other.as_str()),
    }
}

/// A report's rows from the organisation's size and the period's statistics.
fn rows_from_statistics(
    report: ReportType,
    entities: &ReportData,
    period: &domain::org_reports::stats::PeriodFigures,
) -> Vec<Vec<Cell>> {
    match report {
        ReportType::Organisation => organisation::build_rows_from(entities, period),
        ReportType::ServiceProviderSummary => provider_summary::build_rows_from(entities, period),
        other => panic!("{} is not built from the statistics", other.as_str()),
    }
}

/// What the comparisons covered, so that a world that exercises nothing fails.
#[derive(Debug, Default)]
struct Coverage {
    compared: usize,
    consultations: i64,
    abandoned: i64,
    calls: i64,
    logged_in: i64,
    consulted: i64,
    /// Seconds of the hosts' attendance in the Service providers report's rows.
    attended: i64,
    /// Comparisons where a larger minimum left out some consultation.
    minimum_mattered: usize,
    /// Room-call participants with an account (all renamed) in the room-call comparisons.
    renamed: usize,
}

fn figures(t: &Tiles) -> (i64, i64, i64, i64, i64) {
    let c = &t.activities.consultations.figures;
    (
        c.consultations,
        c.abandoned_calls,
        t.activities.room_calls.figures.calls,
        t.roles.service_provider_summary.figures.logged_in,
        t.roles.service_providers.figures.providers_consulted,
    )
}

/// Every period, scope and minimum: the tiles from the statistics equal the raw lists'.
/// Returns the oracle's tiles too, in order.
async fn assert_stats_equal_raw(
    store: &dyn Store,
    minimums: &[u32],
    clinic_report: bool,
    label: &str,
) -> (Coverage, Vec<Tiles>) {
    let mut cov = Coverage::default();
    let mut all = Vec::new();
    for scope in scopes() {
        for (zone, from, to) in PERIODS {
            let raw = load_report_data(store, &scope, &params(zone, from, to, 0))
                .await
                .unwrap();
            // The room-call report (C6) as the download builds it: its rows equal the raw
            // lists' rows (the names from the organisation's names item, not the accounts).
            let config = ReportConfig::defaults(ORG);
            let p = params(zone, from, to, 0);
            assert_eq!(
                build_report(store, &scope, ReportType::RoomCalls, &p, &config)
                    .await
                    .unwrap(),
                room_calls::build_rows(&raw, &config),
                "{label}: room calls {scope:?} {zone} {from}..{to}"
            );
            for acc in ACCOUNTS {
                assert_eq!(raw.accounts[*acc].name, format!("Renamed {acc}"), "{label}");
            }
            cov.renamed += raw
                .room_calls
                .iter()
                .filter(|c| c.account_id.is_some())
                .count();
            let mut previous: Option<i64> = None;
            for min in minimums {
                let p = params(zone, from, to, *min);
                let mut data = raw.clone();
                data.min_duration_seconds = *min;
                let oracle = tiles(&data, p.record());
                // What `load_tiles` reads and computes (the reads test calls it as such), once
                // for the tiles and the aggregate reports built from the same statistics (as
                // the download builds them): the tiles equal, the rows equal cell for cell.
                let (entities, period) = load_period(store, &scope, &p).await.unwrap();
                assert_eq!(
                    tiles_from(&entities, &period, p.record()),
                    oracle,
                    "{label}: {scope:?} {zone} {from}..{to}, minimum {min} s"
                );
                for report in FROM_STATISTICS {
                    assert_eq!(
                        rows_from_statistics(report, &entities, &period),
                        raw_rows(report, &data),
                        "{label}: {} {scope:?} {zone} {from}..{to}, minimum {min} s",
                        report.as_str()
                    );
                }
                // The Clinic report, from each clinic's statistics items and its last
                // consultation (on moto in-order and concurrent deliveries only: it reads
                // again per clinic).
                if clinic_report {
                    assert_eq!(
                        clinics::load_rows(store, &scope, &p).await.unwrap(),
                        clinics::build_rows(&data),
                        "{label}: clinics {scope:?} {zone} {from}..{to}, minimum {min} s"
                    );
                    // The Service providers report, from each clinic's statistics items and
                    // two items per account (same condition: it reads per clinic too).
                    let rows = providers::build_rows(&data);
                    assert_eq!(
                        providers::load_rows(store, &scope, &p).await.unwrap(),
                        rows,
                        "{label}: providers {scope:?} {zone} {from}..{to}, minimum {min} s"
                    );
                    for row in &rows {
                        if let Cell::Seconds(s) = row[6] {
                            cov.attended += s;
                        }
                    }
                }
                let (consultations, abandoned, calls, logged_in, consulted) = figures(&oracle);
                cov.compared += 1;
                cov.consultations += consultations;
                cov.abandoned += abandoned;
                cov.calls += calls;
                cov.logged_in += logged_in;
                cov.consulted += consulted;
                if previous.is_some_and(|p| p > consultations) {
                    cov.minimum_mattered += 1;
                }
                previous = Some(consultations);
                all.push(oracle);
            }
        }
    }
    (cov, all)
}

fn assert_covered(cov: &Coverage, minimums: &[u32], label: &str) {
    assert!(
        cov.compared == scopes().len() * PERIODS.len() * minimums.len()
            && cov.consultations > 0
            && cov.abandoned > 0
            && cov.calls > 0
            && cov.logged_in > 0
            && cov.consulted > 0
            && cov.attended > 0
            && cov.minimum_mattered > 0
            && cov.renamed > 0,
        "{label}: the world exercises too little: {cov:?}"
    );
}

async fn ingest(store: &dyn Store, events: &[Value]) -> domain::events::ingest::BatchReport {
    let mut total = domain::events::ingest::BatchReport::default();
    for chunk in events.chunks(200) {
        let r = ingest_batch(store, now(), chunk).await.unwrap();
        assert_eq!(r.rejected, 0, "{:?}", r.results);
        total.accepted += r.accepted;
        total.duplicates += r.duplicates;
    }
    total
}

const SMALL: Volume = Volume {
    segments: 60,
    logins: 30,
    calls: 30,
};

/// Smaller on moto (every event is a dozen requests there).
const MOTO: Volume = Volume {
    segments: 12,
    logins: 8,
    calls: 8,
};

/// In order, re-delivered, then shuffled with re-sends into a second store: the statistics
/// equal the raw lists every time, and both stores' raw figures agree.
/// `every_pass`: the Clinic report compared after re-delivery and shuffled delivery too (not
/// on moto, where each comparison of it is a few hundred more requests).
async fn statistics_equal_raw_lists(
    first: Arc<dyn Store>,
    second: Arc<dyn Store>,
    volume: Volume,
    minimums: &[u32],
    every_pass: bool,
    label: &str,
) {
    let events = world_events(7, volume);
    let report = ingest(&*first, &events).await;
    assert_eq!(report.accepted, events.len());
    let (cov, in_order) =
        assert_stats_equal_raw(&*first, minimums, true, &format!("{label}, in order")).await;
    assert_covered(&cov, minimums, label);

    let report = ingest(&*first, &events).await;
    assert_eq!(
        (report.accepted, report.duplicates),
        (0, events.len()),
        "re-delivery lands nothing"
    );
    let (_, redelivered) = assert_stats_equal_raw(
        &*first,
        minimums,
        every_pass,
        &format!("{label}, re-delivered"),
    )
    .await;
    assert_eq!(redelivered, in_order);

    let mixed = shuffled_with_resends(&events, 11);
    ingest(&*second, &mixed).await;
    let (_, shuffled) = assert_stats_equal_raw(
        &*second,
        minimums,
        every_pass,
        &format!("{label}, shuffled with re-sends"),
    )
    .await;
    // The read models converge whatever the order, so the oracle is the same too.
    assert_eq!(shuffled, in_order);
}

#[tokio::test]
async fn tiles_from_statistics_equal_the_raw_lists_embedded() {
    statistics_equal_raw_lists(
        Arc::new(EmbeddedStore::in_memory()),
        Arc::new(EmbeddedStore::in_memory()),
        SMALL,
        MINIMUMS,
        true,
        "embedded",
    )
    .await;
}

#[tokio::test]
async fn tiles_from_statistics_equal_the_raw_lists_moto() {
    statistics_equal_raw_lists(
        Arc::new(support::moto::dynamo_store().await),
        Arc::new(support::moto::dynamo_store().await),
        MOTO,
        MOTO_MINIMUMS,
        false,
        "moto",
    )
    .await;
}

/// Four deliveries at once (each a quarter of the events, shuffled), racing on the same
/// statistics items: lost races re-read and re-apply, and the figures still agree.
async fn concurrent_delivery(store: Arc<dyn Store>, volume: Volume, minimums: &[u32], label: &str) {
    let events = shuffled_with_resends(&world_events(21, volume), 5);
    let setup_len = 1 + CLINICS.len() + 2 + ACCOUNTS.len() + 5;
    let (setup_events, rest): (Vec<Value>, Vec<Value>) = events.into_iter().partition(|e| {
        e["id"].as_str().is_some_and(|id| {
            id.strip_prefix("st21-")
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n <= setup_len)
        })
    });
    ingest(&*store, &setup_events).await;
    let mut tasks = Vec::new();
    for k in 0..4 {
        let part: Vec<Value> = rest
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 4 == k)
            .map(|(_, e)| e.clone())
            .collect();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for ev in part {
                let r = ingest_batch(&*store, now(), std::slice::from_ref(&ev))
                    .await
                    .unwrap_or_else(|e| panic!("{} failed: {e}", ev["type"]));
                assert_eq!(r.rejected, 0, "{:?}", r.results);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (cov, _) = assert_stats_equal_raw(&*store, minimums, true, label).await;
    assert_covered(&cov, minimums, label);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tiles_from_statistics_after_concurrent_delivery_embedded() {
    concurrent_delivery(
        Arc::new(EmbeddedStore::in_memory()),
        SMALL,
        MINIMUMS,
        "embedded, concurrent",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tiles_from_statistics_after_concurrent_delivery_moto() {
    // moto runs concurrent transactions unsafely (see `crate::events::OneWriteAtATime`): the
    // writes go one at a time there, the reads and the races between them stay concurrent.
    let store = crate::events::OneWriteAtATime {
        inner: Arc::new(support::moto::dynamo_store().await),
        lock: tokio::sync::Mutex::new(()),
    };
    concurrent_delivery(Arc::new(store), MOTO, MOTO_MINIMUMS, "moto, concurrent").await;
}

/// Items read by the tiles and by the raw lists, for each scope and two periods; the reports
/// built from the statistics (C4, C8) read what the tiles read, and give the raw lists' rows.
async fn reads(store: &dyn Store) -> Vec<(u64, u64, u64, u64, u64, u64)> {
    let counting = CountingStore::new(store);
    let mut out = Vec::new();
    for scope in scopes() {
        for (zone, from, to) in [
            ("Europe/London", "2026-03-28", "2026-03-31"),
            ("Asia/Kathmandu", "2026-04-03", "2026-04-03"),
        ] {
            let p = params(zone, from, to, 60);
            counting.take();
            let tiles = load_tiles(&counting, &scope, &p).await.unwrap();
            let read = counting.take();
            load_entities(&counting, &scope, &p).await.unwrap();
            let entities = counting.take();
            let data = load_report_data(&counting, &scope, &p).await.unwrap();
            let raw = counting.take();
            assert_eq!(tiles, domain::org_reports::tiles::tiles(&data, p.record()));
            // One item per bucket of the period and a whole day's shards (organisation; and
            // clinic at clinic level).
            let b = period_buckets(p.start_utc(), p.end_utc()).unwrap();
            let per_partition = b.days.len() as u64 * (1 + DAY_SHARDS) + b.hours.len() as u64;
            let partitions = if scope.clinic_id().is_some() { 2 } else { 1 };
            assert_eq!(
                read,
                entities + partitions * per_partition,
                "{scope:?} {zone}"
            );
            // The reports built from the statistics, as the download builds them: the tiles'
            // reads, and the raw lists' rows.
            let config = ReportConfig::defaults(ORG);
            for report in FROM_STATISTICS {
                let rows = build_report(&counting, &scope, report, &p, &config)
                    .await
                    .unwrap();
                let report_read = counting.take();
                assert_eq!(rows, raw_rows(report, &data), "{}", report.as_str());
                assert_eq!(report_read, read, "{} {scope:?} {zone}", report.as_str());
                eprintln!(
                    "reads: {} {scope:?} {zone} {from}..{to}: {report_read} items ({} rows; \
                     the raw lists: {raw})",
                    report.as_str(),
                    rows.len()
                );
            }
            // The Clinic report: the organisation's size, one statistics item per bucket per
            // clinic in scope, and each clinic's look back for its last consultation (bounded,
            // read as the raw path reads it; measured on its own and taken off).
            let rows = build_report(&counting, &scope, ReportType::Clinics, &p, &config)
                .await
                .unwrap();
            let clinic_read = counting.take();
            assert_eq!(rows, clinics::build_rows(&data), "clinics");
            last_consultations(&counting, &data.clinics, data.end)
                .await
                .unwrap();
            let look_back = counting.take();
            assert_eq!(
                clinic_read - look_back,
                entities + data.clinics.len() as u64 * per_partition,
                "clinics {scope:?} {zone}"
            );
            eprintln!(
                "reads: clinics {scope:?} {zone} {from}..{to}: {clinic_read} items \
                 ({look_back} of them the look back; {} rows; the raw lists: {raw})",
                rows.len()
            );
            // The room-call report: the organisation, its clinics and rooms, the period's
            // room-call participants (one item per participant, the rooms out of scope's too:
            // one Query of the organisation's) and one item of names when a participant is an
            // account holder — no accounts, memberships, segments or logins.
            let rows = build_report(&counting, &scope, ReportType::RoomCalls, &p, &config)
                .await
                .unwrap();
            let call_read = counting.take();
            assert_eq!(rows, room_calls::build_rows(&data, &config), "room calls");
            let org_rooms = query_all(store, &Query::partition(Index::Gsi1, lists::org_rooms(ORG)))
                .await
                .unwrap()
                .len();
            let org_participants = query_all(
                store,
                &Query::partition(Index::Gsi2, lists::org_room_calls(ORG)).range(SkRange::Between(
                    sort_time(p.start_utc()),
                    sort_time(p.end_utc()),
                )),
            )
            .await
            .unwrap()
            .len();
            let named = data.room_calls.iter().any(|c| c.account_id.is_some());
            assert_eq!(
                call_read,
                (1 + data.all_clinics.len() + org_rooms + org_participants + usize::from(named))
                    as u64,
                "room calls {scope:?} {zone}"
            );
            let call_data = load_room_call_data(&counting, &scope, &p).await.unwrap();
            counting.take();
            assert_eq!(call_data.room_calls, data.room_calls);
            eprintln!(
                "reads: room-calls {scope:?} {zone} {from}..{to}: {call_read} items ({} rows, \
                 {entities} of them the organisation's size; the raw lists: {raw})",
                rows.len()
            );
            // The Service providers report: the organisation's size, one statistics item per
            // bucket per clinic in scope, and two items per account (last login, last
            // consultation: measured on their own and taken off).
            let rows = build_report(&counting, &scope, ReportType::ServiceProviders, &p, &config)
                .await
                .unwrap();
            let provider_read = counting.take();
            assert_eq!(rows, providers::build_rows(&data), "providers");
            last_activity(&counting, data.accounts.keys(), data.end)
                .await
                .unwrap();
            let last = counting.take();
            assert_eq!(
                provider_read - last,
                entities + data.clinics.len() as u64 * per_partition,
                "providers {scope:?} {zone}"
            );
            eprintln!(
                "reads: providers {scope:?} {zone} {from}..{to}: {provider_read} items \
                 ({last} of them the accounts' last login and consultation; {} rows; the raw \
                 lists: {raw})",
                rows.len()
            );
            out.push((
                read,
                raw,
                entities,
                clinic_read - look_back,
                call_read,
                provider_read - last,
            ));
        }
    }
    // A table written before ingest kept the organisation's names item: the room-call report
    // reads each named account's item instead (if it is the organisation's), and gives the
    // same rows.
    let scope = ReportScope::Org { org_id: ORG.into() };
    let p = params("UTC", "2026-03-27", "2026-04-07", 0);
    let config = ReportConfig::defaults(ORG);
    let data = load_report_data(store, &scope, &p).await.unwrap();
    let oracle = room_calls::build_rows(&data, &config);
    build_report(&counting, &scope, ReportType::RoomCalls, &p, &config)
        .await
        .unwrap();
    let with_item = counting.take();
    let names: Key = keys::org_account_names(ORG);
    assert!(store.get(&names).await.unwrap().is_some());
    store
        .delete(&names, domain::ports::Condition::None)
        .await
        .unwrap();
    let rows = build_report(&counting, &scope, ReportType::RoomCalls, &p, &config)
        .await
        .unwrap();
    assert_eq!(rows, oracle, "room calls without the names item");
    let accounts: std::collections::BTreeSet<&str> = data
        .room_calls
        .iter()
        .filter_map(|c| c.account_id.as_deref())
        .collect();
    assert!(!accounts.is_empty());
    assert_eq!(counting.take(), with_item + accounts.len() as u64);
    out
}

async fn same_reads_at_ten_times_the_volume(
    small: Arc<dyn Store>,
    large: Arc<dyn Store>,
    volume: Volume,
) {
    let large_volume = Volume {
        segments: volume.segments * 10,
        logins: volume.logins * 10,
        calls: volume.calls * 10,
    };
    ingest(&*small, &world_events(3, volume)).await;
    ingest(&*large, &world_events(4, large_volume)).await;
    let a = reads(&*small).await;
    let b = reads(&*large).await;
    for (
        (tiles_a, raw_a, _, clinics_a, calls_a, providers_a),
        (tiles_b, raw_b, _, clinics_b, calls_b, providers_b),
    ) in a.iter().zip(&b)
    {
        assert_eq!(tiles_a, tiles_b, "the tiles read the same at both volumes");
        assert_eq!(
            providers_a, providers_b,
            "the Service providers report reads the same at both volumes (but its two items \
             per account)"
        );
        assert_eq!(
            clinics_a, clinics_b,
            "the Clinic report reads the same at both volumes (but its look back)"
        );
        assert!(
            calls_a <= raw_a && calls_b < raw_b,
            "the room-call report reads less than the raw lists ({calls_a} <= {raw_a}, \
             {calls_b} < {raw_b})"
        );
        assert!(
            raw_b > raw_a,
            "the raw lists grow with the volume ({raw_a} -> {raw_b}), so the worlds differ"
        );
    }
}

#[tokio::test]
async fn tiles_read_the_same_items_at_ten_times_the_volume_embedded() {
    same_reads_at_ten_times_the_volume(
        Arc::new(EmbeddedStore::in_memory()),
        Arc::new(EmbeddedStore::in_memory()),
        SMALL,
    )
    .await;
}

#[tokio::test]
async fn tiles_read_the_same_items_at_ten_times_the_volume_moto() {
    same_reads_at_ten_times_the_volume(
        Arc::new(support::moto::dynamo_store().await),
        Arc::new(support::moto::dynamo_store().await),
        Volume {
            segments: 4,
            logins: 3,
            calls: 3,
        },
    )
    .await;
}
