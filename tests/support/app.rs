//! How a test reaches the HTTP layer:
//!
//! - [`TestApp`]: the API's one Router with every function over a test's dependencies, called
//!   without a socket. The caller is whoever the test says (no token): the router asks the
//!   test's edge, which answers the principal the test attached to the request.
//! - [`LocalTestApp`]: the local server's app on a data directory (embedded adapters, tokens
//!   checked with its development key, `/blobs/...` links), its Router called without a socket.
//! - [`TestServer`]: the same app served on a free port of 127.0.0.1, for what only a socket
//!   shows: a link fetched by its URL, a request no HTTP client would send.

use api::http::ApiResponse;
use api::router::Edge;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use domain::auth::{AuthError, Principal, Role};
use domain::deps::Deps;
use domain::ports::FixedClock;
use local_server::{DataDir, LocalApp};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

/// The caller a test attaches to its request.
#[derive(Clone)]
struct Caller(Option<Principal>);

/// The edge of [`TestApp`]: request id `test`, the caller from [`Caller`].
struct TestEdge;

impl Edge for TestEdge {
    fn request_id(&self, _: &Parts) -> String {
        "test".into()
    }

    fn principal(&self, parts: &Parts) -> Result<Option<Principal>, AuthError> {
        Ok(parts.extensions.get::<Caller>().and_then(|c| c.0.clone()))
    }
}

/// Characters a test's path may hold that a URI path may not.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'#')
    .add(b'?')
    .add(b'{')
    .add(b'}');

/// The app of one test: its dependencies and the Router of every function over them.
pub struct TestApp {
    pub deps: Arc<Deps>,
    router: Router,
}

impl TestApp {
    pub fn new(deps: Arc<Deps>) -> TestApp {
        let router = api::router(api::functions::ALL, deps.clone(), Arc::new(TestEdge));
        TestApp { deps, router }
    }

    /// Calls `method path` as `who` with the query pairs taken as they are (each encoded for
    /// the URI), the headers and the body.
    pub async fn call(
        &self,
        who: Option<&Principal>,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: bytes::Bytes,
    ) -> ApiResponse {
        let mut uri = utf8_percent_encode(path, PATH).to_string();
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(query)
                    .finish(),
            );
        }
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .extension(Caller(who.cloned()));
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(Body::from(body)).expect("a request");
        let answer = answer(&self.router, req).await;
        let headers = answer
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        ApiResponse {
            status: answer.status,
            headers,
            body: answer.body,
        }
    }
}

/// Splits `path?a=1&b=2` into the path and its pairs, each taken as written.
pub fn split_query(path: &str) -> (&str, Vec<(String, String)>) {
    match path.split_once('?') {
        Some((p, q)) => (
            p,
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
        ),
        None => (path, Vec::new()),
    }
}

/// The fixed clock of the local-server scenarios: 2026-11-20 12:00 UTC (their events happen in
/// the days before).
pub fn local_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The content type of a JSON body, as a header of [`LocalTestApp::request`].
pub const JSON: (&str, &[u8]) = ("content-type", b"application/json");

/// An answer of a Router: status, headers and body as sent.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body read as JSON, or as a JSON string of its text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }
}

/// Sends `req` through `router` (no socket) and reads the whole answer.
async fn answer(router: &Router, req: axum::http::Request<Body>) -> Answer {
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("a body");
    Answer {
        status,
        headers,
        body,
    }
}

/// The local server's app on a data directory, its Router called without a socket: requests
/// carry bearer tokens of the app's development key, checked as the local server checks them.
pub struct LocalTestApp {
    pub app: LocalApp,
    /// Where the app keeps its store, blobs, outbox and keys.
    pub data: DataDir,
    now: DateTime<Utc>,
    router: Router,
}

impl LocalTestApp {
    /// Opens (or reopens) the app on `dir` with its clock fixed at `now`.
    pub fn open(dir: &Path, now: DateTime<Utc>) -> LocalTestApp {
        Self::open_at(dir, "http://local.test", now)
    }

    /// Opens the app on `dir` for a server reachable at `base_url` (its links point there).
    fn open_at(dir: &Path, base_url: &str, now: DateTime<Utc>) -> LocalTestApp {
        let data = DataDir::new(dir);
        let app = LocalApp::open(&data, base_url, Arc::new(FixedClock::new(now)))
            .expect("the local app opens on its data directory");
        let router = app.clone().router();
        LocalTestApp {
            app,
            data,
            now,
            router,
        }
    }

    /// A token of the app's development key for `principal`, valid for an hour from now.
    pub fn token(&self, principal: &Principal) -> String {
        self.app.dev_key.mint(principal, self.now.timestamp(), 3600)
    }

    /// A token for `sub` in `role`, scoped to these organisations and clinics.
    pub fn token_for(&self, sub: &str, role: Role, orgs: &[&str], clinics: &[&str]) -> String {
        self.token(&Principal {
            sub: sub.into(),
            role,
            orgs: orgs.iter().map(|s| s.to_string()).collect(),
            clinics: clinics.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Sends `method path` (the query as written) with the bearer `token`, the `headers` and
    /// the `body`, as an HTTP client would: with the body's content length.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &[u8])],
        body: Vec<u8>,
    ) -> Answer {
        let mut req = axum::http::Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (name, value) in headers {
            let value = HeaderValue::from_bytes(value).expect("a header value");
            req = req.header(*name, value);
        }
        if !body.is_empty() {
            req = req.header("content-length", body.len());
        }
        let req = req.body(Body::from(body)).expect("a request");
        answer(&self.router, req).await
    }

    /// Sends `method path` with the bearer `token` and a JSON `body`; answers the status and
    /// the body ([`Answer::json`]).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let answer = match body {
            Some(b) => {
                let bytes = serde_json::to_vec(b).expect("JSON");
                self.request(method, path, token, &[JSON], bytes).await
            }
            None => self.request(method, path, token, &[], Vec::new()).await,
        };
        (answer.status, answer.json())
    }

    /// Sends `events` to `POST /ingest/events` as the service: the status and the report.
    pub async fn post_events(&self, events: Value) -> (u16, Value) {
        let token = self.token_for("svc-1", Role::Service, &[], &[]);
        let batch = json!({ "events": events });
        self.send("POST", "/ingest/events", Some(&token), Some(&batch))
            .await
    }

    /// Sends `events` to `POST /ingest/events` as the service; every one must be taken.
    pub async fn ingest(&self, events: Value) {
        let (status, report) = self.post_events(events).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["rejected"].as_u64().unwrap_or(0), 0, "{report}");
    }
}

/// The local server's app served on a free port of 127.0.0.1 until dropped: the `base` URL its
/// links point at, a `client`, and through [`LocalTestApp`] the app (its dependencies and
/// development key), its data directory and its Router without the socket.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    local: LocalTestApp,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Opens the app on `dir` with its clock fixed at `now` and serves it.
    pub async fn start(dir: &Path, now: DateTime<Utc>) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        let local = LocalTestApp::open_at(dir, &base, now);
        let router = local.router.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the server runs");
        });
        TestServer {
            base,
            client: reqwest::Client::new(),
            local,
            task,
        }
    }
}

impl std::ops::Deref for TestServer {
    type Target = LocalTestApp;

    fn deref(&self) -> &LocalTestApp {
        &self.local
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
