//! The Lambda side of the HTTP glue: turns an API Gateway HTTP API (payload 2.0) request into
//! an [`ApiRequest`] — the caller's claims come from the JWT authorizer's context — runs the
//! handler through [`crate::http::respond`], and turns the answer back.

use crate::auth::Principal;
use crate::deps::{Deps, Wiring};
use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use lambda_http::{Body, Request, RequestExt};
use std::future::Future;
use std::sync::Arc;

/// Converts an API Gateway request. A request that reached the function has passed the JWT
/// authorizer (or its route is public); claims that do not make a principal leave it `None`,
/// which every protected handler answers with 401.
pub fn from_lambda(req: Request) -> ApiRequest {
    let mut principal = None;
    let mut request_id = String::new();
    #[allow(irrefutable_let_patterns)]
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
    {
        request_id = ctx.request_id.clone().unwrap_or_default();
        if let Some(jwt) = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()) {
            principal = Principal::from_claims(&jwt.claims).ok();
        }
    }
    let path_params = req
        .path_parameters_ref()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let query = req
        .query_string_parameters_ref()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    // Values that are not ASCII are kept (decoded lossily), so the handler that reads one
    // refuses it with a 400 naming the header instead of never seeing it.
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let method = req.method().as_str().to_string();
    let path = req.raw_http_path().to_string();
    let body = match req.into_body() {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(t) => bytes::Bytes::from(t),
        Body::Binary(b) => bytes::Bytes::from(b),
        _ => bytes::Bytes::new(),
    };
    ApiRequest {
        method,
        path,
        path_params,
        query,
        headers,
        body,
        principal,
        request_id,
    }
}

/// Converts a handler's answer into the Lambda response.
pub fn to_lambda(resp: ApiResponse) -> lambda_http::Response<Body> {
    let mut builder = lambda_http::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let text = String::from_utf8(resp.body.to_vec());
    let body = match text {
        Ok(t) => Body::Text(t),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| lambda_http::Response::new(Body::Empty))
}

/// Runs an HTTP handler as a Lambda function: logging, the AWS [`Deps`] of the function's
/// [`Wiring`] (its crate's `WIRING` constant), the runtime loop. This is all a function's
/// `main` calls.
pub async fn run_http<F, Fut>(wiring: Wiring, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<Deps>, ApiRequest) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    crate::telemetry::init_logging();
    let name = wiring.name;
    let deps = Arc::new(Deps::from_aws_env(&wiring).await?);
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let deps = deps.clone();
        async move {
            let api = from_lambda(req);
            let resp = crate::http::respond(name, api, move |r| handler(deps, r)).await;
            Ok::<_, std::convert::Infallible>(to_lambda(resp))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

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

    #[test]
    fn api_gateway_requests_carry_the_authorizer_claims() {
        let req = lambda_http::request::from_str(FIXTURE).expect("fixture");
        let api = from_lambda(req);
        assert_eq!(api.method, "POST");
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
        let api = from_lambda(lambda_http::request::from_str(&no_role).expect("fixture"));
        assert_eq!(api.principal, None);
        let public = FIXTURE.replace(
            r#""authorizer": {"jwt": {
                "claims": {"sub": "acc-1", "role": "org_admin", "orgs": "[org-1 org-2]",
                           "iss": "https://issuer.example", "aud": "telehealth-api"},
                "scopes": null
            }},"#,
            "",
        );
        assert_ne!(public, FIXTURE);
        let api = from_lambda(lambda_http::request::from_str(&public).expect("fixture"));
        assert_eq!(api.principal, None);
    }

    #[test]
    fn responses_keep_status_headers_and_body() {
        let resp = crate::http::Problem::bad_request("limit", "must be 1 to 500").into_response();
        let out = to_lambda(resp);
        assert_eq!(out.status(), 400);
        assert_eq!(out.headers()["content-type"], "application/problem+json");
        match out.body() {
            Body::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(t).expect("json");
                assert_eq!(v["field"], "limit");
            }
            other => panic!("unexpected body {other:?}"),
        }
    }
}
