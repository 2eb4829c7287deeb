//! The export job of emailed reports (SPEC D2, Q6), triggered in AWS by the table's stream
//! (`NEW_IMAGE`, filtered to inserted job items) and by a schedule that sweeps the jobs left
//! behind (a queued job whose record never came, a running one whose runner stopped), both
//! through [`run_job`](domain::org_reports::email::run_job); locally the local server's worker
//! runs the same sweep.
//!
//! Each record names a job by its keys. A job that ran (done, or failed with its reason) or
//! that was already claimed reports success: the claim on the job's version makes a second
//! delivery do nothing. A record whose job could not be claimed or recorded for a transient
//! reason is returned as a batch item failure (its sequence number), so Lambda delivers it
//! again from there (and, when the retries run out, sends it to the on-failure destination);
//! the sweep finds its job in any case.

use aws_adapters::stream::{batch_item_failure, string_keys, Invocation};
use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::deps::Deps;
use domain::org_reports::email::{job_id_of_keys, run_job, sweep, JobOutcome, Takeover};
use std::path::Path;

/// Jobs run per scheduled sweep, one after the other (the stream runs the others; what a
/// sweep leaves is due at the next one, 5 minutes later).
pub const SWEEP_BATCH: usize = 5;

/// The store, the blob store (the report file) and the mailer (the email): see
/// [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("org-report-email-job")
    .with_blobs()
    .with_mailer();

/// The job id a stream record is about, if it is a job item.
pub fn job_id_of(record: &EventRecord) -> Option<String> {
    let (pk, sk) = string_keys(record)?;
    job_id_of_keys(&pk, &sk)
}

/// The stream event DynamoDB delivers when these job items are inserted (keys and the key
/// attributes of the new image; the handler reads the job itself).
pub fn insert_event(job_ids: &[String]) -> Event {
    let records: Vec<serde_json::Value> = job_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let keys = serde_json::json!({"pk": {"S": format!("JOB#{id}")}, "sk": {"S": "JOB"}});
            serde_json::json!({
                "eventID": format!("local-{i}"),
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": "local",
                "dynamodb": {"Keys": keys, "NewImage": keys,
                             "SequenceNumber": format!("{}", i + 1), "SizeBytes": 0,
                             "StreamViewType": "NEW_IMAGE"}
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap_or_default()
}

/// Handles one invocation: a stream batch (it has `Records`), or the scheduled sweep (any other
/// event). Answers the batch item failures of a stream batch, or what the sweep did
/// (`{"done": n, "failed": n, "skipped": n, "retry": n, "scheduled_runs": n}`).
pub async fn handle(
    deps: &Deps,
    event: serde_json::Value,
    tempdir: &Path,
) -> Result<serde_json::Value, domain::ports::StoreError> {
    let invalid = |e: serde_json::Error| domain::ports::StoreError::Invalid(e.to_string());
    if let Invocation::Stream(batch) = Invocation::of(event).map_err(invalid)? {
        return serde_json::to_value(handle_stream(deps, batch, tempdir).await).map_err(invalid);
    }
    let swept = sweep(deps, tempdir, Takeover::Expired, SWEEP_BATCH).await?;
    tracing::info!(
        done = swept.done,
        failed = swept.failed,
        skipped = swept.skipped,
        retry = swept.retry,
        scheduled_runs = swept.scheduled_runs,
        "email job sweep"
    );
    Ok(serde_json::json!({
        "done": swept.done, "failed": swept.failed, "skipped": swept.skipped, "retry": swept.retry,
        "scheduled_runs": swept.scheduled_runs,
    }))
}

/// Runs the job of every record in order; stops at the first record to deliver again and
/// reports it (and so everything after it) as a batch item failure.
pub async fn handle_stream(deps: &Deps, event: Event, tempdir: &Path) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let Some(job_id) = job_id_of(record) else {
            continue;
        };
        match run_job(deps, &job_id, tempdir).await {
            Ok(JobOutcome::Done) => tracing::info!(job_id = %job_id, "job done"),
            Ok(JobOutcome::Failed(reason)) => {
                tracing::warn!(job_id = %job_id, reason = %reason, "job failed")
            }
            Ok(JobOutcome::Skipped) => {
                tracing::info!(job_id = %job_id, "job finished or claimed elsewhere")
            }
            Err(e) => {
                tracing::error!(job_id = %job_id, error = %e, "job to be delivered again");
                response
                    .batch_item_failures
                    .push(batch_item_failure(record));
                break;
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_come_from_job_keys_only() {
        let event: Event = serde_json::from_value(serde_json::json!({"Records": [
            {"eventID": "1", "eventName": "INSERT", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "JOB#job-1"}, "sk": {"S": "JOB"}},
                          "NewImage": {"pk": {"S": "JOB#job-1"}, "sk": {"S": "JOB"}},
                          "SequenceNumber": "100", "SizeBytes": 10,
                          "StreamViewType": "NEW_IMAGE"}},
            {"eventID": "2", "eventName": "INSERT", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "REPORT#r"}, "sk": {"S": "REPORT"}},
                          "SequenceNumber": "101", "SizeBytes": 10}}
        ]}))
        .expect("a stream event");
        assert_eq!(job_id_of(&event.records[0]).as_deref(), Some("job-1"));
        assert_eq!(job_id_of(&event.records[1]), None);
    }
}
