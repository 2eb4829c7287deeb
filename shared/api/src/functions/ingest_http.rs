//! `POST /ingest/events` (role `service`): a batch of platform events through the one ingest
//! path. Answers 200 when every event landed (or was a duplicate), 207 with per-event results
//! when some were rejected, and a 400 problem naming each event's field when all were.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, FieldError, HandlerResult, Problem};
use domain::auth::{require, Role, Scope};
use domain::deps::Deps;
use domain::events::ingest::{ingest_batch, EventStatus, MAX_BATCH};
use serde::Deserialize;
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("ingest-http");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    events: Vec<serde_json::Value>,
}

pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    require(req.principal.as_ref(), &[Role::Service], Scope::Any)?;
    let batch: Batch = req.json()?;
    if batch.events.is_empty() {
        return Err(Problem::bad_request(
            "events",
            "must hold at least one event",
        ));
    }
    if batch.events.len() > MAX_BATCH {
        return Err(Problem::bad_request(
            "events",
            format!("at most {MAX_BATCH} events per batch"),
        ));
    }
    let report = ingest_batch(&*deps.store, deps.clock.now(), &batch.events).await?;
    tracing::info!(
        request_id = %req.request_id,
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected = report.rejected,
        "ingest batch"
    );
    if report.rejected == 0 {
        return Ok(ApiResponse::json(200, &report));
    }
    if report.rejected < batch.events.len() {
        return Ok(ApiResponse::json(207, &report));
    }
    let errors: Vec<FieldError> = report
        .results
        .iter()
        .filter_map(|r| match &r.status {
            EventStatus::Rejected { field, reason } => Some(FieldError {
                field: format!("events[{}].{field}", r.index),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    let mut problem = Problem::bad_request(
        errors.first().map(|e| e.field.as_str()).unwrap_or("events"),
        errors
            .first()
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| "rejected".into()),
    );
    problem.title = "Every event was rejected".into();
    problem.errors = errors;
    Err(problem)
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::post(
        "/ingest/events",
        &[domain::auth::Role::Service],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
