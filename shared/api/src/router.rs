//! The one axum [`Router`] of the API: every endpoint of the functions it is given, with the
//! same layers wherever it runs (a function's Lambda serves its own endpoints, the local
//! server all of them):
//!
//! - a request id on every request ([`Edge::request_id`]: API Gateway's in AWS), on every line
//!   logged while it is served (a `request` span), and one access log line per request (route,
//!   function, method, role, status, latency; never a body);
//! - one more line for every 401 and 403, `request denied`, with the reason (never token
//!   content);
//! - one metric document per request (`domain::telemetry::emit_metrics`): `Requests`,
//!   `Latency` and `Errors` (5xx) by `route` (`METHOD /path/{param}`, `unmatched` for a path no
//!   route has);
//! - a body limit of [`MAX_BODY_BYTES`] (413 problem);
//! - problem+json for a path no route has (404) and a method its route does not take (405);
//! - a handler's panic as an opaque 500 problem, logged with `panic = true`.
//!
//! Who calls is the edge's to say ([`Edge::principal`]): API Gateway's JWT authorizer in AWS,
//! the local server's development key locally, the test set-up in tests.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, Problem, MAX_BODY_BYTES};
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use axum::Router;
use domain::auth::{AuthError, Principal};
use domain::deps::Deps;
use domain::telemetry::Metric;
use std::sync::Arc;
use std::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tracing::Instrument;

/// What stands in front of the functions: API Gateway in AWS, the local server locally.
pub trait Edge: Send + Sync + 'static {
    /// The request's id, for the log lines of the request.
    fn request_id(&self, parts: &Parts) -> String;

    /// The caller of a protected endpoint. `Err` refuses the request with a 401 before any
    /// handler runs (no or a bad token, locally); `Ok(None)` passes it on without a caller,
    /// which every protected handler answers with 401 (in AWS the JWT authorizer has refused
    /// bad tokens already, and claims that make no principal end there).
    fn principal(&self, parts: &Parts) -> Result<Option<Principal>, AuthError>;

    /// A request the edge handed over but could not carry whole (a body marked base64 that is
    /// not): answered with this problem, whatever its method, instead of running a handler.
    fn refused(&self, _parts: &Parts) -> Option<Problem> {
        None
    }
}

/// The request id the access layer gave the request.
#[derive(Debug, Clone)]
struct RequestId(String);

/// Who served a request, for the access log line (a response extension).
#[derive(Debug, Clone, Copy)]
struct Served {
    function: &'static str,
    role: &'static str,
}

/// Why a request was answered 401 or 403, for the denial line (a response extension): the
/// edge's refusal of its credentials, or the detail of the handler's problem (ids and roles
/// at most, never a token or a submitted value).
#[derive(Debug, Clone)]
struct Denied(String);

/// The Router of `functions`' endpoints, each function's handler getting `deps` as its Lambda
/// gets them ([`Deps::wired_as`]: the ports it is built without answer `NotWired`).
pub fn router(functions: &[Function], deps: Arc<Deps>, edge: Arc<dyn Edge>) -> Router {
    let mut router = Router::new();
    for function in functions {
        let wired = Arc::new(deps.wired_as(&function.wiring));
        for endpoint in function.endpoints {
            let (function, endpoint) = (*function, *endpoint);
            let (deps, edge) = (wired.clone(), edge.clone());
            router = router.route(
                endpoint.path,
                on(method_filter(endpoint.method), move |req: Request| {
                    serve(function, endpoint, deps, edge, req)
                }),
            );
        }
    }
    router
        .fallback(|| async { problem(Problem::not_found("route")) })
        .method_not_allowed_fallback(|| async { problem(Problem::method_not_allowed()) })
        .layer(CatchPanicLayer::custom(panicked))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(edge, access))
}

fn method_filter(method: &str) -> MethodFilter {
    match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "PATCH" => MethodFilter::PATCH,
        "DELETE" => MethodFilter::DELETE,
        other => panic!("the route table holds an unknown method {other}"),
    }
}

