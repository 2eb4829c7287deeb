//! Referrals over HTTP on the local server's Router (embedded store, local settings: patient
//! approval and booking prompts on): the real router (the static `/referrals/specialists` before
//! `/referrals/{referral_id}`), tokens, percent-encoded queries, headers, and one whole flow.
//! The flow's every path, per party and on both adapters, is in `tests/referrals.rs`.

#![allow(clippy::unwrap_used)]

use crate::support::app::{local_now, LocalTestApp, JSON};
use crate::support::events::{patient, practitioner, thread_created};
use crate::support::TempDir;
use axum::http::HeaderMap;
use domain::auth::Role;
use serde_json::{json, Value};

/// `method path` with the bearer `token`, a JSON `body` and an `Idempotency-Key`: the status,
/// the body and the headers.
async fn send(
    server: &LocalTestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, Value, HeaderMap) {
    let mut headers: Vec<(&str, &[u8])> = Vec::new();
    if let Some(k) = key {
        headers.push(("idempotency-key", k.as_bytes()));
    }
    let bytes = match &body {
        Some(b) => {
            headers.push(JSON);
            serde_json::to_vec(b).unwrap()
        }
        None => Vec::new(),
    };
    let answer = server.request(method, path, token, &headers, bytes).await;
    let body = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    (answer.status, body, answer.headers)
}

fn token(server: &LocalTestApp, sub: &str, role: Role) -> String {
    server.token_for(sub, role, &[], &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_goes_through_the_local_server() {
    let dir = TempDir::new("referrals-http");
    let server = LocalTestApp::open(dir.path(), local_now());
    let settings = &server.app.deps.settings;
    assert!(
        settings.referral_patient_approval && settings.referral_booking_prompt,
        "the local run's defaults (both on) unless the environment says otherwise"
    );
    let service = token(&server, "svc", Role::Service);
    let at = "2026-11-19T09:00:00Z";
    let events = json!({ "events": [
        practitioner("prac-a", "Dr. Ann", &["General practice"], "approved", 5000, false)
            .event("h1", at),
        practitioner("prac-b", "Dr. Éva Brun", &["Cardiology"], "approved", 5000, true)
            .event("h2", at),
        patient("pat-a", "Zoë").event("h3", at),
        thread_created("thr-a", &["pat-a"], &["prac-a"]).event("h4", at),
    ]});
    let (status, report, _) = send(
        &server,
        "POST",
        "/ingest/events",
        Some(&service),
        Some(events),
        None,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let referrer = token(&server, "prac-a", Role::Practitioner);
    let specialist = token(&server, "prac-b", Role::Practitioner);
    let patient = token(&server, "pat-a", Role::Patient);

    // The static search route, with a percent-encoded accented query.
    let (status, page, _) = send(
        &server,
        "GET",
        "/referrals/specialists?q=dr.%20%C3%A9VA&specialty=cardiology",
        Some(&referrer),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["practitioner_id"], "prac-b");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, _, _) = send(&server, "GET", "/referrals/specialists", None, None, None).await;
    assert_eq!(status, 401);
    let (status, problem, headers) = send(
        &server,
        "GET",
        "/referrals/specialists",
        Some(&patient),
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(headers["content-type"], "application/problem+json");

    let body =
        json!({ "patient_id": "pat-a", "specialist_id": "prac-b", "message": "Please see." });
    let (status, created, headers) = send(
        &server,
        "POST",
        "/referrals",
        Some(&referrer),
        Some(body.clone()),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let rid = created["referral_id"].as_str().unwrap().to_string();
    assert_eq!(headers["location"], format!("/referrals/{rid}").as_str());
    assert_eq!(created["state"], "pending_patient");
    let (status, again, headers) = send(
        &server,
        "POST",
        "/referrals",
        Some(&referrer),
        Some(body),
        Some("k-1"),
    )
    .await;
    assert_eq!((status, &again), (201, &created));
    assert_eq!(headers["idempotent-replayed"], "true");

    let decide = |who: String, step: &'static str, decision: &'static str| {
        let server = &server;
        let path = format!("/referrals/{rid}/{step}-decision");
        async move {
            send(
                server,
                "POST",
                &path,
                Some(&who),
                Some(json!({ "decision": decision })),
                None,
            )
            .await
        }
    };
    assert_eq!(
        decide(specialist.clone(), "specialist", "accept").await.0,
        409
    );
    assert_eq!(
        decide(referrer.clone(), "specialist", "accept").await.0,
        403
    );
    assert_eq!(decide(patient.clone(), "patient", "accept").await.0, 200);
    let (status, accepted, _) = decide(specialist.clone(), "specialist", "accept").await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["state"], "accepted");

    let (status, seen, _) = send(
        &server,
        "GET",
        &format!("/referrals/{rid}"),
        Some(&patient),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen["state"], "accepted");
    assert_eq!(
        seen["booking_url"],
        format!(
            "{}/practitioners/prac-b",
            server.app.deps.settings.platform_base_url
        )
        .as_str()
    );
    assert!(seen.get("message").is_none());
    let (status, mine, _) = send(&server, "GET", "/referrals", Some(&patient), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["items"][0]["referral_id"], rid.as_str());
    let (status, theirs, _) = send(
        &server,
        "GET",
        "/referrals?as=specialist",
        Some(&specialist),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        theirs["items"][0]["transitions"].as_array().unwrap().len(),
        3
    );
}

/// A header value that is not ASCII reaches the handler (decoded lossily) and is refused with a
/// 400 naming the header, rather than silently read as "no key" — and nothing is written.
#[tokio::test]
async fn a_non_ascii_idempotency_key_is_refused_not_ignored() {
    let dir = TempDir::new("referrals-http-key");
    let server = LocalTestApp::open(dir.path(), local_now());
    let token = token(&server, "prac-a", Role::Practitioner);
    let key = ("idempotency-key", "clé-1".as_bytes());
    let body = serde_json::to_vec(&json!({ "patient_id": "pat-a", "specialist_id": "prac-b" }));
    let resp = server
        .request(
            "POST",
            "/referrals",
            Some(&token),
            &[key, JSON],
            body.unwrap(),
        )
        .await;
    assert_eq!(resp.status, 400);
    let problem: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(problem["field"], "Idempotency-Key", "{problem}");
    assert!(!problem.to_string().contains("clé"), "{problem}");
    let log = dir.path().join("store").join("store.jsonl");
    let written = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert_eq!(written, 0, "a refused request writes nothing");
}
