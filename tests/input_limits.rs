//! Limits, stated and enforced (SPEC Q1, Q7), on the local server's Router: a body one byte past
//! `MAX_BODY_BYTES` answers 413 on every route of the table that takes a body (and a body of
//! exactly the limit does not); the batch size of ingest; page sizes (`limit`), date ranges and
//! string lengths of each feature answer 400 (or 422 for an interactive range only emailed)
//! naming the field, just past the limit, and are served at the limit.

#![allow(clippy::unwrap_used)]

use crate::support::app::{local_now, LocalTestApp, JSON};
use crate::support::events::{patient, two_organisations};
use crate::support::TempDir;
use api::http::MAX_BODY_BYTES;
use api::routes::ROUTES;
use domain::auth::Role;
use serde_json::{json, Value};

fn token(server: &LocalTestApp, role: Role) -> String {
    let sub = match role {
        Role::Practitioner => "prac-a",
        Role::Patient => "pat-a",
        Role::PlatformAdmin => "admin-1",
        Role::Service => "svc-1",
        Role::ClinicAdmin => "acc-4",
        _ => "acc-1",
    };
    server.token_for(sub, role, &["org-1"], &["clinic-1"])
}

async fn raw(server: &LocalTestApp, method: &str, path: &str, role: Role, body: Vec<u8>) -> u16 {
    let token = token(server, role);
    server
        .request(method, path, Some(&token), &[JSON], body)
        .await
        .status
}

/// Asserts a refusal: the status and the field the problem names.
fn refused(answer: (u16, Value), status: u16, field: &str, what: &str) {
    assert_eq!(answer.0, status, "{what}: {}", answer.1);
    assert_eq!(answer.1["field"], field, "{what}: {}", answer.1);
}