/// Runs one endpoint's handler on the request.
async fn serve(
    function: Function,
    endpoint: Endpoint,
    deps: Arc<Deps>,
    edge: Arc<dyn Edge>,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let name = function.name();
    let principal = if endpoint.roles.is_empty() {
        None
    } else {
        match edge.principal(&parts) {
            Ok(p) => p,
            Err(e) => {
                let mut p = Problem::unauthorized();
                p.detail = e.to_string();
                let mut resp = served(name, "-", problem(p));
                resp.extensions_mut().insert(Denied(e.to_string()));
                return resp;
            }
        }
    };
    let role = principal.as_ref().map_or("-", |p| p.role.as_str());
    // A path parameter that is not UTF-8 once decoded names nothing that exists.
    let Ok(path_params) = RawPathParams::from_request_parts(&mut parts, &()).await else {
        return served(name, role, problem(Problem::not_found("route")));
    };
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return served(name, role, problem(Problem::too_large(MAX_BODY_BYTES))),
    };
    let api = ApiRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        path_params: path_params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        // WHATWG form decoding of the raw query, every pair in order.
        query: form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        // Values that are not ASCII are kept (decoded lossily), so the handler that reads one
        // refuses it with a 400 naming the header instead of never seeing it.
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        principal,
        request_id: parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
    };
    let answer = match (function.handler)(deps, api).await {
        Ok(answer) => answer,
        Err(p) => p.into_response(),
    };
    let denied = matches!(answer.status, 401 | 403).then(|| {
        let detail = serde_json::from_slice::<Problem>(&answer.body).map(|p| p.detail);
        Denied(detail.unwrap_or_else(|_| "refused by the handler".into()))
    });
    let mut resp = served(name, role, into_response(answer, name));
    if let Some(denied) = denied {
        resp.extensions_mut().insert(denied);
    }
    resp
}

fn served(function: &'static str, role: &'static str, mut resp: Response) -> Response {
    resp.extensions_mut().insert(Served { function, role });
    resp
}

/// A handler's answer as an HTTP response. A header name or value HTTP cannot carry (none of
/// ours: they are ASCII) makes it a logged 500 rather than a response missing it.
fn into_response(answer: ApiResponse, function: &'static str) -> Response {
    let mut builder = Response::builder().status(answer.status);
    for (k, v) in &answer.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Body::from(answer.body)).unwrap_or_else(|_| {
        tracing::error!(function, "response header not representable");
        problem(Problem::internal())
    })
}

/// A problem as its response (`application/problem+json`).
pub fn problem(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = p.into_response().body;
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The payload may quote request data: it is not logged.
    tracing::error!(panic = true, "handler failed");
    problem(Problem::internal())
}

/// The outermost layer: gives the request its id and its span, writes the access log line
/// (and the denial line of a 401 or 403) and the request's metrics.
async fn access(State(edge): State<Arc<dyn Edge>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let request_id = edge.request_id(&parts);
    // At the highest level, so that the span (and the id on every line in it) is there
    // whenever a line is written at all.
    let span = tracing::error_span!("request", request_id = %request_id);
    parts.extensions.insert(RequestId(request_id));
    let method: Method = parts.method.clone();
    let route = parts.extensions.get::<MatchedPath>().cloned();
    async move {
        // A request the edge could not carry whole is answered before the method is looked at.
        let mut resp = match edge.refused(&parts) {
            Some(p) => problem(p),
            None => next.run(Request::from_parts(parts, body)).await,
        };
        // The body limit answers before any handler, in plain text.
        if resp.status() == StatusCode::PAYLOAD_TOO_LARGE
            && resp.headers().get(CONTENT_TYPE).map(|v| v.as_bytes())
                != Some(b"application/problem+json")
        {
            resp = problem(Problem::too_large(MAX_BODY_BYTES));
        }
        let served = resp.extensions().get::<Served>().copied();
        let function = served.map_or("-", |s| s.function);
        let route_path = route.as_ref().map_or("-", |r| r.as_str());
        let status = resp.status().as_u16();
        let latency = started.elapsed();
        if let Some(Denied(reason)) = resp.extensions().get::<Denied>() {
            tracing::warn!(
                function,
                method = %method,
                route = route_path,
                status,
                reason = reason.as_str(),
                "request denied"
            );
        }
        tracing::info!(
            function,
            method = %method,
            route = route_path,
            role = served.map_or("-", |s| s.role),
            status,
            latency_ms = latency.as_millis() as u64,
            "request"
        );
        let route_key = match &route {
            Some(r) => format!("{method} {}", r.as_str()),
            None => "unmatched".to_string(),
        };
        domain::telemetry::emit_metrics(
            &[("route", &route_key)],
            &[
                Metric::count("Requests", 1),
                Metric::millis("Latency", latency),
                Metric::count("Errors", u64::from(status >= 500)),
            ],
        );
        resp
    }
    .instrument(span)
    .await
}
