//! The local server end to end: the route table served, the JWT check the HTTP API makes in
//! AWS, problem bodies, ingest through `POST /ingest/events`, blob links fetched over HTTP, and
//! a data directory that survives a restart. Its Router is called without a socket except where
//! a link is fetched by its URL.

#![allow(clippy::unwrap_used)]

use crate::support::app::{local_now, LocalTestApp, TestServer};
use crate::support::events::text_message;
use crate::support::TempDir;
use api::routes::ROUTES;
use domain::auth::{Principal, Role};
use domain::ports::BlobStore;
use domain::readmodels::{keys, ThreadSummary};
use serde_json::{json, Value};
use std::time::Duration;

fn token(s: &LocalTestApp, role: Role) -> String {
    s.token_for(&format!("{role}-1"), role, &["org-1"], &[])
}

/// `POST path` with the raw `body` (no content type); every error must be a problem body.
async fn post(s: &LocalTestApp, path: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let answer = s.request("POST", path, token, &[], body).await;
    let ct = answer
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if answer.status >= 400 {
        assert_eq!(
            ct, "application/problem+json",
            "problem bodies for {}",
            answer.status
        );
    }
    (answer.status, body)
}

async fn ingest(s: &LocalTestApp, events: Value) -> (u16, Value) {
    let token = token(s, Role::Service);
    post(
        s,
        "/ingest/events",
        Some(&token),
        serde_json::to_vec(&json!({ "events": events })).unwrap(),
    )
    .await
}

/// A patient's message in thread `t-1`, sent from an iPhone.
fn message(id: &str, at: &str) -> Value {
    text_message(
        "t-1",
        &format!("m-{id}"),
        "pat-1",
        "patient",
        "U0VDUkVULU1BUktFUg==",
    )
    .with("device", json!({"platform": "ios", "model": "iPhone 15"}))
    .event(id, at)
}

/// Every route of the table reaches its function on the local server's Router: without a
/// token a protected route answers the 401 of the local authorizer, never the 404 or 405 of a
/// route the Router lacks.
#[tokio::test]
async fn every_route_of_the_table_is_served_locally() {
    let dir = TempDir::new("local-routes");
    let s = LocalTestApp::open(dir.path(), local_now());
    for route in ROUTES.iter() {
        let path = route.path.replace(['{', '}'], "");
        let resp = s.request(route.method, &path, None, &[], Vec::new()).await;
        let want = if route.roles.is_empty() { 200 } else { 401 };
        assert_eq!(
            resp.status, want,
            "{} {} ({})",
            route.method, route.path, route.function
        );
    }
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let dir = TempDir::new("local-health");
    let s = LocalTestApp::open(dir.path(), local_now());
    let resp = s.request("GET", "/health", None, &[], Vec::new()).await;
    assert_eq!(resp.status, 200);
    let body: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["time"], "2026-11-20T12:00:00Z");
}