fn served(answer: (u16, Value), status: u16, what: &str) {
    assert_eq!(answer.0, status, "{what}: {}", answer.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_past_the_limit_answers_413() {
    let dir = TempDir::new("input-limits-body");
    let server = LocalTestApp::open(dir.path(), local_now());
    let mut checked = 0;
    for route in ROUTES
        .iter()
        .filter(|r| r.method == "POST" || r.method == "PUT")
    {
        let path = route
            .path
            .replace("{org_id}", "org-1")
            .replace("{clinic_id}", "clinic-1")
            .replace("{report_type}", "organisation")
            .replace("{referral_id}", "ref-none")
            .replace("{practitioner_id}", "prac-a");
        let role = route.roles[0];
        // `{}` padded with spaces: exactly the limit, then one byte more.
        let mut body = b"{}".to_vec();
        body.resize(MAX_BODY_BYTES, b' ');
        let at_limit = raw(&server, route.method, &path, role, body.clone()).await;
        assert_ne!(at_limit, 413, "{} {path}: exactly the limit", route.method);
        body.push(b' ');
        let past = raw(&server, route.method, &path, role, body).await;
        assert_eq!(
            past, 413,
            "{} {path}: one byte past the limit",
            route.method
        );
        checked += 1;
    }
    eprintln!("body limit: {checked} routes");
    assert!(checked >= 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_sizes_ranges_and_lengths_are_enforced_at_their_limits() {
    let dir = TempDir::new("input-limits");
    let server = LocalTestApp::open(dir.path(), local_now());
    server.ingest(two_organisations()).await;
    let admin = token(&server, Role::PlatformAdmin);
    let prac = token(&server, Role::Practitioner);
    let org = token(&server, Role::OrgAdmin);
    let get = |path: String, t: &str| {
        let t = t.to_string();
        let server = &server;
        async move { server.send("GET", &path, Some(&t), None).await }
    };

    // Ingest: at most 500 events a batch.
    let service = token(&server, Role::Service);
    let events: Vec<Value> = (0..501)
        .map(|i| {
            patient(&format!("pat-b{i}"), "P").event(&format!("b-{i}"), "2026-11-10T09:00:00Z")
        })
        .collect();
    refused(
        server
            .send(
                "POST",
                "/ingest/events",
                Some(&service),
                Some(&json!({ "events": events })),
            )
            .await,
        400,
        "events",
        "501 events",
    );
    served(
        server
            .send(
                "POST",
                "/ingest/events",
                Some(&service),
                Some(&json!({ "events": events[..500] })),
            )
            .await,
        200,
        "500 events",
    );

    // Admin lists: limit 1..=200, q at most 100 characters, a period of at most 732 days.
    for tab in [
        "feed",
        "consultations",
        "calls",
        "practitioners",
        "ratings",
        "payments",
        "payment-items",
        "vouchers",
    ] {
        served(
            get(format!("/admin/{tab}?limit=200"), &admin).await,
            200,
            tab,
        );
        refused(
            get(format!("/admin/{tab}?limit=201"), &admin).await,
            400,
            "limit",
            tab,
        );
        refused(
            get(format!("/admin/{tab}?limit=0"), &admin).await,
            400,
            "limit",
            tab,
        );
    }
    served(
        get(format!("/admin/feed?q={}", "a".repeat(100)), &admin).await,
        200,
        "q of 100",
    );
    refused(
        get(format!("/admin/feed?q={}", "a".repeat(101)), &admin).await,
        400,
        "q",
        "q of 101",
    );
    served(
        get("/admin/feed?from=2024-11-19&to=2026-11-20".into(), &admin).await,
        200,
        "732 days",
    );
    refused(
        get("/admin/feed?from=2024-11-18&to=2026-11-20".into(), &admin).await,
        400,
        "to",
        "733 days",
    );

    // Referrals: limit 1..=100, q and specialty at most 200 characters, a note of at most 2,000.
    served(
        get("/referrals/specialists?limit=100".into(), &prac).await,
        200,
        "search limit 100",
    );
    refused(
        get("/referrals/specialists?limit=101".into(), &prac).await,
        400,
        "limit",
        "search limit 101",
    );
    refused(
        get("/referrals?as=referrer&limit=101".into(), &prac).await,
        400,
        "limit",
        "list limit 101",
    );
    served(
        get("/referrals?as=referrer&limit=100".into(), &prac).await,
        200,
        "list limit 100",
    );
    refused(
        get(
            format!("/referrals/specialists?q={}", "a".repeat(201)),
            &prac,
        )
        .await,
        400,
        "q",
        "q of 201",
    );
    served(
        get(
            format!("/referrals/specialists?q={}", "a".repeat(200)),
            &prac,
        )
        .await,
        200,
        "q of 200",
    );
    refused(
        server
            .send(
                "POST",
                "/referrals",
                Some(&prac),
                Some(&json!({ "patient_id": "pat-a", "specialist_id": "prac-b",
                    "message": "m".repeat(2001) })),
            )
            .await,
        400,
        "message",
        "note of 2,001",
    );
    served(
        server
            .send(
                "POST",
                "/referrals",
                Some(&prac),
                Some(&json!({ "patient_id": "pat-a", "specialist_id": "prac-b",
                    "message": "m".repeat(2000) })),
            )
            .await,
        201,
        "note of 2,000",
    );

    // Organisation reports: interactive ranges before the same day 2 months on, any range at
    // most 24 months; configuration: minimum duration at most 86,400 s, tag names at most 100.
    let download = |from: &str, to: &str| {
        let body = json!({ "from": from, "to": to });
        let server = &server;
        let org = org.clone();
        async move {
            server
                .send(
                    "POST",
                    "/orgs/org-1/reports/organisation/download",
                    Some(&org),
                    Some(&body),
                )
                .await
        }
    };
    served(download("2026-09-01", "2026-10-31").await, 201, "2 months");
    refused(
        download("2026-09-01", "2026-11-01").await,
        422,
        "to",
        "past 2 months",
    );
    refused(
        get(
            "/orgs/org-1/reports/summary?from=2026-09-01&to=2026-11-01".into(),
            &org,
        )
        .await,
        422,
        "to",
        "summary past 2 months",
    );
    refused(
        download("2024-09-01", "2026-09-01").await,
        400,
        "to",
        "past 24 months",
    );
    let config = |body: Value| {
        let server = &server;
        let org = org.clone();
        async move {
            server
                .send("PUT", "/orgs/org-1/reports/config", Some(&org), Some(&body))
                .await
        }
    };
    refused(
        config(json!({ "time_zone": "UTC", "min_duration_seconds": 86_401 })).await,
        400,
        "min_duration_seconds",
        "86,401 s",
    );
    refused(
        config(json!({ "time_zone": "UTC", "min_duration_seconds": 0,
            "tags": [{ "name": "t".repeat(101), "clinic_ids": ["clinic-1"], "room_ids": [] }] }))
        .await,
        400,
        "tags[0].name",
        "tag name of 101",
    );
    served(
        config(
            json!({ "time_zone": "UTC", "min_duration_seconds": 86_400, "version": 0,
            "tags": [{ "name": "t".repeat(100), "clinic_ids": ["clinic-1"], "room_ids": [] }] }),
        )
        .await,
        200,
        "at the limits",
    );
}
