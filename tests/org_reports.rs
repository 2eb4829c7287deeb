//! Organisation reports end to end (SPEC C1, C9, C10, D1, D3, D4, Q2) on both store adapters
//! (embedded + DirBlobs, moto DynamoDB + moto S3): a hand-built fixture loaded through ingest —
//! a call transferred across three clinics, an abandoned call, a consultation shorter than the
//! minimum, a call across Sydney's DST change — whose Consultations rows are written out here
//! and compared exactly, then cell by cell after downloading the workbook through its
//! presigned link; the configuration, the 24-hour history at its edge, and the fences.

#![allow(clippy::unwrap_used)]

use crate::org_reports_xlsx::{
    assert_data_sheet_layout, expected_about, expected_fields, expected_header, expected_row,
    read_workbook, ReadCell,
};
use crate::support::app::TestServer;
use crate::support::events::{
    account, clinic as clinic_upserted, logged_in, membership, organisation, participant_joined,
    participant_left, queued_call_abandoned, queued_call_entered, room, room_call_joined,
    room_call_left, segment_ended, segment_started, segment_transferred, Payload,
};
use crate::support::{self, links::served_blobs, TempDir};
use chrono::{DateTime, Duration, Utc};
use domain::auth::{Principal, Role};
use domain::deps::Deps;
use domain::export::cells::Cell;
use domain::org_reports::consultations::{self, build_rows, ConsultationFilter};
use domain::org_reports::{load, ReportScope};
use domain::ports::{BlobStore, FixedClock, Key, Store};
use local_adapters::embedded_store::EmbeddedStore;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) const ORG: &str = "org-hh";
pub(crate) const OTHER_ORG: &str = "org-xx";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// "Now" for every scenario: after the fixture's calls.
pub(crate) fn now() -> DateTime<Utc> {
    t("2026-04-10T00:00:00Z")
}

fn bw(n: u32) -> Value {
    json!({
        "send_kbps_avg": 100 * n, "receive_kbps_avg": 100 * n + 1,
        "send_kbps_max": 100 * n + 2, "receive_kbps_max": 100 * n + 3,
        "packet_loss_permille": n, "round_trip_ms_avg": 10 * n
    })
}

fn bw_cells(n: i64) -> Vec<Cell> {
    vec![
        Cell::Int(100 * n),
        Cell::Int(100 * n + 1),
        Cell::Int(100 * n + 2),
        Cell::Int(100 * n + 3),
        Cell::Int(n),
        Cell::Int(10 * n),
    ]
}

/// The fixture's events in order, numbered `ev-1`, `ev-2`, ...
struct Events(Vec<Value>);

impl Events {
    fn push(&mut self, at: &str, payload: Payload) {
        let id = format!("ev-{}", self.0.len() + 1);
        self.0.push(payload.event(&id, at));
    }
    fn joined(&mut self, at: &str, session: &str, seg: &str, part: &str, account: Option<&str>) {
        self.push(at, participant_joined(session, seg, part, account));
    }
    fn left(&mut self, at: &str, session: &str, seg: &str, part: &str, n: u32) {
        self.push(at, participant_left(session, seg, part, bw(n)));
    }
    fn segment(&mut self, at: &str, session: &str, seg: &str, qc: &str, org: &str, clinic: &str) {
        self.push(at, segment_started(session, seg, qc, org, clinic));
    }
    fn ended(&mut self, at: &str, session: &str, seg: &str) {
        self.push(at, segment_ended(session, seg));
    }
}

