//! `GET /health` (public): tells a load balancer or a person that the API answers.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use domain::deps::Deps;
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("health");

/// Answers `{"status":"ok","time":...}`; reaches no backing service, so it stays cheap.
pub async fn handle(deps: Arc<Deps>, _req: ApiRequest) -> HandlerResult {
    Ok(ApiResponse::json(
        200,
        &serde_json::json!({
            "status": "ok",
            "service": "telehealth-reporting",
            "version": env!("CARGO_PKG_VERSION"),
            "time": deps.clock.now(),
        }),
    ))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::get("/health", &[])],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
