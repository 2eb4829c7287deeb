//! The local server end to end over HTTP: the route table served, the JWT check the HTTP API
//! makes in AWS, problem bodies, ingest through `POST /ingest/events`, blob links, and a data
//! directory that survives a restart.

#![allow(clippy::unwrap_used)]

use crate::support::TempDir;
use api::routes::ROUTES;
use chrono::{TimeZone, Utc};
use domain::auth::{Principal, Role};
use domain::ports::{BlobStore, FixedClock};
use domain::readmodels::{keys, ThreadSummary};
use local_server::{DataDir, LocalApp};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

struct Running {
    base: String,
    app: LocalApp,
    client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

async fn start(dir: &TempDir) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = LocalApp::open(
        &DataDir::new(dir.path()),
        &base,
        Arc::new(FixedClock::new(now())),
    )
    .unwrap();
    let router = app.clone().router();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Running {
        base,
        app,
        client: reqwest::Client::new(),
        task,
    }
}

impl Running {
    fn token(&self, role: Role) -> String {
        let p = Principal {
            sub: format!("{role}-1"),
            role,
            orgs: vec!["org-1".into()],
            clinics: vec![],
        };
        self.app.dev_key.mint(&p, now().timestamp(), 3600)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status >= 400 {
            assert_eq!(
                ct, "application/problem+json",
                "problem bodies for {status}"
            );
        }
        (status, body)
    }

    async fn ingest(&self, events: Value) -> (u16, Value) {
        let token = self.token(Role::Service);
        self.post(
            "/ingest/events",
            Some(&token),
            serde_json::to_vec(&json!({ "events": events })).unwrap(),
        )
        .await
    }
}

fn message(id: &str, at: &str) -> Value {
    json!({
        "id": id,
        "type": "message.sent",
        "occurred_at": at,
        "data": {
            "thread_id": "t-1",
            "message_id": format!("m-{id}"),
            "sender_id": "pat-1",
            "sender_role": "patient",
            "kind": "text",
            "device": {"platform": "ios", "model": "iPhone 15"},
            "ciphertext": "U0VDUkVULU1BUktFUg=="
        }
    })
}

/// Every route of the table reaches its function on the local server's Router: without a
/// token a protected route answers the 401 of the local authorizer, never the 404 or 405 of a
/// route the Router lacks.
#[tokio::test]
async fn every_route_of_the_table_is_served_locally() {
    use tower::ServiceExt;
    let dir = TempDir::new("local-routes");
    let app = LocalApp::open_default(&DataDir::new(dir.path()), "http://x").unwrap();
    let router = app.router();
    for route in ROUTES.iter() {
        let path = route.path.replace(['{', '}'], "");
        let req = axum::http::Request::builder()
            .method(route.method)
            .uri(&path)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let want = if route.roles.is_empty() { 200 } else { 401 };
        assert_eq!(
            resp.status().as_u16(),
            want,
            "{} {} ({})",
            route.method,
            route.path,
            route.function
        );
    }
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let dir = TempDir::new("local-health");
    let s = start(&dir).await;
    let resp = s
        .client
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["time"], "2026-11-20T12:00:00Z");
}

#[tokio::test]
async fn unknown_routes_methods_and_tokens_get_problem_bodies() {
    let dir = TempDir::new("local-auth");
    let s = start(&dir).await;
    let (status, body) = s.post("/nope", None, vec![]).await;
    assert_eq!((status, body["status"].as_u64()), (404, Some(404)));
    let resp = s
        .client
        .get(format!("{}/ingest/events", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);

    let events =
        serde_json::to_vec(&json!({"events": [message("e1", "2026-11-20T10:00:00Z")]})).unwrap();
    let (status, _) = s.post("/ingest/events", None, events.clone()).await;
    assert_eq!(status, 401);
    let (status, _) = s
        .post("/ingest/events", Some("not.a.token"), events.clone())
        .await;
    assert_eq!(status, 401);
    let foreign = local_adapters::dev_tokens::DevKey::new(b"another key".to_vec()).mint(
        &Principal {
            sub: "x".into(),
            role: Role::Service,
            orgs: vec![],
            clinics: vec![],
        },
        now().timestamp(),
        60,
    );
    let (status, _) = s
        .post("/ingest/events", Some(&foreign), events.clone())
        .await;
    assert_eq!(status, 401);
    let expired = s.app.dev_key.mint(
        &Principal {
            sub: "x".into(),
            role: Role::Service,
            orgs: vec![],
            clinics: vec![],
        },
        now().timestamp() - 7200,
        60,
    );
    let (status, _) = s
        .post("/ingest/events", Some(&expired), events.clone())
        .await;
    assert_eq!(status, 401);
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Service) {
        let (status, body) = s
            .post("/ingest/events", Some(&s.token(role)), events.clone())
            .await;
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
    let s = start(&dir).await;

    let (status, body) = s
        .ingest(json!([message("e1", "2026-11-20T10:00:00Z")]))
        .await;
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
    let (status, body) = s
        .ingest(json!([message("e1", "2026-11-20T10:00:00Z")]))
        .await;
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
    let (status, body) = s.ingest(json!([bad.clone()])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "events[0].data.sender_role");
    assert_eq!(body["errors"][0]["field"], "events[0].data.sender_role");
    assert!(
        !body.to_string().contains("robot"),
        "the reason does not echo the value"
    );

    // A good and a bad event: 207, the good one landed.
    let (status, body) = s
        .ingest(json!([message("e3", "2026-11-20T10:10:00Z"), bad]))
        .await;
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
    let s = start(&dir).await;
    let token = s.token(Role::Service);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"".to_vec(), 400, "body"),
        (b"{not json".to_vec(), 400, "body"),
        (b"{}".to_vec(), 400, "events"),
        (br#"{"events": []}"#.to_vec(), 400, "events"),
        (br#"{"events": [], "extra": 1}"#.to_vec(), 400, "extra"),
        (br#"{"events": {}}"#.to_vec(), 400, "body"),
        (
            serde_json::to_vec(&json!({"events": vec![json!({}); 501]})).unwrap(),
            400,
            "events",
        ),
        (vec![b' '; domain::http::MAX_BODY_BYTES + 1], 413, "body"),
    ];
    for (body, want, field) in cases {
        let (status, problem) = s.post("/ingest/events", Some(&token), body).await;
        assert_eq!(status, want, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
}

#[tokio::test]
async fn blob_links_are_served_until_they_expire_and_refused_when_tampered() {
    let dir = TempDir::new("local-blobs");
    let s = start(&dir).await;
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
            now() - chrono::Duration::seconds(600),
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
        let s = start(&dir).await;
        let (status, _) = s
            .ingest(json!([message("e1", "2026-11-20T10:00:00Z")]))
            .await;
        assert_eq!(status, 200);
        token_before = s.token(Role::Service);
    }
    let s = start(&dir).await;
    // Same development key: a token minted before the restart still works.
    let (status, body) = s
        .post(
            "/ingest/events",
            Some(&token_before),
            serde_json::to_vec(&json!({"events": [message("e1", "2026-11-20T10:00:00Z")]}))
                .unwrap(),
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
    let s = start(&dir).await;
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