/// The fixture's events (see the module header).
pub(crate) fn fixture() -> Vec<Value> {
    let mut e = Events(Vec::new());
    let setup = "2026-01-01T00:00:00Z";
    for (org, name) in [(ORG, "Harbour Health"), (OTHER_ORG, "Other Org")] {
        e.push(
            setup,
            organisation(org, name, "NSW", "Standard", "2025-01-01T00:00:00Z"),
        );
    }
    // Manly opened during the report's period (2 April 20:00 UTC = 3 April 07:00 AEDT).
    for (clinic, org, name, created) in [
        ("cl-a", ORG, "Bondi Clinic", "2025-01-01T00:00:00Z"),
        ("cl-b", ORG, "Coogee Clinic", "2025-01-01T00:00:00Z"),
        ("cl-c", ORG, "Manly Clinic", "2026-04-02T20:00:00Z"),
        (
            "cl-x",
            OTHER_ORG,
            "Elsewhere Clinic",
            "2025-01-01T00:00:00Z",
        ),
    ] {
        e.push(
            setup,
            clinic_upserted(clinic, org, name, "NSW", "Standard", created),
        );
    }
    e.push(
        setup,
        room(
            "room-1",
            ORG,
            "cl-a",
            "meeting",
            "Team room",
            "2025-01-01T00:00:00Z",
        ),
    );
    // Chen Wu is deactivated and Dee New created during the period.
    for (acc, org, name, role, level, created, deactivated) in [
        (
            "acc-1",
            ORG,
            "Ana Lima",
            "standard",
            "full",
            "2025-01-01T00:00:00Z",
            None,
        ),
        (
            "acc-2",
            ORG,
            "=Bob Evil",
            "standard",
            "full",
            "2025-01-01T00:00:00Z",
            None,
        ),
        (
            "acc-3",
            ORG,
            "Chen Wu",
            "org_admin",
            "full",
            "2025-01-01T00:00:00Z",
            Some("2026-04-05T05:00:00Z"),
        ),
        (
            "acc-4",
            ORG,
            "Dee New",
            "standard",
            "limited",
            "2026-04-04T00:00:00Z",
            None,
        ),
        (
            "acc-9",
            OTHER_ORG,
            "Other Person",
            "standard",
            "full",
            "2025-01-01T00:00:00Z",
            None,
        ),
    ] {
        let email = format!("{acc}@example.org");
        let mut payload = account(acc, org, &email, name, role, level, created);
        if let Some(d) = deactivated {
            payload = payload.with("deactivated_at", d);
        }
        e.push(setup, payload);
    }
    // Rooms: a user room created in the period, a group room deleted in it.
    e.push(
        setup,
        room(
            "room-2",
            ORG,
            "cl-b",
            "user",
            "Bob's room",
            "2026-04-03T00:00:00Z",
        )
        .with("owner_account_id", "acc-2"),
    );
    e.push(
        setup,
        room(
            "room-3",
            ORG,
            "cl-c",
            "group",
            "Big room",
            "2025-01-01T00:00:00Z",
        )
        .with("deleted_at", "2026-04-05T00:00:00Z"),
    );
    // Memberships: Ana Lima is a provider in Bondi and a coordinator in Manly (since 3 April).
    for (acc, clinic, org, role, granted) in [
        ("acc-1", "cl-a", ORG, "provider", "2025-01-01T00:00:00Z"),
        ("acc-1", "cl-c", ORG, "coordinator", "2026-04-03T00:00:00Z"),
        ("acc-2", "cl-b", ORG, "provider", "2025-01-01T00:00:00Z"),
        ("acc-3", "cl-b", ORG, "provider", "2025-01-01T00:00:00Z"),
        ("acc-3", "cl-c", ORG, "provider", "2025-01-01T00:00:00Z"),
        ("acc-4", "cl-a", ORG, "receptionist", "2026-04-04T00:00:00Z"),
        (
            "acc-9",
            "cl-x",
            OTHER_ORG,
            "provider",
            "2025-01-01T00:00:00Z",
        ),
    ] {
        e.push(setup, membership(acc, clinic, org, role, granted));
    }
    // Logins: Ana in the period and after it, Chen before it, someone of another org in it.
    for (at, acc, org) in [
        ("2026-04-03T08:00:00Z", "acc-1", ORG),
        ("2026-04-06T08:00:00Z", "acc-1", ORG),
        ("2026-03-01T00:00:00Z", "acc-3", ORG),
        ("2026-04-03T09:00:00Z", "acc-9", OTHER_ORG),
    ] {
        e.push(at, logged_in(acc, org));
    }
    // Room calls: Bob alone in his user room; Ana and a guest in the tagged meeting room.
    let room_joined =
        |e: &mut Events, at: &str, room: &str, call: &str, part: &str, acc: Option<&str>| {
            let mut payload = room_call_joined(room, call, ORG, part);
            if let Some(a) = acc {
                payload = payload.with("account_id", a);
            }
            e.push(at, payload);
        };
    let room_left = |e: &mut Events, at: &str, room: &str, call: &str, part: &str, n: u32| {
        e.push(at, room_call_left(room, call, part, bw(n)));
    };
    room_joined(
        &mut e,
        "2026-04-03T02:00:00Z",
        "room-2",
        "call-2",
        "part-r1",
        Some("acc-2"),
    );
    room_left(
        &mut e,
        "2026-04-03T02:10:00Z",
        "room-2",
        "call-2",
        "part-r1",
        14,
    );
    room_joined(
        &mut e,
        "2026-04-04T05:00:00Z",
        "room-1",
        "call-1",
        "part-r2",
        Some("acc-1"),
    );
    room_joined(
        &mut e,
        "2026-04-04T05:02:00Z",
        "room-1",
        "call-1",
        "part-r3",
        None,
    );
    room_left(
        &mut e,
        "2026-04-04T05:30:00Z",
        "room-1",
        "call-1",
        "part-r3",
        12,
    );
    room_left(
        &mut e,
        "2026-04-04T05:31:00Z",
        "room-1",
        "call-1",
        "part-r2",
        13,
    );
    // S1: transferred Bondi -> Coogee -> Manly on 3 April (AEDT, UTC+11).
    let s = "sess-1";
    e.push(
        "2026-04-02T23:00:00Z",
        queued_call_entered("qc-1", s, ORG, "cl-a"),
    );
    e.segment("2026-04-02T23:00:00Z", s, "seg-1a", "qc-1", ORG, "cl-a");
    e.joined("2026-04-02T23:00:00Z", s, "seg-1a", "part-c1", None);
    e.joined(
        "2026-04-02T23:05:00Z",
        s,
        "seg-1a",
        "part-h1",
        Some("acc-1"),
    );
    e.push(
        "2026-04-02T23:20:00Z",
        segment_transferred(s, "seg-1a", "cl-b", "seg-1b"),
    );
    e.left("2026-04-02T23:20:00Z", s, "seg-1a", "part-h1", 1);
    e.left("2026-04-02T23:20:00Z", s, "seg-1a", "part-c1", 2);
    e.ended("2026-04-02T23:20:01Z", s, "seg-1a");
    e.segment("2026-04-02T23:20:01Z", s, "seg-1b", "qc-1", ORG, "cl-b");
    e.joined("2026-04-02T23:20:01Z", s, "seg-1b", "part-c1", None);
    e.joined(
        "2026-04-02T23:22:00Z",
        s,
        "seg-1b",
        "part-h2",
        Some("acc-2"),
    );
    e.push(
        "2026-04-02T23:40:00Z",
        segment_transferred(s, "seg-1b", "cl-c", "seg-1c"),
    );
    e.left("2026-04-02T23:40:00Z", s, "seg-1b", "part-h2", 3);
    e.left("2026-04-02T23:40:00Z", s, "seg-1b", "part-c1", 4);
    e.ended("2026-04-02T23:40:01Z", s, "seg-1b");
    e.segment("2026-04-02T23:40:01Z", s, "seg-1c", "qc-1", ORG, "cl-c");
    e.joined("2026-04-02T23:40:01Z", s, "seg-1c", "part-c1", None);
    e.joined(
        "2026-04-02T23:41:00Z",
        s,
        "seg-1c",
        "part-h3",
        Some("acc-3"),
    );
    e.left("2026-04-03T00:10:00Z", s, "seg-1c", "part-h3", 5);
    e.left("2026-04-03T00:10:05Z", s, "seg-1c", "part-c1", 6);
    e.ended("2026-04-03T00:10:05Z", s, "seg-1c");
    // S2: abandoned in Bondi after 4.5 minutes.
    let s = "sess-2";
    e.push(
        "2026-04-04T01:00:00Z",
        queued_call_entered("qc-2", s, ORG, "cl-a"),
    );
    e.segment("2026-04-04T01:00:00Z", s, "seg-2a", "qc-2", ORG, "cl-a");
    e.joined("2026-04-04T01:00:00Z", s, "seg-2a", "part-c2", None);
    e.left("2026-04-04T01:04:30Z", s, "seg-2a", "part-c2", 7);
    e.push(
        "2026-04-04T01:04:30Z",
        queued_call_abandoned("qc-2", s, "seg-2a"),
    );
    e.ended("2026-04-04T01:04:30Z", s, "seg-2a");
    // S3: a 30-second consultation in Coogee (shorter than the 60-second minimum).
    let s = "sess-3";
    e.push(
        "2026-04-04T03:00:00Z",
        queued_call_entered("qc-3", s, ORG, "cl-b"),
    );
    e.segment("2026-04-04T03:00:00Z", s, "seg-3a", "qc-3", ORG, "cl-b");
    e.joined("2026-04-04T03:00:00Z", s, "seg-3a", "part-c3", None);
    e.joined(
        "2026-04-04T03:01:00Z",
        s,
        "seg-3a",
        "part-h4",
        Some("acc-3"),
    );
    e.left("2026-04-04T03:01:30Z", s, "seg-3a", "part-h4", 8);
    e.left("2026-04-04T03:01:30Z", s, "seg-3a", "part-c3", 9);
    e.ended("2026-04-04T03:01:30Z", s, "seg-3a");
    // S4: Manly, across the end of daylight time (5 April, 03:00 AEDT = 16:00 UTC -> 02:00 AEST).
    let s = "sess-4";
    e.push(
        "2026-04-04T15:30:00Z",
        queued_call_entered("qc-4", s, ORG, "cl-c"),
    );
    e.segment("2026-04-04T15:30:00Z", s, "seg-4a", "qc-4", ORG, "cl-c");
    e.joined("2026-04-04T15:30:00Z", s, "seg-4a", "part-c4", None);
    e.joined(
        "2026-04-04T15:35:00Z",
        s,
        "seg-4a",
        "part-h5",
        Some("acc-1"),
    );
    e.left("2026-04-04T16:20:00Z", s, "seg-4a", "part-h5", 10);
    e.left("2026-04-04T16:20:10Z", s, "seg-4a", "part-c4", 11);
    e.ended("2026-04-04T16:20:10Z", s, "seg-4a");
    // S5: after the range (6 April local); S6: another organisation, inside the range.
    e.push(
        "2026-04-06T01:00:00Z",
        queued_call_entered("qc-5", "sess-5", ORG, "cl-a"),
    );
    e.segment(
        "2026-04-06T01:00:00Z",
        "sess-5",
        "seg-5a",
        "qc-5",
        ORG,
        "cl-a",
    );
    e.joined("2026-04-06T01:00:00Z", "sess-5", "seg-5a", "part-c5", None);
    e.push(
        "2026-04-03T01:00:00Z",
        queued_call_entered("qc-6", "sess-6", OTHER_ORG, "cl-x"),
    );
    e.segment(
        "2026-04-03T01:00:00Z",
        "sess-6",
        "seg-6a",
        "qc-6",
        OTHER_ORG,
        "cl-x",
    );
    e.joined("2026-04-03T01:00:00Z", "sess-6", "seg-6a", "part-c6", None);
    e.0
}

