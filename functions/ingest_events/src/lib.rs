//! The EventBridge entry point of ingest: one platform event per invocation, its `detail`
//! being the envelope of `docs/events.md`. The same code path as `POST /ingest/events`.
//!
//! An event that is rejected or cannot be stored fails the invocation, so EventBridge's retry
//! policy and the rule's dead-letter queue keep it for inspection; a retried event that
//! already landed is a duplicate and changes nothing.

use domain::deps::Deps;
use domain::events::ingest::{ingest_batch, EventStatus};

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("ingest-events");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IngestFailure {
    #[error("EventBridge event without a `detail` object")]
    NoDetail,
    #[error("event rejected: field {field}: {reason}")]
    Rejected { field: String, reason: String },
    #[error("store failed: {0}")]
    Store(String),
}

/// Ingests the `detail` of one EventBridge event.
pub async fn handle(deps: &Deps, event: serde_json::Value) -> Result<EventStatus, IngestFailure> {
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .cloned()
        .ok_or(IngestFailure::NoDetail)?;
    let report = ingest_batch(&*deps.store, deps.clock.now(), &[detail])
        .await
        .map_err(|e| IngestFailure::Store(e.to_string()))?;
    let status = report
        .results
        .into_iter()
        .next()
        .map(|r| r.status)
        .ok_or(IngestFailure::NoDetail)?;
    match status {
        EventStatus::Rejected { field, reason } => Err(IngestFailure::Rejected { field, reason }),
        other => Ok(other),
    }
}
