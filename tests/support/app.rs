//! [`TestApp`]: the API's one Router with every function over a test's dependencies, called
//! without a socket. The caller is whoever the test says (no token): the router asks the
//! test's edge, which answers the principal the test attached to the request.

use api::router::Edge;
use axum::body::Body;
use axum::http::request::Parts;
use axum::Router;
use domain::auth::{AuthError, Principal};
use domain::deps::Deps;
use domain::http::ApiResponse;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
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
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a body");
        ApiResponse {
            status,
            headers,
            body,
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