/// One expected row; `who` = (participant, name, type, joined, left, attendance seconds,
/// bandwidth n), `seg` = (clinic, queued call, session, segment, entered, start, end, duration,
/// transfer, to clinic, to segment, participants, abandoned at).
#[allow(clippy::type_complexity)]
fn row(
    seg: (
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        i64,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        i64,
        Option<&str>,
    ),
    who: (&str, Option<&str>, &str, &str, &str, i64, i64),
) -> Vec<Cell> {
    let (
        clinic,
        qc,
        session,
        segment,
        entered,
        start,
        end,
        duration,
        transfer,
        to_clinic,
        to_seg,
        count,
        abandoned,
    ) = seg;
    let (part, name, kind, joined, left, attendance, n) = who;
    let mut r = vec![
        Cell::text("Harbour Health"),
        Cell::text(clinic),
        Cell::text(qc),
        Cell::text(session),
        Cell::text(segment),
        Cell::text(part),
        Cell::Time(t(entered)),
        Cell::opt_text(name),
        Cell::text(kind),
        Cell::Time(t(joined)),
        Cell::Time(t(left)),
        Cell::Seconds(attendance),
        Cell::Time(t(start)),
        Cell::Time(t(end)),
        Cell::Seconds(duration),
        Cell::opt_time(transfer.map(t)),
        Cell::opt_text(to_clinic),
        Cell::opt_text(to_seg),
        Cell::Int(count),
        Cell::Bool(abandoned.is_some()),
        Cell::opt_time(abandoned.map(t)),
    ];
    r.extend(bw_cells(n));
    r
}

fn seg_1a() -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    i64,
    Option<&'static str>,
) {
    (
        "Bondi Clinic",
        "qc-1",
        "sess-1",
        "seg-1a",
        "2026-04-02T23:00:00Z",
        "2026-04-02T23:00:00Z",
        "2026-04-02T23:20:01Z",
        1201,
        Some("2026-04-02T23:20:00Z"),
        Some("Coogee Clinic"),
        Some("seg-1b"),
        2,
        None,
    )
}

#[allow(clippy::type_complexity)]
fn seg_1b() -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    i64,
    Option<&'static str>,
) {
    (
        "Coogee Clinic",
        "qc-1",
        "sess-1",
        "seg-1b",
        "2026-04-02T23:00:00Z",
        "2026-04-02T23:20:01Z",
        "2026-04-02T23:40:01Z",
        1200,
        Some("2026-04-02T23:40:00Z"),
        Some("Manly Clinic"),
        Some("seg-1c"),
        2,
        None,
    )
}

/// The organisation-level Consultations rows of 3–5 April 2026 (Sydney), minimum 60 s.
pub(crate) fn expected_org_rows() -> Vec<Vec<Cell>> {
    let seg_1c = (
        "Manly Clinic",
        "qc-1",
        "sess-1",
        "seg-1c",
        "2026-04-02T23:00:00Z",
        "2026-04-02T23:40:01Z",
        "2026-04-03T00:10:05Z",
        1804,
        None,
        None,
        None,
        2,
        None,
    );
    let seg_2a = (
        "Bondi Clinic",
        "qc-2",
        "sess-2",
        "seg-2a",
        "2026-04-04T01:00:00Z",
        "2026-04-04T01:00:00Z",
        "2026-04-04T01:04:30Z",
        270,
        None,
        None,
        None,
        1,
        Some("2026-04-04T01:04:30Z"),
    );
    let seg_4a = (
        "Manly Clinic",
        "qc-4",
        "sess-4",
        "seg-4a",
        "2026-04-04T15:30:00Z",
        "2026-04-04T15:30:00Z",
        "2026-04-04T16:20:10Z",
        3010,
        None,
        None,
        None,
        2,
        None,
    );
    vec![
        row(
            seg_1a(),
            (
                "part-c1",
                None,
                "caller",
                "2026-04-02T23:00:00Z",
                "2026-04-02T23:20:00Z",
                1200,
                2,
            ),
        ),
        row(
            seg_1a(),
            (
                "part-h1",
                Some("Ana Lima"),
                "host",
                "2026-04-02T23:05:00Z",
                "2026-04-02T23:20:00Z",
                900,
                1,
            ),
        ),
        row(
            seg_1b(),
            (
                "part-c1",
                None,
                "caller",
                "2026-04-02T23:20:01Z",
                "2026-04-02T23:40:00Z",
                1199,
                4,
            ),
        ),
        row(
            seg_1b(),
            (
                "part-h2",
                Some("=Bob Evil"),
                "host",
                "2026-04-02T23:22:00Z",
                "2026-04-02T23:40:00Z",
                1080,
                3,
            ),
        ),
        row(
            seg_1c,
            (
                "part-c1",
                None,
                "caller",
                "2026-04-02T23:40:01Z",
                "2026-04-03T00:10:05Z",
                1804,
                6,
            ),
        ),
        row(
            seg_1c,
            (
                "part-h3",
                Some("Chen Wu"),
                "host",
                "2026-04-02T23:41:00Z",
                "2026-04-03T00:10:00Z",
                1740,
                5,
            ),
        ),
        row(
            seg_2a,
            (
                "part-c2",
                None,
                "caller",
                "2026-04-04T01:00:00Z",
                "2026-04-04T01:04:30Z",
                270,
                7,
            ),
        ),
        row(
            seg_4a,
            (
                "part-c4",
                None,
                "caller",
                "2026-04-04T15:30:00Z",
                "2026-04-04T16:20:10Z",
                3010,
                11,
            ),
        ),
        row(
            seg_4a,
            (
                "part-h5",
                Some("Ana Lima"),
                "host",
                "2026-04-04T15:35:00Z",
                "2026-04-04T16:20:00Z",
                2700,
                10,
            ),
        ),
    ]
}

/// Coogee's clinic-level rows with no minimum: its transfer segment and the short consultation.
fn expected_coogee_rows() -> Vec<Vec<Cell>> {
    let seg_3a = (
        "Coogee Clinic",
        "qc-3",
        "sess-3",
        "seg-3a",
        "2026-04-04T03:00:00Z",
        "2026-04-04T03:00:00Z",
        "2026-04-04T03:01:30Z",
        90,
        None,
        None,
        None,
        2,
        None,
    );
    vec![
        row(
            seg_1b(),
            (
                "part-c1",
                None,
                "caller",
                "2026-04-02T23:20:01Z",
                "2026-04-02T23:40:00Z",
                1199,
                4,
            ),
        ),
        row(
            seg_1b(),
            (
                "part-h2",
                Some("=Bob Evil"),
                "host",
                "2026-04-02T23:22:00Z",
                "2026-04-02T23:40:00Z",
                1080,
                3,
            ),
        ),
        row(
            seg_3a,
            (
                "part-c3",
                None,
                "caller",
                "2026-04-04T03:00:00Z",
                "2026-04-04T03:01:30Z",
                90,
                9,
            ),
        ),
        row(
            seg_3a,
            (
                "part-h4",
                Some("Chen Wu"),
                "host",
                "2026-04-04T03:01:00Z",
                "2026-04-04T03:01:30Z",
                30,
                8,
            ),
        ),
    ]
}

struct World {
    deps: Arc<Deps>,
    clock: Arc<FixedClock>,
    _dirs: Vec<TempDir>,
    _served: Option<support::links::ServedBlobs>,
}

async fn world(store: Arc<dyn Store>, blobs: Option<Arc<dyn BlobStore>>) -> World {
    let mail_dir = TempDir::new("org-reports-mail");
    let (blobs, served): (Arc<dyn BlobStore>, _) = match blobs {
        Some(b) => (b, None),
        None => {
            let served = served_blobs().await;
            (served.blobs.clone(), Some(served))
        }
    };
    let clock = Arc::new(FixedClock::new(now()));
    let deps = Arc::new(Deps {
        store,
        blobs,
        mailer: Arc::new(local_adapters::outbox::OutboxMailer::new(
            mail_dir.path(),
            "reports@example.org".into(),
        )),
        clock: clock.clone(),
        settings: local_server::local_settings("http://x").unwrap(),
    });
    let report = domain::events::ingest::ingest_batch(&*deps.store, now(), &fixture())
        .await
        .unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.results);
    World {
        deps,
        clock,
        _dirs: vec![mail_dir],
        _served: served,
    }
}

