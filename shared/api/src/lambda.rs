//! A function's Lambda: its [`Function`]'s endpoints on the [`crate::router`] Router, served by
//! `lambda_http` (API Gateway HTTP API, payload 2.0). API Gateway is the [`Edge`]: the request
//! id is its own, the caller comes from its JWT authorizer's claims.
//!
//! One guard sits in front of `lambda_http`'s conversion, which panics on a body marked
//! base64 that is not: such a body is dropped before the conversion and the request answered
//! with a 400 naming `body` ([`Edge::refused`]).

use crate::function::Function;
use crate::http::Problem;
use crate::router::{router, Edge};
use base64::Engine;
use domain::auth::{AuthError, Principal};
use domain::deps::Deps;
use http::request::Parts;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Adapter, LambdaEvent, RequestExt, Service};
use std::sync::Arc;

pub use lambda_http::Error;

/// The stage variable the guard sets on a request whose body it dropped. Stage variables come
/// from the API's configuration, never from a caller, so no request can set it itself.
const UNREADABLE_BODY: &str = "telehealth_unreadable_body";

/// Serves `function` until the Lambda runtime stops: all a function's `main` calls after
/// building its dependencies.
pub async fn run(function: &'static Function, deps: Deps) -> Result<(), Error> {
    let adapter = adapter(function, deps);
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: LambdaEvent<LambdaRequest>| {
            let mut adapter = adapter.clone();
            adapter.call(drop_unreadable_body(event))
        },
    ))
    .await
}

/// `lambda_http`'s adapter around the function's Router.
fn adapter(
    function: &'static Function,
    deps: Deps,
) -> Adapter<'static, axum::response::Response, axum::Router> {
    Adapter::from(router(
        std::slice::from_ref(function),
        Arc::new(deps),
        Arc::new(ApiGateway),
    ))
}

/// Drops a body marked base64 that is not, and says so in a stage variable.
#[allow(irrefutable_let_patterns)]
fn drop_unreadable_body(mut event: LambdaEvent<LambdaRequest>) -> LambdaEvent<LambdaRequest> {
    if let LambdaRequest::ApiGatewayV2(req) = &mut event.payload {
        let engine = base64::engine::general_purpose::STANDARD;
        if req.is_base64_encoded
            && req
                .body
                .as_deref()
                .is_some_and(|b| engine.decode(b).is_err())
        {
            req.body = None;
            req.is_base64_encoded = false;
            req.stage_variables
                .insert(UNREADABLE_BODY.to_string(), "not-base64".to_string());
        }
    }
    event
}

/// API Gateway (HTTP API) in front of the function.
struct ApiGateway;

impl ApiGateway {
    #[allow(irrefutable_let_patterns)]
    fn context(parts: &Parts) -> Option<&aws_lambda_events::apigw::ApiGatewayV2httpRequestContext> {
        match parts.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => Some(ctx),
            _ => None,
        }
    }
}

impl Edge for ApiGateway {
    fn request_id(&self, parts: &Parts) -> String {
        Self::context(parts)
            .and_then(|ctx| ctx.request_id.clone())
            .or_else(|| parts.lambda_context_ref().map(|c| c.request_id.clone()))
            .unwrap_or_default()
    }

    fn principal(&self, parts: &Parts) -> Result<Option<Principal>, AuthError> {
        Ok(Self::context(parts)
            .and_then(|ctx| ctx.authorizer.as_ref())
            .and_then(|a| a.jwt.as_ref())
            .and_then(|jwt| Principal::from_claims(&jwt.claims).ok()))
    }

