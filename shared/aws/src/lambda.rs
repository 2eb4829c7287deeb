//! The Lambda side of the HTTP glue: turns an API Gateway HTTP API (payload 2.0) request into
//! an [`ApiRequest`] — the caller's claims come from the JWT authorizer's context — runs the
//! handler through [`domain::http::respond`], and turns the answer back into the payload 2.0
//! response.
//!
//! The event and response types are aws_lambda_events' own, run by lambda_runtime directly
//! (not through lambda_http, issue 8: size). lambda_http's conversion into an `http::Request`
//! and back linked encoding_rs (every WHATWG encoding's tables, 166 KB) for a charset no
//! answer here uses, panicked on a body marked base64 that was not, and answered a response
//! with a header it could not hold as an empty 200. Here such a body is a 400 naming `body`,
//! and such a header a logged 500.

use crate::AwsWiring;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use domain::auth::Principal;
use domain::deps::Deps;
use domain::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use http::header::{HeaderName, HeaderValue, COOKIE, SET_COOKIE};
use lambda_runtime::{service_fn, LambdaEvent};
use std::future::Future;
use std::sync::Arc;

/// Converts an API Gateway request. A request that reached the function has passed the JWT
/// authorizer (or its route is public); claims that do not make a principal leave it `None`,
/// which every protected handler answers with 401. The second value is the problem of a
/// request that cannot be handed over (a body marked base64 that is not): the caller answers
/// it instead of running the handler.
///
/// As API Gateway gives it: the path is `rawPath` (still percent-encoded); the query is
/// `rawQueryString` decoded as a form (WHATWG), every pair in order; the path parameters are
/// API Gateway's (decoded); the cookies API Gateway splits off come back as one `cookie`
/// header; header values that are not ASCII are kept (decoded lossily), so the handler that
/// reads one refuses it with a 400 naming the header instead of never seeing it.
pub fn from_lambda(req: ApiGatewayV2httpRequest) -> (ApiRequest, Option<Problem>) {
    let ctx = &req.request_context;
    let request_id = ctx.request_id.clone().unwrap_or_default();
    let principal = ctx
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .and_then(|jwt| Principal::from_claims(&jwt.claims).ok());
    let method = ctx.http.method.as_str().to_string();
    let path_params = req
        .path_parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let query = form_urlencoded::parse(req.raw_query_string.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(cookies) = req.cookies.as_ref().filter(|c| !c.is_empty()) {
        headers.retain(|(k, _)| k != COOKIE.as_str());
        headers.push((COOKIE.as_str().to_string(), cookies.join("; ")));
    }
    let (body, refused) = match (req.body, req.is_base64_encoded) {
        (None, _) => (bytes::Bytes::new(), None),
        (Some(text), false) => (bytes::Bytes::from(text), None),
        (Some(text), true) => match base64::engine::general_purpose::STANDARD.decode(&text) {
            Ok(raw) => (bytes::Bytes::from(raw), None),
            Err(_) => (
                bytes::Bytes::new(),
                Some(Problem::bad_request(
                    "body",
                    "is marked base64-encoded but is not base64",
                )),
            ),
        },
    };
    let api = ApiRequest {
        method,
        path: req.raw_path.unwrap_or_default(),
        path_params,
        query,
        headers,
        body,
        principal,
        request_id,
    };
    (api, refused)
}

/// Converts a handler's answer into the payload 2.0 response: a UTF-8 body as text, any other
/// as base64; `set-cookie` headers in `cookies`, where API Gateway expects them. A header
/// name or value HTTP cannot carry (none of ours: they are ASCII) makes the answer a 500
/// problem rather than a response missing it (`Err`); the caller logs it.
pub fn to_lambda(resp: ApiResponse) -> Result<ApiGatewayV2httpResponse, ApiGatewayV2httpResponse> {
    convert(&resp).ok_or_else(|| {
        // A problem's headers are ours and ASCII: it always converts.
        convert(&Problem::internal().into_response()).unwrap_or_default()
    })
}

/// [`to_lambda`]'s conversion; `None` when a header cannot be carried.
fn convert(resp: &ApiResponse) -> Option<ApiGatewayV2httpResponse> {
    let mut out = ApiGatewayV2httpResponse::default();
    for (k, v) in &resp.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).ok()?;
        let value = HeaderValue::from_str(v).ok()?;
        if name == SET_COOKIE {
            out.cookies.push(v.clone());
        } else {
            out.headers.append(name, value);
        }
    }
    out.status_code = i64::from(resp.status);
    match String::from_utf8(resp.body.to_vec()) {
        Ok(text) => out.body = Some(Body::Text(text)),
        Err(e) => {
            out.body = Some(Body::Binary(e.into_bytes()));
            out.is_base64_encoded = true;
        }
    }
    Some(out)
}