async fn embedded_world() -> World {
    world(Arc::new(EmbeddedStore::in_memory()), None).await
}

async fn moto_world() -> World {
    world(
        Arc::new(support::moto::dynamo_store().await),
        Some(Arc::new(support::moto::s3_blobs().await)),
    )
    .await
}

fn principal(role: Role, orgs: &[&str], clinics: &[&str]) -> Principal {
    Principal {
        sub: format!("acc-{}", role.as_str()),
        role,
        orgs: orgs.iter().map(|s| s.to_string()).collect(),
        clinics: clinics.iter().map(|s| s.to_string()).collect(),
    }
}

fn admin() -> Principal {
    principal(Role::OrgAdmin, &[ORG], &[])
}

/// Calls a route through the API's Router.
async fn call(
    w: &World,
    who: &Principal,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (path, query) = crate::support::app::split_query(path);
    let body = body
        .map(|b| bytes::Bytes::from(b.to_string()))
        .unwrap_or_default();
    let resp = crate::support::app::TestApp::new(w.deps.clone())
        .call(Some(who), method, path, &query, &[], body)
        .await;
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    (resp.status, body)
}

fn params(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to, "time_zone": "Australia/Sydney", "min_duration_seconds": 60})
}

async fn fetch(url: &str) -> (u16, Vec<u8>) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.bytes().await.unwrap().to_vec())
}

fn sydney() -> chrono_tz::Tz {
    "Australia/Sydney".parse().unwrap()
}

async fn builder_rows_match(w: World) {
    let params = domain::org_reports::params::ReportParams::resolve(
        &serde_json::from_value(params("2026-04-03", "2026-04-05")).unwrap(),
        &domain::org_reports::config::ReportConfig::defaults(ORG),
    )
    .unwrap();
    let (start, end) = (params.start_utc(), params.end_utc());
    assert_eq!(
        (start, end),
        (t("2026-04-02T13:00:00Z"), t("2026-04-05T14:00:00Z"))
    );
    let scope = ReportScope::Org { org_id: ORG.into() };
    let input = load::consultation_input(&*w.deps.store, &scope, start, end)
        .await
        .unwrap();
    let filter = ConsultationFilter {
        start,
        end,
        clinic_id: None,
        min_duration_seconds: 60,
    };
    assert_eq!(build_rows(&input, &filter), expected_org_rows());
    let coogee = ReportScope::Clinic {
        org_id: ORG.into(),
        clinic_id: "cl-b".into(),
    };
    let input = load::consultation_input(&*w.deps.store, &coogee, start, end)
        .await
        .unwrap();
    let filter = ConsultationFilter {
        start,
        end,
        clinic_id: Some("cl-b".into()),
        min_duration_seconds: 0,
    };
    assert_eq!(build_rows(&input, &filter), expected_coogee_rows());
    // Streamed two segments a page (a transferred call spans pages): the same rows.
    for (scope, filter, want, pages) in [
        (
            ReportScope::Org { org_id: ORG.into() },
            ConsultationFilter {
                start,
                end,
                clinic_id: None,
                min_duration_seconds: 60,
            },
            expected_org_rows(),
            3,
        ),
        (coogee, filter, expected_coogee_rows(), 1),
    ] {
        let (tx, mut rx) = tokio::sync::mpsc::channel(100);
        load::stream_consultation_rows(&*w.deps.store, &scope, &filter, 2, &tx)
            .await
            .unwrap();
        drop(tx);
        let mut rows = Vec::new();
        let mut batches = 0;
        while let Some(batch) = rx.recv().await {
            batches += 1;
            rows.extend(batch);
        }
        assert_eq!(rows, want);
        assert_eq!(batches, pages);
        // The same rows as CSV, each page decoded and formatted on the stream's workers: the
        // document equals the rows formatted in one go, in order.
        let header: Vec<&str> = consultations::FIELDS.iter().map(|f| f.name).collect();
        let key = format!("test/consultations-{pages}.csv");
        let upload = w.deps.blobs.start_upload(&key, "text/csv").await.unwrap();
        let mut csv = domain::export::csv::CsvStream::new(
            upload,
            &header,
            chrono_tz::Tz::Europe__Paris,
            true,
        )
        .unwrap();
        load::stream_consultation_csv(&*w.deps.store, &scope, &filter, 2, &mut csv)
            .await
            .unwrap();
        let expected =
            domain::export::csv::to_csv(&header, &want, chrono_tz::Tz::Europe__Paris, true);
        assert_eq!(
            csv.finish().await.unwrap(),
            (want.len() as u64, expected.len() as u64)
        );
        let stored = w.deps.blobs.get(&key).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&stored),
            String::from_utf8_lossy(&expected)
        );
    }
}

#[tokio::test]
async fn consultation_rows_match_the_fixture_embedded() {
    builder_rows_match(embedded_world().await).await;
}

#[tokio::test]
async fn consultation_rows_match_the_fixture_moto() {
    builder_rows_match(moto_world().await).await;
}

pub(crate) fn assert_workbook(bytes: &[u8], rows: &[Vec<Cell>]) -> Vec<Vec<ReadCell>> {
    assert_report_workbook(bytes, consultations::FIELDS, rows)
}

/// The sheets of a downloaded workbook, cell by cell (the data with its offset columns and
/// layout, the field descriptions); answers the About sheet's rows, whose last is the row
/// count.
fn assert_report_workbook(
    bytes: &[u8],
    fields: &[domain::export::xlsx::FieldDescription],
    rows: &[Vec<Cell>],
) -> Vec<Vec<ReadCell>> {
    let sheets = read_workbook(bytes);
    assert_eq!(
        sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Data", "Field descriptions", "About this report"]
    );
    assert_eq!(sheets[0].rows[0], expected_header(fields));
    for (i, row) in rows.iter().enumerate() {
        let want = expected_row(fields, row, sydney());
        assert_eq!(sheets[0].rows.get(i + 1), Some(&want), "data row {}", i + 1);
    }
    assert_eq!(sheets[0].rows.len(), rows.len() + 1);
    assert_data_sheet_layout(&sheets[0], fields);
    assert_eq!(sheets[1].rows, expected_fields(fields));
    let about = sheets[2].rows.clone();
    assert_eq!(
        about.last(),
        Some(&vec![
            ReadCell::Text("Rows".into()),
            ReadCell::Text(rows.len().to_string())
        ])
    );
    about
}

