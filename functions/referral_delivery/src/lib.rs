//! Delivery of referral steps' threads and messages (SPEC Q6), triggered in AWS by the table's
//! stream (`NEW_IMAGE`, filtered to delivery markers) and by a schedule that expires the
//! pending referrals that are due (B9) and sweeps any marker left behind; locally the local
//! server's delivery worker does the sweep ([`domain::referrals::delivery`]).
//!
//! A stream record names a referral by its marker's keys: its events are landed (idempotently)
//! and the marker cleared. A record that could not be settled for a transient reason is
//! returned as a batch item failure, so Lambda delivers it again from there; a marker the
//! retries could not clear stays for the scheduled sweep.

use aws_adapters::stream::{batch_item_failure, string_keys, Invocation};
use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::deps::Deps;
use domain::referrals::delivery::{settle_pending, sweep};

/// The store only: see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("referral-delivery");

/// Markers settled per round of the scheduled sweep.
pub const SWEEP_BATCH: usize = 25;

/// The referral a stream record's delivery marker is about.
pub fn referral_of(record: &EventRecord) -> Option<String> {
    let (pk, sk) = string_keys(record)?;
    if sk != "DELIVERY" {
        return None;
    }
    pk.strip_prefix("REFERRAL#").map(str::to_string)
}

/// Settles the marker of every inserted or replaced record in order; stops at the first that
/// failed and reports it (and so everything after it) as a batch item failure.
pub async fn handle_stream(deps: &Deps, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        if record.event_name == "REMOVE" {
            continue;
        }
        let Some(referral_id) = referral_of(record) else {
            continue;
        };
        if let Err(e) = settle_pending(&*deps.store, deps.clock.now(), &referral_id).await {
            tracing::error!(referral_id = %referral_id, error = %e, "delivery to be run again");
            response
                .batch_item_failures
                .push(batch_item_failure(record));
            break;
        }
    }
    response
}

/// Handles one invocation: a stream batch (it has `Records`), or the scheduled sweep (any other
/// event). Answers the batch item failures of a stream batch, or `{"expired": n, "settled": m}`.
pub async fn handle(
    deps: &Deps,
    event: serde_json::Value,
) -> Result<serde_json::Value, domain::ports::StoreError> {
    let invalid = |e: serde_json::Error| domain::ports::StoreError::Invalid(e.to_string());
    if let Invocation::Stream(batch) = Invocation::of(event).map_err(invalid)? {
        return serde_json::to_value(handle_stream(deps, batch).await).map_err(invalid);
    }
    let swept = sweep(&*deps.store, deps.clock.now(), SWEEP_BATCH).await?;
    tracing::info!(
        expired = swept.expired,
        referrals = swept.settled,
        "referral delivery sweep"
    );
    Ok(serde_json::json!({ "expired": swept.expired, "settled": swept.settled }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referral_ids_come_from_delivery_markers_only() {
        let event: Event = serde_json::from_value(serde_json::json!({"Records": [
            {"eventID": "1", "eventName": "INSERT", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "REFERRAL#ref-1"}, "sk": {"S": "DELIVERY"}},
                          "SequenceNumber": "100", "SizeBytes": 10,
                          "StreamViewType": "NEW_IMAGE"}},
            {"eventID": "2", "eventName": "MODIFY", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "REFERRAL#ref-1"}, "sk": {"S": "REFERRAL"}},
                          "SequenceNumber": "101", "SizeBytes": 10}},
            {"eventID": "3", "eventName": "INSERT", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "JOB#job-1"}, "sk": {"S": "DELIVERY"}},
                          "SequenceNumber": "102", "SizeBytes": 10}}
        ]}))
        .expect("a stream event");
        assert_eq!(referral_of(&event.records[0]).as_deref(), Some("ref-1"));
        assert_eq!(referral_of(&event.records[1]), None);
        assert_eq!(referral_of(&event.records[2]), None);
    }
}