/// Runs an HTTP handler as a Lambda function: logging, the AWS [`Deps`] of the function's
/// [`Wiring`] (its crate's `WIRING` constant), the runtime loop. This is all a function's
/// `main` calls.
pub async fn run_http<F, Fut>(wiring: AwsWiring, handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Arc<Deps>, ApiRequest) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    domain::telemetry::init_logging();
    let name = wiring.wiring.name;
    let deps: Arc<Deps> = Arc::new(wiring.deps().await?);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let deps = deps.clone();
            async move {
                let (api, refused) = from_lambda(event.payload);
                let request_id = api.request_id.clone();
                let resp = domain::http::respond(name, api, move |r| async move {
                    match refused {
                        Some(problem) => Err(problem),
                        None => handler(deps, r).await,
                    }
                })
                .await;
                Ok::<_, std::convert::Infallible>(to_lambda(resp).unwrap_or_else(|problem| {
                    tracing::error!(function = name, request_id = %request_id, "response header not representable");
                    problem
                }))
            }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::auth::Role;

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

    fn request(json: &str) -> ApiGatewayV2httpRequest {
        serde_json::from_str(json).expect("fixture")
    }

    #[test]
    fn api_gateway_requests_carry_the_authorizer_claims() {
        let (api, refused) = from_lambda(request(FIXTURE));
        assert!(refused.is_none());
        assert_eq!(api.method, "POST");
        assert_eq!(api.path, "/orgs/org-1/things/t%201");
        assert_eq!(api.request_id, "req-42");
        let p = api
            .principal
            .clone()
            .expect("principal from the JWT authorizer context");
        assert_eq!(p.sub, "acc-1");
        assert_eq!(p.role, Role::OrgAdmin);
        assert_eq!(p.orgs, vec!["org-1", "org-2"]);
        assert_eq!(api.path_param("org_id"), Some("org-1"));
        assert_eq!(api.path_param("thing_id"), Some("t 1"));
        assert_eq!(api.query_param("q"), Some("Zoë"));
        assert_eq!(api.query_param("limit"), Some("10"));
        assert_eq!(api.header("Idempotency-Key"), Some("k-1"));
        assert_eq!(api.body.as_ref(), br#"{"a":1}"#);
    }

    #[test]
    fn requests_without_usable_claims_have_no_principal() {
        let no_role = FIXTURE.replace(r#""role": "org_admin", "#, "");
        assert_ne!(no_role, FIXTURE);
        assert_eq!(from_lambda(request(&no_role)).0.principal, None);
        let public = FIXTURE.replace(
            r#""authorizer": {"jwt": {
                "claims": {"sub": "acc-1", "role": "org_admin", "orgs": "[org-1 org-2]",
                           "iss": "https://issuer.example", "aud": "telehealth-api"},
                "scopes": null
            }},"#,
            "",
        );
        assert_ne!(public, FIXTURE);
        assert_eq!(from_lambda(request(&public)).0.principal, None);
    }

    /// The query from `rawQueryString`, every pair in order (a repeated name answers its
    /// first value); a base64 body decoded; API Gateway's cookies as one `cookie` header.
    #[test]
    fn queries_bodies_and_cookies_arrive_as_sent() {
        let json = FIXTURE
            .replace(
                r#""rawQueryString": "limit=10&q=Zo%C3%AB""#,
                r#""rawQueryString": "q=a+b%26c&limit=5&limit=7&flag""#,
            )
            .replace(r#""body": "{\"a\":1}""#, r#""body": "AP9hYg==""#)
            .replace(
                r#""isBase64Encoded": false"#,
                r#""isBase64Encoded": true, "cookies": ["a=1", "b=2"]"#,
            );
        let (api, refused) = from_lambda(request(&json));
        assert!(refused.is_none());
        assert_eq!(
            api.query,
            vec![
                ("q".to_string(), "a b&c".to_string()),
                ("limit".to_string(), "5".to_string()),
                ("limit".to_string(), "7".to_string()),
                ("flag".to_string(), String::new()),
            ]
        );
        assert_eq!(api.query_param("limit"), Some("5"));
        assert_eq!(api.body.as_ref(), &[0x00, 0xff, b'a', b'b']);
        assert_eq!(api.header("cookie"), Some("a=1; b=2"));
        // A body marked base64 that is not: a 400 naming it, and no body handed on.
        let bad = json.replace("AP9hYg==", "not base64!");
        let (api, refused) = from_lambda(request(&bad));
        let problem = refused.expect("refused").into_response();
        assert_eq!(problem.status, 400);
        let v: serde_json::Value = serde_json::from_slice(&problem.body).expect("json");
        assert_eq!(v["field"], "body");
        assert!(api.body.is_empty());
    }

    #[test]
    fn responses_keep_status_headers_and_body() {
        let resp = domain::http::Problem::bad_request("limit", "must be 1 to 500").into_response();
        let out = to_lambda(resp).expect("converts");
        assert_eq!(out.status_code, 400);
        assert_eq!(out.headers["content-type"], "application/problem+json");
        assert!(!out.is_base64_encoded);
        match &out.body {
            Some(Body::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(t).expect("json");
                assert_eq!(v["field"], "limit");
            }
            other => panic!("unexpected body {other:?}"),
        }
    }

    /// What API Gateway receives: a binary body as base64 with the flag, `set-cookie` in
    /// `cookies`, the other headers in `headers`.
    #[test]
    fn binary_bodies_and_cookies_go_where_api_gateway_reads_them() {
        let resp = ApiResponse {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/octet-stream".into()),
                ("set-cookie".into(), "s=1; Secure".into()),
            ],
            body: bytes::Bytes::from_static(&[0x00, 0xff, b'a', b'b']),
        };
        let out = to_lambda(resp).expect("converts");
        let v = serde_json::to_value(&out).expect("json");
        assert_eq!(v["statusCode"], 200);
        assert_eq!(v["isBase64Encoded"], true);
        assert_eq!(v["body"], "AP9hYg==");
        assert_eq!(v["cookies"], serde_json::json!(["s=1; Secure"]));
        assert_eq!(v["headers"]["content-type"], "application/octet-stream");
        assert!(v["headers"].get("set-cookie").is_none());
    }

    /// A header HTTP cannot carry turns the answer into a 500 problem, not a response missing
    /// it.
    #[test]
    fn an_unrepresentable_header_is_a_500() {
        let resp = ApiResponse {
            status: 201,
            headers: vec![("location".into(), "/a\nb".into())],
            body: bytes::Bytes::from_static(b"{}"),
        };
        let out = to_lambda(resp).expect_err("refused");
        assert_eq!(out.status_code, 500);
        assert_eq!(out.headers["content-type"], "application/problem+json");
    }
}