async fn download_history_and_links(w: World) {
    // Download (D1): 201, a link, a history record; the workbook matches cell by cell.
    let (status, body) = call(
        &w,
        &admin(),
        "POST",
        "/orgs/org-hh/reports/consultations/download",
        Some(params("2026-04-03", "2026-04-05")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let report = &body["report"];
    let report_id = report["report_id"].as_str().unwrap().to_string();
    assert_eq!(report["org_id"], ORG);
    assert_eq!(report["report_type"], "consultations");
    assert_eq!(report["state"], "ready");
    assert_eq!(report["delivery"], "download");
    assert_eq!(report["row_count"], 9);
    assert_eq!(report["requested_by"], "acc-org_admin");
    assert_eq!(
        report["params"],
        json!({"from": "2026-04-03", "to": "2026-04-05",
        "time_zone": "Australia/Sydney", "min_duration_seconds": 60})
    );
    assert_eq!(
        report["file_name"],
        "consultations_2026-04-03_2026-04-05.xlsx"
    );
    assert_eq!(
        body["link_expires_at"],
        json!(now() + Duration::minutes(10))
    );
    // The blob key stays inside: only presigned links leave the API.
    assert!(report.get("object_key").is_none());
    let (status, bytes) = fetch(body["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(report["size_bytes"], bytes.len());
    // The Q2 rule shows in the workbook: the host named "=Bob Evil" reads back neutralised.
    let about = assert_workbook(&bytes, &expected_org_rows());
    // The About sheet (C12): the requester has no account of the organisation, so its id.
    assert_eq!(
        about,
        expected_about(
            &[
                ("Report", "Consultations"),
                ("Organisation", "Harbour Health"),
                ("Period", "2026-04-03 to 2026-04-05 (whole local days)"),
                ("Time zone", "Australia/Sydney"),
                ("Minimum duration", "60 seconds"),
                ("Generated at", "2026-04-10 10:00:00 +10:00"),
                ("Requested by", "acc-org_admin"),
                ("Configuration version", "0"),
            ],
            9
        )
    );
    assert_eq!(
        read_workbook(&bytes)[0].rows[4][8],
        ReadCell::Text("'=Bob Evil".into())
    );

    // Clinic-level download (C10) by Coogee's clinic admin, without a minimum.
    let coogee_admin = principal(Role::ClinicAdmin, &[], &["cl-b"]);
    w.clock.advance(Duration::hours(1));
    let body = coogee_download(&w, &coogee_admin).await;
    let clinic_report_id = body["report"]["report_id"].as_str().unwrap().to_string();
    assert_eq!(body["report"]["clinic_id"], "cl-b");
    let (_, bytes) = fetch(body["url"].as_str().unwrap()).await;
    assert_workbook(&bytes, &expected_coogee_rows());

    // History (D3): the organisation sees both (newest first), the clinic its own.
    let (status, body) = call(
        &w,
        &principal(Role::OrgReporter, &[ORG], &[]),
        "GET",
        "/orgs/org-hh/reports/history",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![clinic_report_id.as_str(), report_id.as_str()]);
    assert_eq!(
        body["items"][1]["expires_at"],
        json!(now() + Duration::hours(24))
    );
    let (status, body) = call(
        &w,
        &coogee_admin,
        "GET",
        "/clinics/cl-b/reports/history",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![clinic_report_id.as_str()]);
    // The clinic admin cannot reach the organisation-level entry through the clinic.
    let (status, _) = call(
        &w,
        &coogee_admin,
        "GET",
        &format!("/clinics/cl-b/reports/history/{report_id}/link"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Re-download through a fresh link (a minute later, so the audit order is the time order).
    w.clock.advance(Duration::minutes(1));
    let (status, body) = call(
        &w,
        &admin(),
        "GET",
        &format!("/orgs/org-hh/reports/history/{report_id}/link"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, again) = fetch(body["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_workbook(&again, &expected_org_rows());

    // The 24-hour edge: one second before, the first entry is there; at 24 h it is gone.
    w.clock
        .set(now() + Duration::hours(24) - Duration::seconds(1));
    let (_, body) = call(&w, &admin(), "GET", "/orgs/org-hh/reports/history", None).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    w.clock.set(now() + Duration::hours(24));
    let (_, body) = call(&w, &admin(), "GET", "/orgs/org-hh/reports/history", None).await;
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![clinic_report_id.as_str()]);
    let (status, _) = call(
        &w,
        &admin(),
        "GET",
        &format!("/orgs/org-hh/reports/history/{report_id}/link"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // D4: the downloads and the re-download are audited, with row counts and object keys.
    let audit = domain::ports::store::query_all(
        &*w.deps.store,
        &domain::ports::Query::partition(domain::ports::Index::Primary, "AUDIT#ORG#org-hh"),
    )
    .await
    .unwrap();
    let actions: Vec<(String, Option<u64>)> = audit
        .iter()
        .map(|i| {
            let r: domain::audit::AuditRecord = i.decode().unwrap();
            (r.action, r.row_count)
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("report.downloaded".to_string(), Some(9)),
            ("report.downloaded".to_string(), Some(4)),
            ("report.redownloaded".to_string(), Some(9)),
        ]
    );
}

/// Coogee's Consultations report of 3–5 April in Sydney, without a minimum, downloaded by `who`
/// (201): the answer.
async fn coogee_download(w: &World, who: &Principal) -> Value {
    let (status, body) = call(
        w,
        who,
        "POST",
        "/clinics/cl-b/reports/consultations/download",
        Some(
            json!({"from": "2026-04-03", "to": "2026-04-05", "time_zone": "Australia/Sydney",
            "min_duration_seconds": 0}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// The About sheet of a clinic's report names the clinic, and the requester by account name.
#[tokio::test]
async fn the_about_sheet_names_the_clinic_and_the_requester_by_account_name() {
    let w = embedded_world().await;
    let ana = Principal {
        sub: "acc-1".into(),
        ..principal(Role::OrgReporter, &[ORG], &[])
    };
    let body = coogee_download(&w, &ana).await;
    let (_, bytes) = fetch(body["url"].as_str().unwrap()).await;
    let about = assert_workbook(&bytes, &expected_coogee_rows());
    let line = |l: &str, v: &str| vec![ReadCell::Text(l.into()), ReadCell::Text(v.into())];
    assert_eq!(about[1], line("Clinic", "Coogee Clinic"));
    assert_eq!(about[4], line("Minimum duration", "0 seconds"));
    assert_eq!(about[6], line("Requested by", "Ana Lima"));
}

#[tokio::test]
async fn download_history_and_links_embedded() {
    download_history_and_links(embedded_world().await).await;
}

#[tokio::test]
async fn download_history_and_links_moto() {
    download_history_and_links(moto_world().await).await;
}

async fn fences_and_bad_input(w: World) {
    let stranger = principal(Role::OrgAdmin, &[OTHER_ORG], &[]);
    let other_clinic_admin = principal(Role::ClinicAdmin, &[], &["cl-x"]);
    let coogee_admin = principal(Role::ClinicAdmin, &[], &["cl-b"]);
    let body = Some(params("2026-04-03", "2026-04-05"));
    // Another organisation's admin: 404 everywhere, the same as a missing id.
    for (method, path) in [
        ("GET", "/orgs/org-hh/reports/config"),
        ("POST", "/orgs/org-hh/reports/consultations/download"),
        ("GET", "/orgs/org-hh/reports/history"),
        ("GET", "/clinics/cl-b/reports/history"),
        ("POST", "/clinics/cl-b/reports/consultations/download"),
        ("GET", "/orgs/org-nope/reports/history"),
    ] {
        let (status, _) = call(&w, &stranger, method, path, body.clone()).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    for path in [
        "/clinics/cl-b/reports/history",
        "/clinics/cl-nope/reports/history",
    ] {
        let (status, _) = call(&w, &other_clinic_admin, "GET", path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    // Roles: clinic admins have no organisation-level route; practitioners none at all.
    let (status, _) = call(
        &w,
        &coogee_admin,
        "GET",
        "/orgs/org-hh/reports/history",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &w,
        &principal(Role::Practitioner, &[ORG], &[]),
        "GET",
        "/orgs/org-hh/reports/config",
        None,
    )
    .await;
    assert_eq!(status, 403);
    // Bad input names the field and never echoes the value.
    let (status, p) = call(
        &w,
        &admin(),
        "POST",
        "/orgs/org-hh/reports/consultations/download",
        Some(json!({"from": "2026-04-03", "to": "2026-04-05", "time_zone": "Mars/Olympus_Mons"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (400, Some("time_zone")));
    assert!(!p.to_string().contains("Olympus"));
    let (status, p) = call(
        &w,
        &admin(),
        "POST",
        "/orgs/org-hh/reports/consultations/download",
        Some(json!({"from": "2026-04-03"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (400, Some("to")));
    let (status, _) = call(
        &w,
        &admin(),
        "POST",
        "/orgs/org-hh/reports/telepathy/download",
        body.clone(),
    )
    .await;
    assert_eq!(status, 404);
    // Longer than 2 calendar months: email only, a clear 422 on `to`; nothing recorded.
    let (status, p) = call(
        &w,
        &admin(),
        "POST",
        "/orgs/org-hh/reports/consultations/download",
        Some(params("2026-01-01", "2026-03-01")),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("to")), "{p}");
    let (_, history) = call(&w, &admin(), "GET", "/orgs/org-hh/reports/history", None).await;
    assert_eq!(history["items"], json!([]));
}

#[tokio::test]
async fn fences_and_bad_input_embedded() {
    fences_and_bad_input(embedded_world().await).await;
}

#[tokio::test]
async fn fences_and_bad_input_moto() {
    fences_and_bad_input(moto_world().await).await;
}

async fn configuration(w: World) {
    // Defaults until saved; every org role reads.
    let (status, body) = call(
        &w,
        &principal(Role::OrgCoordinator, &[ORG], &[]),
        "GET",
        "/orgs/org-hh/reports/config",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"org_id": ORG, "time_zone": "UTC", "min_duration_seconds": 0,
        "tags": [], "version": 0})
    );
    // Only org admins change it, and only from the version they read: without it, 428 naming
    // `version`, and nothing changes.
    let without_version = json!({"time_zone": "Australia/Sydney", "min_duration_seconds": 60});
    let (status, p) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(without_version),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (428, Some("version")), "{p}");
    let (_, read) = call(&w, &admin(), "GET", "/orgs/org-hh/reports/config", None).await;
    assert_eq!(read["version"], 0);
    let change = json!({"time_zone": "Australia/Sydney", "min_duration_seconds": 60,
        "tags": [{"name": "Telehealth East", "clinic_ids": ["cl-a"], "room_ids": ["room-1"]}],
        "version": 0});
    let (status, _) = call(
        &w,
        &principal(Role::OrgReporter, &[ORG], &[]),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(change.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(change),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["updated_by"], "acc-org_admin");
    let (_, read) = call(
        &w,
        &principal(Role::OrgReporter, &[ORG], &[]),
        "GET",
        "/orgs/org-hh/reports/config",
        None,
    )
    .await;
    assert_eq!(read, body);
    // Defaults apply to a download without zone and minimum.
    let (status, body) = call(
        &w,
        &admin(),
        "POST",
        "/orgs/org-hh/reports/consultations/download",
        Some(json!({"from": "2026-04-03", "to": "2026-04-05"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["report"]["params"]["time_zone"], "Australia/Sydney");
    assert_eq!(body["report"]["row_count"], 9);
    // Stale versions, foreign clinics, duplicate tag names: refused, nothing changes.
    let stale = json!({"time_zone": "UTC", "min_duration_seconds": 0, "version": 0});
    let (status, _) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(stale),
    )
    .await;
    assert_eq!(status, 409);
    let foreign = json!({"time_zone": "UTC", "min_duration_seconds": 0,
        "tags": [{"name": "x", "clinic_ids": ["cl-x"]}]});
    let (status, p) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(foreign),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (400, Some("tags[0].clinic_ids[0]"))
    );
    let missing_room = json!({"time_zone": "UTC", "min_duration_seconds": 0, "tags": [
        {"name": "a", "clinic_ids": ["cl-a"]},
        {"name": "b", "clinic_ids": ["cl-a"], "room_ids": ["room-1", "room-nope"]}]});
    let (status, p) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(missing_room),
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (400, Some("tags[1].room_ids[1]"))
    );
    let twice = json!({"time_zone": "UTC", "min_duration_seconds": 0,
        "tags": [{"name": "East"}, {"name": "east"}]});
    let (status, p) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(twice),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (400, Some("tags[1].name")));
    let (status, p) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(json!({"time_zone": "UTC", "min_duration_seconds": 0, "colour": "red"})),
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (400, Some("colour")));
    let (_, read) = call(&w, &admin(), "GET", "/orgs/org-hh/reports/config", None).await;
    assert_eq!(read["version"], 1);
    // D4: one audit record for the one change.
    let audit = domain::ports::store::query_all(
        &*w.deps.store,
        &domain::ports::Query::partition(domain::ports::Index::Primary, "AUDIT#ORG#org-hh"),
    )
    .await
    .unwrap();
    let changes: Vec<domain::audit::AuditRecord> = audit
        .iter()
        .map(|i| i.decode().unwrap())
        .filter(|r: &domain::audit::AuditRecord| r.action == "report_config.updated")
        .collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].params["to_version"], 1);
    assert_eq!(changes[0].actor_sub, "acc-org_admin");
    let stored = w
        .deps
        .store
        .get(&Key::new("ORG#org-hh", "REPORT_CONFIG"))
        .await
        .unwrap();
    assert_eq!(stored.map(|i| i.version), Some(1));
}

#[tokio::test]
async fn configuration_embedded() {
    configuration(embedded_world().await).await;
}

#[tokio::test]
async fn configuration_moto() {
    configuration(moto_world().await).await;
}

fn txt(s: &str) -> Cell {
    Cell::text(s)
}

fn at(s: &str) -> Cell {
    Cell::Time(t(s))
}

fn n(v: i64) -> Cell {
    Cell::Int(v)
}

/// C4: the organisation's one row.
fn expected_organisation_rows() -> Vec<Vec<Cell>> {
    vec![vec![
        txt("Harbour Health"),
        at("2025-01-01T00:00:00Z"),
        Cell::Empty,
        n(4),
        n(3),
        n(1),
        n(0),
        n(4),
        n(3),
        n(4),
        Cell::Seconds(901 + 1081 + 1745 + 2710),
        n(1),
        n(1),
        n(1),
        n(2),
        Cell::Seconds(1860 + 600),
        txt("NSW"),
        txt("General practice"),
        txt("Standard"),
    ]]
}

/// C5: one row per clinic, by name.
fn expected_clinic_rows() -> Vec<Vec<Cell>> {
    let clinic = |name: &str,
                  sub: &str,
                  created: &str,
                  last: &str,
                  figures: [i64; 3],
                  consults: i64,
                  secs: i64,
                  abandoned: i64| {
        vec![
            txt("Harbour Health"),
            txt(name),
            txt(sub),
            txt("open"),
            at(created),
            Cell::Empty,
            at(last),
            n(figures[0]),
            n(figures[1]),
            n(figures[2]),
            n(consults),
            Cell::Seconds(secs),
            n(abandoned),
            txt("NSW"),
            txt("General practice"),
            txt("Standard"),
        ]
    };
    vec![
        clinic(
            "Bondi Clinic",
            "cl-a",
            "2025-01-01T00:00:00Z",
            "2026-04-02T23:00:00Z",
            [2, 1, 1],
            1,
            901,
            1,
        ),
        // Coogee's last answered call is the short one the minimum leaves out of the counts.
        clinic(
            "Coogee Clinic",
            "cl-b",
            "2025-01-01T00:00:00Z",
            "2026-04-04T03:00:00Z",
            [2, 1, 0],
            1,
            1081,
            0,
        ),
        clinic(
            "Manly Clinic",
            "cl-c",
            "2026-04-02T20:00:00Z",
            "2026-04-04T15:30:00Z",
            [2, 2, 1],
            2,
            1745 + 2710,
            0,
        ),
    ]
}

/// C6: one row per participant per call, by call start; the meeting room carries two tags.
fn expected_room_call_rows() -> Vec<Vec<Cell>> {
    let mut bob = vec![
        txt("Harbour Health"),
        txt("user"),
        txt("Bob's room"),
        txt("Coogee Clinic"),
        txt("call-2"),
        txt("part-r1"),
        txt("=Bob Evil"),
        txt("team member"),
        at("2026-04-03T02:00:00Z"),
        at("2026-04-03T02:10:00Z"),
        Cell::Seconds(600),
        at("2026-04-03T02:00:00Z"),
        at("2026-04-03T02:10:00Z"),
        Cell::Seconds(600),
        n(1),
        Cell::Empty,
    ];
    bob.extend(bw_cells(14));
    let meeting = |part: &str,
                   name: Option<&str>,
                   kind: &str,
                   joined: &str,
                   left: &str,
                   secs: i64,
                   b: i64| {
        let mut r = vec![
            txt("Harbour Health"),
            txt("meeting"),
            txt("Team room"),
            txt("Bondi Clinic"),
            txt("call-1"),
            txt(part),
            Cell::opt_text(name),
            txt(kind),
            at(joined),
            at(left),
            Cell::Seconds(secs),
            at("2026-04-04T05:00:00Z"),
            at("2026-04-04T05:31:00Z"),
            Cell::Seconds(1860),
            n(2),
            txt("Meeting rooms; Telehealth East"),
        ];
        r.extend(bw_cells(b));
        r
    };
    vec![
        bob,
        meeting(
            "part-r2",
            Some("Ana Lima"),
            "team member",
            "2026-04-04T05:00:00Z",
            "2026-04-04T05:31:00Z",
            1860,
            13,
        ),
        meeting(
            "part-r3",
            None,
            "guest",
            "2026-04-04T05:02:00Z",
            "2026-04-04T05:30:00Z",
            1680,
            12,
        ),
    ]
}

/// C7: account holders by name, each membership by clinic name.
fn expected_provider_rows() -> Vec<Vec<Cell>> {
    let row = |email: &str,
               name: &str,
               clinic: Option<&str>,
               role: Option<&str>,
               count: i64,
               secs: i64,
               last: Option<&str>,
               login: Option<&str>,
               granted: Option<&str>| {
        vec![
            txt("Harbour Health"),
            txt(email),
            txt(name),
            Cell::opt_text(clinic),
            Cell::opt_text(role),
            n(count),
            Cell::Seconds(secs),
            Cell::opt_time(last.map(t)),
            Cell::opt_time(login.map(t)),
            Cell::opt_time(granted.map(t)),
        ]
    };
    vec![
        row(
            "acc-2@example.org",
            "=Bob Evil",
            Some("Coogee Clinic"),
            Some("provider"),
            1,
            1080,
            Some("2026-04-02T23:22:00Z"),
            None,
            Some("2025-01-01T00:00:00Z"),
        ),
        row(
            "acc-1@example.org",
            "Ana Lima",
            Some("Bondi Clinic"),
            Some("provider"),
            1,
            900,
            Some("2026-04-04T15:35:00Z"),
            Some("2026-04-03T08:00:00Z"),
            Some("2025-01-01T00:00:00Z"),
        ),
        row(
            "acc-1@example.org",
            "Ana Lima",
            Some("Manly Clinic"),
            Some("coordinator"),
            1,
            2700,
            Some("2026-04-04T15:35:00Z"),
            Some("2026-04-03T08:00:00Z"),
            Some("2026-04-03T00:00:00Z"),
        ),
        row(
            "acc-3@example.org",
            "Chen Wu",
            Some("Coogee Clinic"),
            Some("provider"),
            0,
            0,
            Some("2026-04-04T03:01:00Z"),
            Some("2026-03-01T00:00:00Z"),
            Some("2025-01-01T00:00:00Z"),
        ),
        row(
            "acc-3@example.org",
            "Chen Wu",
            Some("Manly Clinic"),
            Some("provider"),
            1,
            1740,
            Some("2026-04-04T03:01:00Z"),
            Some("2026-03-01T00:00:00Z"),
            Some("2025-01-01T00:00:00Z"),
        ),
        row(
            "acc-4@example.org",
            "Dee New",
            Some("Bondi Clinic"),
            Some("receptionist"),
            0,
            0,
            None,
            None,
            Some("2026-04-04T00:00:00Z"),
        ),
    ]
}

/// C8: the total, then each platform role and access level.
fn expected_provider_summary_rows() -> Vec<Vec<Cell>> {
    let row = |role: &str, level: &str, f: [i64; 5]| {
        let mut r = vec![txt("Harbour Health"), txt(role), txt(level)];
        r.extend(f.map(n));
        r
    };
    vec![
        row("All", "All", [4, 1, 1, 1, 3]),
        row("org_admin", "full", [1, 0, 1, 0, 1]),
        row("standard", "full", [2, 0, 0, 1, 2]),
        row("standard", "limited", [1, 1, 0, 0, 0]),
    ]
}

async fn six_workbooks_and_tiles(w: World) {
    let config = json!({"time_zone": "Australia/Sydney", "min_duration_seconds": 60, "tags": [
        {"name": "Telehealth East", "clinic_ids": ["cl-a"], "room_ids": ["room-1"]},
        {"name": "Meeting rooms", "room_ids": ["room-1"]}], "version": 0});
    let (status, body) = call(
        &w,
        &admin(),
        "PUT",
        "/orgs/org-hh/reports/config",
        Some(config),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let range = json!({"from": "2026-04-03", "to": "2026-04-05"});
    let cases: Vec<(
        &str,
        &[domain::export::xlsx::FieldDescription],
        Vec<Vec<Cell>>,
    )> = vec![
        (
            "organisation",
            domain::org_reports::organisation::FIELDS,
            expected_organisation_rows(),
        ),
        (
            "clinics",
            domain::org_reports::clinics::FIELDS,
            expected_clinic_rows(),
        ),
        (
            "room-calls",
            domain::org_reports::room_calls::FIELDS,
            expected_room_call_rows(),
        ),
        (
            "service-providers",
            domain::org_reports::providers::FIELDS,
            expected_provider_rows(),
        ),
        (
            "service-provider-summary",
            domain::org_reports::provider_summary::FIELDS,
            expected_provider_summary_rows(),
        ),
        ("consultations", consultations::FIELDS, expected_org_rows()),
    ];
    for (kind, fields, rows) in cases {
        let (status, body) = call(
            &w,
            &principal(Role::OrgCoordinator, &[ORG], &[]),
            "POST",
            &format!("/orgs/org-hh/reports/{kind}/download"),
            Some(range.clone()),
        )
        .await;
        assert_eq!(status, 201, "{kind}: {body}");
        assert_eq!(body["report"]["row_count"], rows.len(), "{kind}");
        let (status, bytes) = fetch(body["url"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{kind}");
        assert_report_workbook(&bytes, fields, &rows);
    }
    // Clinic scope (C10): Coogee's service providers are its members, with Coogee only.
    let coogee_admin = principal(Role::ClinicAdmin, &[], &["cl-b"]);
    let (status, body) = call(
        &w,
        &coogee_admin,
        "POST",
        "/clinics/cl-b/reports/service-providers/download",
        Some(range.clone()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, bytes) = fetch(body["url"].as_str().unwrap()).await;
    let all = expected_provider_rows();
    assert_report_workbook(
        &bytes,
        domain::org_reports::providers::FIELDS,
        &[all[0].clone(), all[3].clone()],
    );

    // Tiles (C2) agree with the workbooks.
    let (status, tiles) = call(
        &w,
        &principal(Role::OrgReporter, &[ORG], &[]),
        "GET",
        "/orgs/org-hh/reports/summary?from=2026-04-03&to=2026-04-05",
        None,
    )
    .await;
    assert_eq!(status, 200, "{tiles}");
    assert_eq!(
        tiles,
        json!({
            "params": {"from": "2026-04-03", "to": "2026-04-05", "time_zone": "Australia/Sydney", "min_duration_seconds": 60},
            "entities": {
                "organisations": {"report_type": "organisation", "figures": {"organisations": 1, "user_accounts": 4, "waiting_areas": 3}},
                "clinics": {"report_type": "clinics", "figures": {"clinics": 3, "new_clinics": 1, "deleted_clinics": 0}}
            },
            "roles": {
                "service_providers": {"report_type": "service-providers", "figures": {"providers": 4, "providers_consulted": 3}},
                "service_provider_summary": {"report_type": "service-provider-summary",
                    "figures": {"providers": 4, "new": 1, "deactivated": 1, "logged_in": 1, "active": 3}}
            },
            "activities": {
                "room_calls": {"report_type": "room-calls", "figures": {"calls": 2, "call_seconds": 2460, "participants": 3}},
                "consultations": {"report_type": "consultations", "figures": {"consultations": 4, "consultation_seconds": 6437, "abandoned_calls": 1}}
            }
        })
    );
    // Coogee's tiles: its one consultation (the 30-second one is under the minimum), its two members.
    let (status, tiles) = call(
        &w,
        &coogee_admin,
        "GET",
        "/clinics/cl-b/reports/summary?from=2026-04-03&to=2026-04-05",
        None,
    )
    .await;
    assert_eq!(status, 200, "{tiles}");
    assert_eq!(
        tiles["activities"]["consultations"]["figures"],
        json!({"consultations": 1, "consultation_seconds": 1081, "abandoned_calls": 0})
    );
    assert_eq!(
        tiles["roles"]["service_providers"]["figures"],
        json!({"providers": 2, "providers_consulted": 1})
    );
    assert_eq!(
        tiles["activities"]["room_calls"]["figures"],
        json!({"calls": 1, "call_seconds": 600, "participants": 1})
    );
    // No tiles beyond 2 calendar months; bad numbers name their field; other tenants get 404.
    let (status, p) = call(
        &w,
        &admin(),
        "GET",
        "/orgs/org-hh/reports/summary?from=2026-01-01&to=2026-03-31",
        None,
    )
    .await;
    assert_eq!((status, p["field"].as_str()), (422, Some("to")));
    let (status, p) = call(
        &w,
        &admin(),
        "GET",
        "/orgs/org-hh/reports/summary?from=2026-04-03&to=2026-04-05&min_duration_seconds=-1",
        None,
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (400, Some("min_duration_seconds"))
    );
    let (status, _) = call(
        &w,
        &principal(Role::OrgAdmin, &[OTHER_ORG], &[]),
        "GET",
        "/orgs/org-hh/reports/summary?from=2026-04-03&to=2026-04-05",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn six_workbooks_and_tiles_embedded() {
    six_workbooks_and_tiles(embedded_world().await).await;
}

#[tokio::test]
async fn six_workbooks_and_tiles_moto() {
    six_workbooks_and_tiles(moto_world().await).await;
}

/// Over HTTP on the local server: a token, the download route, and the `/blobs/...` link it
/// answers, fetched with reqwest; then the history with the same token.
#[tokio::test]
async fn local_server_download_link_serves_the_workbook() {
    let dir = TempDir::new("org-reports-local");
    let server = TestServer::start(dir.path(), now()).await;
    let (base, client) = (&server.base, &server.client);
    let report = domain::events::ingest::ingest_batch(&*server.app.deps.store, now(), &fixture())
        .await
        .unwrap();
    assert_eq!(report.rejected, 0);
    let token = server.token(&admin());
    let resp = client
        .post(format!("{base}/orgs/org-hh/reports/consultations/download"))
        .bearer_auth(&token)
        .json(&params("2026-04-03", "2026-04-05"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let body: Value = resp.json().await.unwrap();
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{base}/blobs/")), "{url}");
    let (status, bytes) = fetch(url).await;
    assert_eq!(status, 200);
    assert_workbook(&bytes, &expected_org_rows());
    let resp = client
        .get(format!("{base}/orgs/org-hh/reports/history"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let history: Value = resp.json().await.unwrap();
    assert_eq!(
        history["items"][0]["report_id"],
        body["report"]["report_id"]
    );
    // Without a token: 401 before any handler runs.
    let resp = client
        .get(format!("{base}/orgs/org-hh/reports/history"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

/// A store whose queries take `delay` once `slow` is set: a report that builds slowly.
struct SlowQueries {
    inner: Arc<dyn Store>,
    slow: std::sync::atomic::AtomicBool,
    delay: std::time::Duration,
}

#[async_trait::async_trait]
impl Store for SlowQueries {
    async fn get(
        &self,
        key: &Key,
    ) -> Result<Option<domain::ports::Item>, domain::ports::StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: domain::ports::Item,
        condition: domain::ports::Condition,
    ) -> Result<(), domain::ports::StoreError> {
        self.inner.put(item, condition).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: domain::ports::Condition,
    ) -> Result<(), domain::ports::StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn transact(
        &self,
        ops: Vec<domain::ports::TxOp>,
    ) -> Result<(), domain::ports::StoreError> {
        self.inner.transact(ops).await
    }
    async fn add(&self, key: &Key, delta: i64) -> Result<i64, domain::ports::StoreError> {
        self.inner.add(key, delta).await
    }
    async fn query(
        &self,
        query: &domain::ports::Query,
    ) -> Result<domain::ports::Page, domain::ports::StoreError> {
        if self.slow.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(self.delay).await;
        }
        self.inner.query(query).await
    }
    async fn put_many(
        &self,
        items: Vec<domain::ports::Item>,
    ) -> Result<(), domain::ports::StoreError> {
        self.inner.put_many(items).await
    }
}

/// A download that takes longer than its build budget is refused with 422 naming the range
/// (the emailed report has no such limit) and leaves nothing behind: no file in the temporary
/// directory, no upload, no history entry. The same request within the budget succeeds.
#[tokio::test]
async fn a_download_over_its_build_budget_is_refused_and_leaves_nothing() {
    use domain::org_reports::download::{download_within, ReportType, DOWNLOAD_BUILD_BUDGET};
    let store = Arc::new(SlowQueries {
        inner: Arc::new(EmbeddedStore::in_memory()),
        slow: std::sync::atomic::AtomicBool::new(false),
        delay: std::time::Duration::from_millis(200),
    });
    let w = world(store.clone(), None).await;
    store.slow.store(true, std::sync::atomic::Ordering::SeqCst);
    let tempdir = TempDir::new("download-budget");
    let input: domain::org_reports::params::ParamsInput =
        serde_json::from_value(params("2026-04-03", "2026-04-05")).unwrap();
    let scope = || ReportScope::Org {
        org_id: ORG.to_string(),
    };
    let refused = download_within(
        &w.deps,
        &admin(),
        scope(),
        ReportType::Consultations,
        &input,
        tempdir.path(),
        std::time::Duration::from_millis(50),
    )
    .await
    .unwrap_err();
    let refused = api::http::Problem::from(refused);
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.kind,
        "https://telehealth.example/problems/report-too-large"
    );
    assert_eq!(refused.field.as_deref(), Some("to"));
    assert!(refused.detail.contains("email"), "{}", refused.detail);
    let left: Vec<_> = std::fs::read_dir(tempdir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        w.deps.blobs.incomplete_uploads().await.unwrap(),
        Vec::<String>::new()
    );
    store.slow.store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = call(&w, &admin(), "GET", "/orgs/org-hh/reports/history", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"], json!([]));
    // Within the budget (the production one), the same slow store serves the download.
    store.slow.store(true, std::sync::atomic::Ordering::SeqCst);
    let link = download_within(
        &w.deps,
        &admin(),
        scope(),
        ReportType::Consultations,
        &input,
        tempdir.path(),
        DOWNLOAD_BUILD_BUDGET,
    )
    .await
    .unwrap();
    assert_eq!(link.report.row_count, Some(9));
}
