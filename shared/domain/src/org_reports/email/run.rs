//! The emailed-report job runner (SPEC D3, D4): a delivery claims the job on its version (a
//! second delivery finds it claimed and does nothing), builds the workbook in constant
//! memory, uploads it, records it in the history with its audit record, mails the link, and
//! writes each step's state on the job; an upload or a mail send is tried a few times.

use super::job::{job_key, EmailJob, JobPhase, JobState};
use super::mail::{history_url, ready_email, requester_email, send, EMAIL_LINK_TTL};
use crate::audit::{audit_op, AuditRecord};
use crate::deps::Deps;
use crate::export::xlsx::remove_quietly;
use crate::org_reports::config::load_config;
use crate::org_reports::download::{stream_file, write_workbook, ReportType};
use crate::org_reports::history::{Delivery, ReportRecord, ReportState, HISTORY_WINDOW_HOURS};
use crate::org_reports::params::{ParamsInput, ReportParams};
use crate::ports::{Condition, Store, StoreError, TxOp};
use chrono::Duration;
use std::path::Path;

/// Attempts of the upload and of the mail send before the job fails.
pub const MAX_ATTEMPTS: u32 = 3;

/// What a delivery of a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// This delivery ran the job and mailed the link.
    Done,
    /// This delivery ran the job and it failed for good (reason recorded on the job).
    Failed(String),
    /// The job was already claimed, finished or gone: nothing done.
    Skipped,
}

/// A failure the stream should deliver again (the job was not claimed, or its state could not
/// be written).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("job {job_id}: {cause}")]
pub struct RetryableJobError {
    pub job_id: String,
    pub cause: String,
}

/// Runs one job: claims it (`queued → running` on its version), builds and uploads the
/// workbook, records it in the history, audits, mails the link, and marks it done — or failed
/// with its reason when the upload or the mail send fails [`MAX_ATTEMPTS`] times (then no mail
/// goes out). A job found claimed, finished or missing is left alone.
pub async fn run_job(
    deps: &Deps,
    job_id: &str,
    tempdir: &Path,
) -> Result<JobOutcome, RetryableJobError> {
    let retry = |cause: String| RetryableJobError {
        job_id: job_id.to_string(),
        cause,
    };
    let store = &*deps.store;
    let Some(item) = store
        .get(&job_key(job_id))
        .await
        .map_err(|e| retry(e.to_string()))?
    else {
        return Ok(JobOutcome::Skipped);
    };
    let mut job: EmailJob = item.decode().map_err(|e| retry(e.to_string()))?;
    if job.state != JobState::Queued {
        return Ok(JobOutcome::Skipped);
    }
    let now = deps.clock.now();
    job.state = JobState::Running;
    job.phase = JobPhase::Building;
    job.started_at = Some(now);
    let mut version = item.version + 1;
    match store
        .put(job.item(version), Condition::VersionIs(item.version))
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(JobOutcome::Skipped),
        Err(e) => return Err(retry(e.to_string())),
    }
    tracing::info!(job_id, "email job claimed");
    let started = std::time::Instant::now();
    let result = execute(deps, &mut job, &mut version, tempdir).await;
    let outcome = match result {
        Ok(()) => {
            job.state = JobState::Done;
            job.phase = JobPhase::Finished;
            JobOutcome::Done
        }
        Err(reason) => {
            tracing::warn!(job_id, reason = %reason, "email job failed");
            job.state = JobState::Failed;
            job.reason = Some(reason.clone());
            JobOutcome::Failed(reason)
        }
    };
    job.finished_at = Some(deps.clock.now());
    write_step(store, &job, &mut version)
        .await
        .map_err(|e| retry(e.to_string()))?;
    let ended = if outcome == JobOutcome::Done {
        "done"
    } else {
        "failed"
    };
    crate::telemetry::job_finished("org_report_email", ended, started.elapsed());
    Ok(outcome)
}

/// Writes the running job's next state on the version it holds.
async fn write_step(
    store: &dyn Store,
    job: &EmailJob,
    version: &mut u64,
) -> Result<(), StoreError> {
    store
        .put(job.item(*version + 1), Condition::VersionIs(*version))
        .await?;
    *version += 1;
    Ok(())
}

/// Waits a little longer before each new attempt.
pub(super) async fn backoff(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
}

