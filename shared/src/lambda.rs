//! The Lambda side of the HTTP glue: turns an API Gateway HTTP API (payload 2.0) request into
//! an [`ApiRequest`] — the caller's claims come from the JWT authorizer's context — runs the
//! handler through [`crate::http::respond`], and turns the answer back.

use crate::auth::Principal;
use crate::deps::Deps;
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
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
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

/// Runs an HTTP handler as a Lambda function: logging, the AWS [`Deps`], the runtime loop.
/// This is all a function's `main` calls.
pub async fn run_http<F, Fut>(name: &'static str, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<Deps>, ApiRequest) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    crate::telemetry::init_logging();
    let deps = Arc::new(Deps::from_aws_env().await?);
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