#[tokio::test]
async fn unknown_routes_methods_and_tokens_get_problem_bodies() {
    let dir = TempDir::new("local-auth");
    let s = LocalTestApp::open(dir.path(), local_now());
    let (status, body) = post(&s, "/nope", None, vec![]).await;
    assert_eq!((status, body["status"].as_u64()), (404, Some(404)));
    let resp = s
        .request("GET", "/ingest/events", None, &[], Vec::new())
        .await;
    assert_eq!(resp.status, 405);

    let events =
        serde_json::to_vec(&json!({"events": [message("e1", "2026-11-20T10:00:00Z")]})).unwrap();
    let (status, _) = post(&s, "/ingest/events", None, events.clone()).await;
    assert_eq!(status, 401);
    let (status, _) = post(&s, "/ingest/events", Some("not.a.token"), events.clone()).await;
    assert_eq!(status, 401);
    let foreign = local_adapters::dev_tokens::DevKey::new(b"another key".to_vec()).mint(
        &Principal {
            sub: "x".into(),
            role: Role::Service,
            orgs: vec![],
            clinics: vec![],
        },
        local_now().timestamp(),
        60,
    );
    let (status, _) = post(&s, "/ingest/events", Some(&foreign), events.clone()).await;
    assert_eq!(status, 401);
    let expired = s.app.dev_key.mint(
        &Principal {
            sub: "x".into(),
            role: Role::Service,
            orgs: vec![],
            clinics: vec![],
        },
        local_now().timestamp() - 7200,
        60,
    );
    let (status, _) = post(&s, "/ingest/events", Some(&expired), events.clone()).await;
    assert_eq!(status, 401);
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Service) {
        let (status, body) =
            post(&s, "/ingest/events", Some(&token(&s, role)), events.clone()).await;
        assert_eq!(status, 403, "{role}");
        assert_eq!(body["status"], 403);
    }
    // Denied calls wrote nothing.
    assert_eq!(
        s.app.deps.store.get(&keys::thread("t-1")).await.unwrap(),
        None
    );
    assert_eq!(
        s.app.deps.store.get(&keys::event("e1")).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn ingest_takes_good_events_names_bad_fields_and_ignores_replays() {
    let dir = TempDir::new("local-ingest");
    let s = LocalTestApp::open(dir.path(), local_now());

    let (status, body) = ingest(&s, json!([message("e1", "2026-11-20T10:00:00Z")])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let before = s
        .app
        .deps
        .store
        .get(&keys::thread("t-1"))
        .await
        .unwrap()
        .unwrap();

    // The same event again changes nothing.
    let (status, body) = ingest(&s, json!([message("e1", "2026-11-20T10:00:00Z")])).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    let after = s
        .app
        .deps
        .store
        .get(&keys::thread("t-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, after);
    let summary: ThreadSummary = after.decode().unwrap();
    assert_eq!(summary.message_count, 1);

    // One malformed event alone: 400 naming the field.
    let mut bad = message("e2", "2026-11-20T10:05:00Z");
    bad["data"]["sender_role"] = json!("robot");
    let (status, body) = ingest(&s, json!([bad.clone()])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "events[0].data.sender_role");
    assert_eq!(body["errors"][0]["field"], "events[0].data.sender_role");
    assert!(
        !body.to_string().contains("robot"),
        "the reason does not echo the value"
    );

    // A good and a bad event: 207, the good one landed.
    let (status, body) = ingest(&s, json!([message("e3", "2026-11-20T10:10:00Z"), bad])).await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["results"][0]["status"], "accepted");
    assert_eq!(body["results"][1]["status"], "rejected");
    assert_eq!(body["results"][1]["field"], "data.sender_role");
    let summary: ThreadSummary = s
        .app
        .deps
        .store
        .get(&keys::thread("t-1"))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(summary.message_count, 2);
    assert_eq!(
        s.app.deps.store.get(&keys::event("e2")).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn ingest_refuses_bodies_that_are_not_batches() {
    let dir = TempDir::new("local-bodies");
    let s = LocalTestApp::open(dir.path(), local_now());
    let token = token(&s, Role::Service);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"".to_vec(), 400, "body"),
        (b"{not json".to_vec(), 400, "body"),
        (b"{}".to_vec(), 400, "events"),
        (br#"{"events": []}"#.to_vec(), 400, "events"),
        (br#"{"events": [], "extra": 1}"#.to_vec(), 400, "extra"),
        (br#"{"events": {}}"#.to_vec(), 400, "events"),
        (
            serde_json::to_vec(&json!({"events": vec![json!({}); 501]})).unwrap(),
            400,
            "events",
        ),
        (vec![b' '; api::http::MAX_BODY_BYTES + 1], 413, "body"),
    ];
    for (body, want, field) in cases {
        let (status, problem) = post(&s, "/ingest/events", Some(&token), body).await;
        assert_eq!(status, want, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
}

#[tokio::test]
async fn blob_links_are_served_until_they_expire_and_refused_when_tampered() {
    let dir = TempDir::new("local-blobs");
    let s = TestServer::start(dir.path(), local_now()).await;
    s.app
        .blobs
        .put(
            "reports/org-1/r.csv",
            bytes::Bytes::from_static(b"a,b\n1,2\n"),
            "text/csv",
        )
        .await
        .unwrap();
    let link = s
        .app
        .blobs
        .presign_get(
            "reports/org-1/r.csv",
            Duration::from_secs(300),
            "report.csv",
        )
        .await
        .unwrap();
    assert!(link.starts_with(&s.base), "{link}");
    let resp = s.client.get(&link).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-disposition"].to_str().unwrap(),
        domain::ports::blobs::attachment_disposition("report.csv")
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"a,b\n1,2\n");

    let tampered = link.replace("reports/org-1/r.csv", "reports/org-2/r.csv");
    assert_eq!(
        s.client
            .get(&tampered)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let unsigned = format!("{}/blobs/reports/org-1/r.csv", s.base);
    assert_eq!(
        s.client
            .get(&unsigned)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );

    let expired = s
        .app
        .blobs
        .link_at(
            "reports/org-1/r.csv",
            Duration::from_secs(300),
            "report.csv",
            local_now() - chrono::Duration::seconds(600),
        )
        .unwrap();
    assert_eq!(
        s.client
            .get(&expired)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
}

#[tokio::test]
async fn the_data_directory_survives_a_restart() {
    let dir = TempDir::new("local-restart");
    let token_before;
    {
        let s = LocalTestApp::open(dir.path(), local_now());
        let (status, _) = ingest(&s, json!([message("e1", "2026-11-20T10:00:00Z")])).await;
        assert_eq!(status, 200);
        token_before = token(&s, Role::Service);
    }
    let s = LocalTestApp::open(dir.path(), local_now());
    // Same development key: a token minted before the restart still works.
    let (status, body) = post(
        &s,
        "/ingest/events",
        Some(&token_before),
        serde_json::to_vec(&json!({"events": [message("e1", "2026-11-20T10:00:00Z")]})).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["duplicates"], 1,
        "the replay after a restart is still a duplicate"
    );
    let summary: ThreadSummary = s
        .app
        .deps
        .store
        .get(&keys::thread("t-1"))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(summary.message_count, 1);
}

#[tokio::test]
async fn eventbridge_entry_point_takes_the_detail_through_the_same_path() {
    let dir = TempDir::new("local-eventbridge");
    let s = LocalTestApp::open(dir.path(), local_now());
    let envelope = message("eb-1", "2026-11-20T10:00:00Z");
    let event = json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "message.sent",
        "source": "telehealth.platform",
        "account": "111122223333",
        "time": "2026-11-20T10:00:01Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": envelope
    });
    let deps = &s.app.deps;
    use domain::events::ingest::EventStatus;
    assert_eq!(
        ingest_events::handle(deps, event.clone()).await,
        Ok(EventStatus::Accepted)
    );
    assert_eq!(
        ingest_events::handle(deps, event.clone()).await,
        Ok(EventStatus::Duplicate)
    );
    let mut bad = event.clone();
    bad["detail"]["occurred_at"] = json!("yesterday");
    assert_eq!(
        ingest_events::handle(deps, bad).await,
        Err(ingest_events::IngestFailure::Rejected {
            field: "occurred_at".into(),
            reason: "must be an RFC 3339 time with offset".into()
        })
    );
    assert_eq!(
        ingest_events::handle(deps, json!({"detail-type": "x"})).await,
        Err(ingest_events::IngestFailure::NoDetail)
    );
    let summary: ThreadSummary = deps
        .store
        .get(&keys::thread("t-1"))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(summary.message_count, 1);
}

/// The console's identities (a token per demo identity) go only to a request addressed to the
/// server's own loopback name and port; a page of another name whose DNS points at 127.0.0.1
/// (DNS rebinding) sends its own name and gets a 403 problem, as does a request without Host.
#[tokio::test]
async fn console_identities_answer_only_the_servers_own_loopback_host() {
    let dir = TempDir::new("local-console-host");
    let s = TestServer::start(dir.path(), local_now()).await;
    let port: u16 = s.base.rsplit(':').next().unwrap().parse().unwrap();
    let url = format!("{}/console/identities", s.base);
    let resp = s.client.get(&url).send().await.unwrap();
    assert_eq!(
        resp.status().as_u16(),
        200,
        "a browser on the console's own address"
    );
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let headers: [(&str, &[u8]); 1] = [("host", host.as_bytes())];
        let answer = s
            .request("GET", "/console/identities", None, &headers, Vec::new())
            .await;
        assert_eq!(answer.status, 200, "{host}");
        assert!(
            answer.json()["identities"][0]["token"].is_string(),
            "{host}"
        );
    }
    let foreign = [
        Some(format!("evil.example:{port}")),
        Some(format!("localhost.evil.example:{port}")),
        Some(format!("localhost:{}", port.wrapping_add(1))),
        Some(format!("127.0.0.2:{port}")),
        Some("localhost".to_string()),
        None,
    ];
    for host in foreign {
        let headers: Vec<(&str, &[u8])> = host.iter().map(|h| ("host", h.as_bytes())).collect();
        let answer = s
            .request("GET", "/console/identities", None, &headers, Vec::new())
            .await;
        assert_eq!(answer.status, 403, "{host:?}");
        assert_eq!(
            answer.headers["content-type"], "application/problem+json",
            "{host:?}"
        );
        let problem = answer.json();
        assert_eq!(
            (problem["status"].as_u64(), problem["field"].as_str()),
            (Some(403), Some("Host"))
        );
        assert!(!problem.to_string().contains("token"), "{problem}");
    }
    // Over the socket too, with the Host a rebinding page's request carries.
    let resp = s
        .client
        .get(&url)
        .header("host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // The console's files hold no secret: any Host gets them.
    let headers: [(&str, &[u8]); 1] = [("host", b"evil.example")];
    let page = s
        .request("GET", "/console/", None, &headers, Vec::new())
        .await;
    assert_eq!(page.status, 200);
}