    fn refused(&self, parts: &Parts) -> Option<Problem> {
        parts
            .stage_variables_ref()
            .and_then(|vars| vars.first(UNREADABLE_BODY))
            .map(|_| Problem::bad_request("body", "is marked base64-encoded but is not base64"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::function::Endpoint;
    use crate::http::{ApiRequest, ApiResponse, HandlerResult};
    use domain::auth::Role;
    use domain::deps::Wiring;
    use serde_json::{json, Value};

    /// The tests that route requests run one at a time: tracing caches per call site whether
    /// any subscriber wants its spans, and a request served on another thread while one test
    /// installs its capturing subscriber can leave the request span's cache stale for that
    /// test, dropping `request_id` from its lines.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// Answers what it was handed.
    async fn echo(_: Arc<Deps>, req: ApiRequest) -> HandlerResult {
        if req.path_param("thing_id") == Some("boom") {
            panic!("a handler bug");
        }
        if req.path_param("thing_id") == Some("forbidden") {
            return Err(crate::http::Problem::new(
                403,
                "forbidden",
                "Forbidden",
                "the role org_admin may not call this route",
            ));
        }
        let mut resp = ApiResponse::json(
            201,
            &json!({
                "method": req.method,
                "path": req.path,
                "request_id": req.request_id,
                "principal": req.principal.as_ref().map(|p| json!({
                    "sub": p.sub, "role": p.role.as_str(), "orgs": p.orgs,
                })),
                "org_id": req.path_param("org_id"),
                "thing_id": req.path_param("thing_id"),
                "query": req.query,
                "idempotency_key": req.header("idempotency-key"),
                "cookie": req.header("cookie"),
                "body": String::from_utf8_lossy(&req.body),
            }),
        );
        if req.path_param("thing_id") == Some("bad-header") {
            resp = resp.with_header("location", "/a\nb");
        }
        if req.path_param("thing_id") == Some("binary") {
            resp = ApiResponse {
                status: 200,
                headers: vec![
                    ("content-type".into(), "application/octet-stream".into()),
                    ("set-cookie".into(), "s=1; Secure".into()),
                ],
                body: bytes::Bytes::from_static(&[0x00, 0xff, b'a', b'b']),
            };
        }
        Ok(resp)
    }

    static ECHO: Function = Function {
        wiring: Wiring::store_only("echo"),
        endpoints: &[Endpoint::post(
            "/orgs/{org_id}/things/{thing_id}",
            &[Role::OrgAdmin],
        )],
        handler: |deps, req| Box::pin(echo(deps, req)),
    };

    fn deps() -> Deps {
        Deps {
            store: Arc::new(local_adapters::embedded_store::EmbeddedStore::in_memory()),
            blobs: Arc::new(domain::deps::NotWired { function: "echo" }),
            mailer: Arc::new(domain::deps::NotWired { function: "echo" }),
            clock: Arc::new(domain::ports::SystemClock),
            settings: domain::deps::Settings {
                platform_base_url: "https://app.example".into(),
                referral_patient_approval: true,
                referral_booking_prompt: true,
                referral_expiry: chrono::Duration::days(14),
                default_response_time_hours: 24,
            },
        }
    }

    /// An HTTP API (payload 2.0) request as API Gateway hands it over after its JWT authorizer
    /// accepted the token; array claims arrive flattened as `[a b]`.
    const FIXTURE: &str = r#"{
        "version": "2.0",
        "routeKey": "POST /orgs/{org_id}/things/{thing_id}",
        "rawPath": "/orgs/org-1/things/t%201",
        "rawQueryString": "limit=10&q=Zo%C3%AB",
        "headers": {"content-type": "application/json", "idempotency-key": "k-1"},
        "queryStringParameters": {"limit": "10", "q": "Zoë"},
        "pathParameters": {"org_id": "org-1", "thing_id": "t 1"},
        "requestContext": {
            "routeKey": "POST /orgs/{org_id}/things/{thing_id}",
            "accountId": "123456789012",
            "stage": "$default",
            "requestId": "req-42",
            "authorizer": {"jwt": {
                "claims": {"sub": "acc-1", "role": "org_admin", "orgs": "[org-1 org-2]",
                           "iss": "https://issuer.example", "aud": "telehealth-api"},
                "scopes": null
            }},
            "apiId": "api-id",
            "domainName": "id.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "id",
            "time": "20/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795176000000,
            "http": {"method": "POST", "path": "/orgs/org-1/things/t%201", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"}
        },
        "body": "{\"a\":1}",
        "isBase64Encoded": false
    }"#;

    /// Runs one API Gateway event through the guard, `lambda_http` and the Router; the
    /// payload 2.0 response as API Gateway reads it.
    async fn invoke(event: &str) -> Value {
        invoke_as(event, lambda_http::Context::default()).await
    }

    /// [`invoke`] with this Lambda context.
    async fn invoke_as(event: &str, context: lambda_http::Context) -> Value {
        let payload: LambdaRequest = serde_json::from_str(event).unwrap();
        let mut adapter = adapter(&ECHO, deps());
        let event = LambdaEvent::new(payload, context);
        let resp = adapter.call(drop_unreadable_body(event)).await.unwrap();
        serde_json::to_value(&resp).unwrap()
    }

    fn body(resp: &Value) -> Value {
        serde_json::from_str(resp["body"].as_str().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn api_gateway_requests_carry_the_authorizer_claims() {
        let _one = SERIAL.lock().await;
        let resp = invoke(FIXTURE).await;
        assert_eq!(resp["statusCode"], 201);
        let v = body(&resp);
        assert_eq!(v["method"], "POST");
        assert_eq!(v["path"], "/orgs/org-1/things/t%201");
        assert_eq!(v["request_id"], "req-42");
        assert_eq!(
            v["principal"],
            json!({"sub": "acc-1", "role": "org_admin", "orgs": ["org-1", "org-2"]})
        );
        assert_eq!(v["org_id"], "org-1");
        assert_eq!(v["thing_id"], "t 1");
        assert_eq!(v["query"], json!([["limit", "10"], ["q", "Zoë"]]));
        assert_eq!(v["idempotency_key"], "k-1");
        assert_eq!(v["body"], r#"{"a":1}"#);
    }

    #[tokio::test]
    async fn requests_without_usable_claims_have_no_principal() {
        let _one = SERIAL.lock().await;
        let no_role = FIXTURE.replace(r#""role": "org_admin", "#, "");
        assert_ne!(no_role, FIXTURE);
        assert_eq!(body(&invoke(&no_role).await)["principal"], Value::Null);
    }

    /// The query from `rawQueryString`, every pair in order; a base64 body decoded; API
    /// Gateway's cookies as one `cookie` header.
    #[tokio::test]
    async fn queries_bodies_and_cookies_arrive_as_sent() {
        let _one = SERIAL.lock().await;
        let json = FIXTURE
            .replace(
                r#""rawQueryString": "limit=10&q=Zo%C3%AB""#,
                r#""rawQueryString": "q=a+b%26c&limit=5&limit=7&flag""#,
            )
            .replace(r#""body": "{\"a\":1}""#, r#""body": "eyJiIjoyfQ==""#)
            .replace(
                r#""isBase64Encoded": false"#,
                r#""isBase64Encoded": true, "cookies": ["a=1", "b=2"]"#,
            );
        let v = body(&invoke(&json).await);
        assert_eq!(
            v["query"],
            json!([["q", "a b&c"], ["limit", "5"], ["limit", "7"], ["flag", ""]])
        );
        assert_eq!(v["body"], r#"{"b":2}"#);
        assert_eq!(v["cookie"], "a=1; b=2");
        // A body marked base64 that is not: a 400 naming it, the handler never runs.
        let bad = json.replace("eyJiIjoyfQ==", "not base64!");
        let resp = invoke(&bad).await;
        assert_eq!(resp["statusCode"], 400);
        assert_eq!(resp["headers"]["content-type"], "application/problem+json");
        assert_eq!(body(&resp)["field"], "body");
        // Whatever the method: such a request is refused before its route's methods are looked at.
        let resp = invoke(&bad.replace(r#""method": "POST""#, r#""method": "GET""#)).await;
        assert_eq!(resp["statusCode"], 400);
        assert_eq!(body(&resp)["field"], "body");
    }

    /// A caller cannot set the guard's stage variable: only API Gateway's configuration
    /// could, and a request with a good body passes whatever its headers say.
    #[tokio::test]
    async fn only_the_guard_refuses_a_body() {
        let _one = SERIAL.lock().await;
        let json = FIXTURE.replace(
            r#""headers": {"#,
            r#""headers": {"telehealth_unreadable_body": "yes", "#,
        );
        assert_eq!(invoke(&json).await["statusCode"], 201);
    }

    /// What API Gateway receives: a binary body as base64 with the flag, `set-cookie` in
    /// `cookies`, the other headers in `headers`.
    #[tokio::test]
    async fn binary_bodies_and_cookies_go_where_api_gateway_reads_them() {
        let _one = SERIAL.lock().await;
        let v = invoke(&FIXTURE.replace("t%201", "binary").replace("t 1", "binary")).await;
        assert_eq!(v["statusCode"], 200);
        assert_eq!(v["isBase64Encoded"], true);
        assert_eq!(v["body"], "AP9hYg==");
        assert_eq!(v["cookies"], json!(["s=1; Secure"]));
        assert_eq!(v["headers"]["content-type"], "application/octet-stream");
        assert!(v["headers"].get("set-cookie").is_none());
    }

    /// A header HTTP cannot carry turns the answer into a 500 problem, not a response missing
    /// it; a panicking handler is a 500 problem too.
    #[tokio::test]
    async fn unrepresentable_headers_and_panics_are_500_problems() {
        let _one = SERIAL.lock().await;
        for thing in ["bad-header", "boom"] {
            let v = invoke(&FIXTURE.replace("t%201", thing).replace("t 1", thing)).await;
            assert_eq!(v["statusCode"], 500, "{thing}");
            assert_eq!(v["headers"]["content-type"], "application/problem+json");
            assert_eq!(body(&v)["status"], 500);
        }
    }

    /// Every line of an invocation carries Lambda's request id, the X-Ray trace id and the
    /// cold-start mark (from the runtime's invocation span) and API Gateway's request id; a 403
    /// writes a denial line with the reason; each request writes its metric document.
    #[tokio::test]
    async fn lines_carry_the_invocation_s_ids_and_denials_their_reason() {
        let _one = SERIAL.lock().await;
        use tracing::Instrument;
        let buffer = domain::telemetry::LogBuffer::default();
        let _guard = domain::telemetry::capture(buffer.clone());
        for (lambda_id, thing) in [("lambda-1", "t 1"), ("lambda-2", "forbidden")] {
            let mut context = lambda_http::Context::default();
            context.request_id = lambda_id.into();
            context.xray_trace_id = Some(format!("Root=1-{lambda_id}"));
            let span = lambda_http::lambda_runtime::layers::trace::request_span(&context);
            let event = FIXTURE.replace("t 1", thing).replace("t%201", thing);
            invoke_as(&event, context).instrument(span).await;
        }
        let lines: Vec<Value> = buffer
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|l: &Value| l.get("message").is_some())
            .map(|mut l| {
                l.as_object_mut().unwrap().remove("timestamp").unwrap();
                if let Some(latency) = l.get_mut("latency_ms") {
                    assert!(latency.is_u64(), "{latency}");
                    *latency = json!(0);
                }
                l
            })
            .collect();
        let ids = |n: u32| {
            json!({
                "lambda_request_id": format!("lambda-{n}"),
                "trace_id": format!("Root=1-lambda-{n}"),
                "cold_start": n == 1,
                "request_id": "req-42",
            })
        };
        let with = |ids: Value, rest: Value| {
            let mut line = ids;
            for (k, v) in rest.as_object().unwrap() {
                line[k] = v.clone();
            }
            line
        };
        let route = "/orgs/{org_id}/things/{thing_id}";
        assert_eq!(
            lines,
            vec![
                with(
                    ids(1),
                    json!({"level": "INFO", "message": "request", "function": "echo",
                        "method": "POST", "route": route, "role": "org_admin", "status": 201,
                        "latency_ms": 0})
                ),
                with(
                    ids(2),
                    json!({"level": "WARN", "message": "request denied", "function": "echo",
                        "method": "POST", "route": route, "status": 403,
                        "reason": "the role org_admin may not call this route"})
                ),
                with(
                    ids(2),
                    json!({"level": "INFO", "message": "request", "function": "echo",
                        "method": "POST", "route": route, "role": "org_admin", "status": 403,
                        "latency_ms": 0})
                ),
            ]
        );
        // Level, message and the ids first, in that order.
        let text = buffer.text();
        let first = text.lines().next().unwrap();
        let at = |key: &str| first.find(&format!("\"{key}\":")).unwrap();
        assert!(at("timestamp") < at("level") && at("level") < at("message"));
        assert!(at("message") < at("lambda_request_id") && at("trace_id") < at("request_id"));
        let documents: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|l| l.get("_aws").is_some())
            .collect();
        assert_eq!(documents.len(), 2, "{text}");
        assert_eq!(documents[1]["route"], format!("POST {route}"));
        assert_eq!(documents[1]["Requests"], 1);
        assert_eq!(documents[1]["Errors"], 0);
    }

    /// Unknown paths and methods are problems too.
    #[tokio::test]
    async fn unknown_paths_and_methods_are_404_and_405_problems() {
        let _one = SERIAL.lock().await;
        let v = invoke(&FIXTURE.replace("/orgs/org-1/things/t%201", "/nowhere")).await;
        assert_eq!(v["statusCode"], 404);
        assert_eq!(v["headers"]["content-type"], "application/problem+json");
        let v = invoke(&FIXTURE.replace(r#""method": "POST""#, r#""method": "GET""#)).await;
        assert_eq!(v["statusCode"], 405);
        assert_eq!(v["headers"]["content-type"], "application/problem+json");
    }
}