async fn execute(
    deps: &Deps,
    job: &mut EmailJob,
    version: &mut u64,
    tempdir: &Path,
) -> Result<(), String> {
    let store = &*deps.store;
    let store_failed = |e: StoreError| format!("store failed: {e}");
    let report_type = ReportType::parse(&job.report_type).map_err(|_| "unknown report type")?;
    let scope = job.scope();
    let config = load_config(store, &job.org_id)
        .await
        .map_err(store_failed)?;
    let input = ParamsInput {
        from: Some(job.params.from.to_string()),
        to: Some(job.params.to.to_string()),
        time_zone: Some(job.params.time_zone.clone()),
        min_duration_seconds: Some(job.params.min_duration_seconds),
    };
    let params = ReportParams::resolve(&input, &config).map_err(|e| e.to_string())?;
    let now = deps.clock.now();
    let report_id = crate::ids::new_id("rep", now);
    let (path, summary) = write_workbook(
        store,
        &scope,
        report_type,
        &params,
        &config,
        tempdir,
        &report_id,
        None,
    )
    .await
    .map_err(|e| format!("workbook not built: {e}"))?;
    let object_key = format!("reports/{report_id}.xlsx");
    let mut uploaded = Err("not uploaded".to_string());
    for attempt in 1..=MAX_ATTEMPTS {
        // A failed part aborts its multipart upload (stream_file); the next attempt starts over.
        match stream_file(&*deps.blobs, &path, &object_key).await {
            Ok(size) => {
                uploaded = Ok(size);
                break;
            }
            Err(_) => {
                uploaded = Err(format!("upload failed after {attempt} attempts"));
                if attempt < MAX_ATTEMPTS {
                    backoff(attempt).await;
                }
            }
        }
    }
    remove_quietly(&path);
    let size = uploaded?;
    let file_name = format!(
        "{}_{}_{}.xlsx",
        report_type.as_str(),
        params.from,
        params.to
    );
    let record = ReportRecord {
        report_id: report_id.clone(),
        org_id: job.org_id.clone(),
        clinic_id: job.clinic_id.clone(),
        report_type: job.report_type.clone(),
        params: job.params.clone(),
        requested_by: job.requested_by.clone(),
        requested_role: job.requested_role.clone(),
        requested_at: now,
        delivery: Delivery::Email,
        state: ReportState::Ready,
        size_bytes: Some(size),
        row_count: Some(summary.rows),
        object_key: Some(object_key.clone()),
        file_name: file_name.clone(),
        expires_at: now + Duration::hours(HISTORY_WINDOW_HOURS),
    };
    let actor = job.actor();
    let mut audit = AuditRecord::new(
        &actor,
        now,
        "report.generated",
        &format!("ORG#{}", job.org_id),
        &report_id,
    );
    audit.org_id = Some(job.org_id.clone());
    audit.params = serde_json::json!({
        "report_type": job.report_type,
        "clinic_id": job.clinic_id,
        "params": job.params,
        "size_bytes": size,
        "job_id": job.job_id,
        "delivery": "email",
    });
    audit.row_count = Some(summary.rows);
    audit.object_key = Some(object_key.clone());
    job.phase = JobPhase::Mailing;
    job.row_count = Some(summary.rows);
    job.size_bytes = Some(size);
    job.report_id = Some(report_id.clone());
    let recorded = store
        .transact(vec![
            TxOp::put(record.item(), Condition::NotExists),
            audit_op(&audit),
            TxOp::put(job.item(*version + 1), Condition::VersionIs(*version)),
        ])
        .await;
    if let Err(e) = recorded {
        let _ = deps.blobs.delete(&object_key).await;
        return Err(store_failed(e));
    }
    *version += 1;
    let to = requester_email(store, &job.requested_by, &job.org_id)
        .await
        .map_err(store_failed)?
        .ok_or("the requester has no active account with an email address")?;
    let url = deps
        .blobs
        .presign_get(&object_key, EMAIL_LINK_TTL, &file_name)
        .await
        .map_err(|e| format!("link not signed: {e}"))?;
    let history_url = history_url(&deps.settings.platform_base_url, job);
    let email = ready_email(to, report_type, &params, summary.rows, &url, &history_url);
    let message_id = send(&*deps.mailer, &email).await?;
    let mut audit = AuditRecord::new(
        &actor,
        deps.clock.now(),
        "report.emailed",
        &format!("ORG#{}", job.org_id),
        &report_id,
    );
    audit.org_id = Some(job.org_id.clone());
    audit.params = serde_json::json!({
        "report_type": job.report_type,
        "clinic_id": job.clinic_id,
        "job_id": job.job_id,
        "message_id": message_id,
        "link_ttl_seconds": EMAIL_LINK_TTL.as_secs(),
    });
    audit.row_count = Some(summary.rows);
    audit.object_key = Some(object_key);
    // The mail is out: the audit record must not be lost to a transient store failure.
    for attempt in 1..=MAX_ATTEMPTS {
        match store.transact(vec![audit_op(&audit)]).await {
            Ok(()) => break,
            Err(e) if attempt == MAX_ATTEMPTS => {
                tracing::error!(job_id = %job.job_id, error = %e, "emailed audit not written");
            }
            Err(_) => backoff(attempt).await,
        }
    }
    tracing::info!(job_id = %job.job_id, report_id = %report_id, rows = summary.rows, "report emailed");
    crate::telemetry::exported("report_email", report_type.as_str(), summary.rows, size);
    Ok(())
}
