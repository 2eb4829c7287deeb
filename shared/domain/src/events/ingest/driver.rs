//! The ingest driver: validates a batch, and lands each event once (its idempotency marker
//! in the same transaction as its effects), retrying a lost race after a jittered backoff.

use super::effects::{resolve, to_json};
use super::totals::{self, TotalsError};
use super::{consultations, names, plan, segments, statistics, words};
use crate::events::catalogue::{parse_event, Event, EventBody};
use crate::ports::{Condition, Item, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, keys};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Largest batch `POST /ingest/events` takes.
pub const MAX_BATCH: usize = 500;

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum EventStatus {
    Accepted,
    /// Already ingested with the same content: nothing changed.
    Duplicate,
    Rejected {
        field: String,
        reason: String,
    },
}

/// The answer for one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(flatten)]
    pub status: EventStatus,
}

/// The answer for a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<EventResult>,
}

/// Validates and ingests every event of a batch; bad events are refused with a reason and the
/// good ones still land. Fails only when the store does (and then the caller may retry the
/// whole batch: what already landed is skipped as duplicate).
pub async fn ingest_batch(
    store: &dyn Store,
    now: DateTime<Utc>,
    raw: &[serde_json::Value],
) -> Result<BatchReport, StoreError> {
    let mut report = BatchReport::default();
    for (index, value) in raw.iter().enumerate() {
        let (id, status) = match parse_event(value, now) {
            Err((id, r)) => (
                id,
                EventStatus::Rejected {
                    field: r.field,
                    reason: r.reason,
                },
            ),
            Ok(event) => {
                let id = Some(event.id.to_string());
                (id, ingest_event(store, now, &event).await?)
            }
        };
        match status {
            EventStatus::Accepted => report.accepted += 1,
            EventStatus::Duplicate => report.duplicates += 1,
            EventStatus::Rejected { .. } => report.rejected += 1,
        }
        report.results.push(EventResult { index, id, status });
    }
    crate::telemetry::ingested(
        report.accepted as u64,
        report.rejected as u64,
        report.duplicates as u64,
    );
    Ok(report)
}

/// Attempts at one event before a run of lost races is reported as a conflict. A lost race
/// means another event landed on the same item first, so N events racing into one item (a busy
/// thread) need up to N attempts; see [`backoff`].
const MAX_ATTEMPTS: u32 = 32;

/// The wait before attempt `attempt + 1` after a lost race: "full jitter" (a random time up to
/// a cap that doubles from 2 ms to 100 ms), so that racers spread out instead of colliding
/// again. At most about 3 s over all attempts.
fn backoff(attempt: u32, salt: &str) -> std::time::Duration {
    let cap_ms = (2u64 << attempt.min(6)).min(100);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or_default();
    let salt = salt
        .get(..12)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or_default();
    let spread = (nanos ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    std::time::Duration::from_millis(spread % (cap_ms + 1))
}

/// Ingests one validated event, once.
pub async fn ingest_event(
    store: &dyn Store,
    now: DateTime<Utc>,
    event: &Event,
) -> Result<EventStatus, StoreError> {
    let hash = content_hash(event);
    let marker_key = keys::event(event.id.as_str());
    let effects = plan(event);
    for attempt in 0..MAX_ATTEMPTS {
        if let Some(existing) = store.get(&marker_key).await? {
            let marker: rm::EventMarker = existing.decode()?;
            return Ok(if marker.content_sha256 == hash {
                EventStatus::Duplicate
            } else {
                EventStatus::Rejected {
                    field: "id".into(),
                    reason: "already used by a different event".into(),
                }
            });
        }
        let marker = rm::EventMarker {
            event_type: event.body.type_name().to_string(),
            content_sha256: hash.clone(),
            ingested_at: now,
        };
        let mut ops = vec![TxOp::put(
            Item::new(
                marker_key.pk.clone(),
                marker_key.sk.clone(),
                to_json(&marker),
            ),
            Condition::NotExists,
        )];
        let (planned, finals) = resolve(store, &effects).await?;
        ops.extend(planned);
        segments::sync_segments(store, &mut ops, &finals).await?;
        words::index_words(&mut ops, &finals)?;
        statistics::move_stats(store, &mut ops, &finals).await?;
        consultations::retag(store, event, &mut ops, &finals).await?;
        let moved = match totals::move_totals(store, &mut ops, &finals).await {
            Ok(moved) => moved,
            Err(TotalsError::Store(e)) => return Err(e),
            Err(TotalsError::OutOfRange(total)) => {
                return Ok(EventStatus::Rejected {
                    field: totalled_field(event).into(),
                    reason: format!("would take the running total {total} out of range"),
                })
            }
        };
        totals::move_rating_totals(store, &mut ops, &finals).await?;
        let early = names::copy_names(store, &mut ops, &finals, &moved).await?;
        let mut lost = false;
        for chunk in early {
            match store.transact(chunk).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                    lost = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if lost {
            tokio::time::sleep(backoff(attempt, &hash)).await;
            continue;
        }
        match store.transact(ops).await {
            Ok(()) => return Ok(EventStatus::Accepted),
            // The marker (op 0) landed meanwhile: look at it at once.
            Err(StoreError::ConditionFailed { op: Some(0) }) => continue,
            // A merged item changed under us (or, unknown which, the marker): wait a little,
            // then read again and re-apply.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                tokio::time::sleep(backoff(attempt, &hash)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

/// The field of an event whose value moves running totals (what a refusal of a total out of
/// range names).
fn totalled_field(event: &Event) -> &'static str {
    match &event.body {
        EventBody::PaymentCompleted(_) => "data.total.amount_minor",
        EventBody::RatingSubmitted(_) => "data.stars",
        EventBody::CallJoined(_) | EventBody::CallLeft(_) => "occurred_at",
        _ => "data",
    }
}

fn content_hash(event: &Event) -> String {
    let bytes = serde_json::to_vec(event).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_caps() {
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let mut total = std::time::Duration::ZERO;
        for attempt in 0..MAX_ATTEMPTS {
            let wait = backoff(attempt, hash);
            assert!(wait.as_millis() <= u128::from((2u64 << attempt.min(6)).min(100)));
            total += wait;
        }
        assert!(total <= std::time::Duration::from_secs(3));
    }
}
