//! The emailed-report job runner (SPEC D2, D4, Q6): a delivery claims the job on its version
//! (a second delivery finds it claimed and does nothing; a runner whose lease expired is taken
//! over, up to [`super::MAX_RUNS`] runs), builds the workbook in constant memory, uploads it, records
//! it in the history with its audit record, records the email's attempt, mails the link once,
//! and writes each step's state on the job, each write on the version the runner holds (a
//! runner taken over stops at its next write). An upload, or a send the service refused, is
//! tried a few times.
//!
//! At most one email per job: the attempt is written before the one send, and a job found with
//! an attempt but not done is ended ([`super::MAYBE_SENT`]), never mailed again. A run taken over
//! after the report was recorded mails that report: one file per job.

use super::job::{job_key, EmailJob, JobPhase, JobState, Next, Takeover};
use super::mail::{history_url, ready_email, requester_email, send, EMAIL_LINK_TTL};
use crate::audit::{audit_op, AuditRecord};
use crate::deps::Deps;
use crate::export::xlsx::remove_quietly;
use crate::org_reports::about::{about_lines, Requester};
use crate::org_reports::config::load_config;
use crate::org_reports::download::{stream_file, write_workbook, ReportType};
use crate::org_reports::history::{
    report_key, Delivery, ReportRecord, ReportState, HISTORY_WINDOW_HOURS,
};
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
    /// This delivery ran the job, or ended one that cannot run again, and it failed for good
    /// (reason recorded on the job).
    Failed(String),
    /// The job was finished, gone, running under another runner's lease, or taken over by
    /// another runner while this one ran: nothing (more) done.
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

/// Why a run stopped before the job was done.
enum Stop {
    /// The job failed for good, for this reason.
    Failed(String),
    /// Another runner took the job over (a write on the held version failed its condition):
    /// this run writes nothing more.
    TakenOver,
}

impl From<String> for Stop {
    fn from(reason: String) -> Self {
        Stop::Failed(reason)
    }
}

impl From<&str> for Stop {
    fn from(reason: &str) -> Self {
        Stop::Failed(reason.to_string())
    }
}

fn store_failed(e: StoreError) -> Stop {
    match e {
        StoreError::ConditionFailed { .. } => Stop::TakenOver,
        e => Stop::Failed(format!("store failed: {e}")),
    }
}

/// Runs one job as a delivery of its stream record does: see [`run_job_with`] with
/// [`Takeover::Expired`].
pub async fn run_job(
    deps: &Deps,
    job_id: &str,
    tempdir: &Path,
) -> Result<JobOutcome, RetryableJobError> {
    run_job_with(deps, job_id, tempdir, Takeover::Expired).await
}

/// Runs one job: claims it (`queued → running`, or a running one `takeover` allows, on its
/// version), builds and uploads the workbook, records it in the history, audits, records the
/// email's attempt, mails the link, and marks it done — or failed with its reason when the
/// upload or the mail send fails [`MAX_ATTEMPTS`] times (then no mail goes out), or when the
/// job cannot run again (see [`EmailJob`]'s `next`). A job finished, missing, or running under
/// a live lease is left alone.
pub async fn run_job_with(
    deps: &Deps,
    job_id: &str,
    tempdir: &Path,
    takeover: Takeover,
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
    let now = deps.clock.now();
    let mut version = item.version;
    match job.next(now, takeover) {
        Next::Leave => return Ok(JobOutcome::Skipped),
        Next::End(reason) => {
            job.state = JobState::Failed;
            job.reason = Some(reason.clone());
            job.finished_at = Some(now);
            return match write_step(store, &job, &mut version).await {
                Ok(()) => {
                    tracing::warn!(job_id, reason = %reason, "email job failed");
                    crate::telemetry::job_finished(
                        "org_report_email",
                        "failed",
                        std::time::Duration::ZERO,
                    );
                    Ok(JobOutcome::Failed(reason))
                }
                Err(StoreError::ConditionFailed { .. }) => Ok(JobOutcome::Skipped),
                Err(e) => Err(retry(e.to_string())),
            };
        }
        Next::Claim => {}
    }
    let resumed = job.report_id.is_some();
    job.state = JobState::Running;
    job.phase = if resumed {
        JobPhase::Mailing
    } else {
        JobPhase::Building
    };
    job.started_at = Some(now);
    job.runs += 1;
    match write_step(store, &job, &mut version).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(JobOutcome::Skipped),
        Err(e) => return Err(retry(e.to_string())),
    }
    tracing::info!(job_id, run = job.runs, "email job claimed");
    let started = std::time::Instant::now();
    let (outcome, emailed) = match execute(deps, &mut job, &mut version, tempdir).await {
        Ok(emailed) => {
            job.state = JobState::Done;
            job.phase = JobPhase::Finished;
            (JobOutcome::Done, Some(emailed))
        }
        Err(Stop::TakenOver) => {
            tracing::warn!(job_id, "email job taken over by another runner");
            return Ok(JobOutcome::Skipped);
        }
        Err(Stop::Failed(reason)) => {
            tracing::warn!(job_id, reason = %reason, "email job failed");
            job.state = JobState::Failed;
            job.reason = Some(reason.clone());
            (JobOutcome::Failed(reason), None)
        }
    };
    job.finished_at = Some(deps.clock.now());
    // The outcome, with the `report.emailed` audit record in the same transaction, must not be
    // lost to a transient store failure: a mail that went out and a job left running would end
    // as "may have been sent".
    let mut attempt = 1;
    loop {
        let mut ops = vec![TxOp::put(
            job.item(version + 1),
            Condition::VersionIs(version),
        )];
        ops.extend(emailed.iter().map(audit_op));
        match store.transact(ops).await {
            Ok(()) => break,
            Err(StoreError::ConditionFailed { .. }) => return Ok(JobOutcome::Skipped),
            Err(e) if attempt == MAX_ATTEMPTS => return Err(retry(e.to_string())),
            Err(_) => {
                backoff(attempt).await;
                attempt += 1;
            }
        }
    }
    let ended = if outcome == JobOutcome::Done {
        "done"
    } else {
        "failed"
    };
    crate::telemetry::job_finished("org_report_email", ended, started.elapsed());
    Ok(outcome)
}

/// Writes the job's next state on the version it holds.
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

/// The report a job mails: its history entry's id, object, file name and rows.
struct Built {
    report_id: String,
    object_key: String,
    file_name: String,
    rows: u64,
}

/// Runs a claimed job to its sent email: the `report.emailed` audit record to write with the
/// job's outcome.
async fn execute(
    deps: &Deps,
    job: &mut EmailJob,
    version: &mut u64,
    tempdir: &Path,
) -> Result<AuditRecord, Stop> {
    let store = &*deps.store;
    let report_type = ReportType::parse(&job.report_type).map_err(|_| "unknown report type")?;
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
    let built = match job.report_id.clone() {
        // An earlier run recorded the report and stopped before mailing: mail that one.
        Some(report_id) => recorded(store, &report_id).await?,
        None => {
            let now = deps.clock.now();
            let report_id = crate::ids::new_id("rep", now);
            let requester = Requester {
                account_id: &job.requested_by,
                at: now,
            };
            let about = about_lines(
                store,
                &job.scope(),
                report_type,
                &params,
                &config,
                requester,
            )
            .await
            .map_err(store_failed)?;
            let (path, summary) = write_workbook(
                store,
                &job.scope(),
                report_type,
                &params,
                &config,
                tempdir,
                &report_id,
                None,
                about,
            )
            .await
            .map_err(|e| format!("workbook not built: {e}"))?;
            let object_key = format!("reports/{report_id}.xlsx");
            let uploaded = upload(deps, &path, &object_key).await;
            remove_quietly(&path);
            let built = Built {
                file_name: format!(
                    "{}_{}_{}.xlsx",
                    report_type.as_str(),
                    params.from,
                    params.to
                ),
                report_id,
                object_key,
                rows: summary.rows,
            };
            record(deps, job, version, &built, uploaded?).await?;
            built
        }
    };
    mail(deps, job, version, report_type, &params, built).await
}

/// Streams the workbook at `path` to `object_key`, up to [`MAX_ATTEMPTS`] times: its size.
async fn upload(deps: &Deps, path: &Path, object_key: &str) -> Result<u64, String> {
    let mut uploaded = Err("not uploaded".to_string());
    for attempt in 1..=MAX_ATTEMPTS {
        // A failed part aborts its multipart upload (stream_file); the next attempt starts over.
        match stream_file(&*deps.blobs, path, object_key).await {
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
    uploaded
}

/// The report an earlier run of the job recorded in the history.
async fn recorded(store: &dyn Store, report_id: &str) -> Result<Built, Stop> {
    let record: ReportRecord = store
        .get(&report_key(report_id))
        .await
        .map_err(store_failed)?
        .ok_or("the report is no longer in the history")?
        .decode()
        .map_err(store_failed)?;
    Ok(Built {
        object_key: record.object_key.ok_or("the report has no file")?,
        report_id: record.report_id,
        file_name: record.file_name,
        rows: record.row_count.unwrap_or(0),
    })
}

/// Records the uploaded report in the history with its audit record and the job's `mailing`
/// phase, in one transaction (the object is removed when that fails).
async fn record(
    deps: &Deps,
    job: &mut EmailJob,
    version: &mut u64,
    built: &Built,
    size: u64,
) -> Result<(), Stop> {
    let now = deps.clock.now();
    let record = ReportRecord {
        report_id: built.report_id.clone(),
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
        row_count: Some(built.rows),
        object_key: Some(built.object_key.clone()),
        file_name: built.file_name.clone(),
        expires_at: now + Duration::hours(HISTORY_WINDOW_HOURS),
    };
    let mut audit = AuditRecord::in_org(
        &job.actor(),
        now,
        "report.generated",
        &job.org_id,
        &built.report_id,
        serde_json::json!({
            "report_type": job.report_type,
            "clinic_id": job.clinic_id,
            "params": job.params,
            "size_bytes": size,
            "job_id": job.job_id,
            "delivery": "email",
        }),
    );
    audit.row_count = Some(built.rows);
    audit.object_key = Some(built.object_key.clone());
    job.phase = JobPhase::Mailing;
    job.row_count = Some(built.rows);
    job.size_bytes = Some(size);
    job.report_id = Some(built.report_id.clone());
    let recorded = deps
        .store
        .transact(vec![
            TxOp::put(record.item(), Condition::NotExists),
            audit_op(&audit),
            TxOp::put(job.item(*version + 1), Condition::VersionIs(*version)),
        ])
        .await;
    if let Err(e) = recorded {
        let _ = deps.blobs.delete(&built.object_key).await;
        return Err(store_failed(e));
    }
    *version += 1;
    Ok(())
}

/// Mails the report's link to the requester: records the attempt on the job first (a runner
/// taken over by then sends nothing), then sends once; answers the message's audit record.
async fn mail(
    deps: &Deps,
    job: &mut EmailJob,
    version: &mut u64,
    report_type: ReportType,
    params: &ReportParams,
    built: Built,
) -> Result<AuditRecord, Stop> {
    let store = &*deps.store;
    let to = requester_email(store, &job.requested_by, &job.org_id)
        .await
        .map_err(store_failed)?
        .ok_or("the requester has no active account with an email address")?;
    let url = deps
        .blobs
        .presign_get(&built.object_key, EMAIL_LINK_TTL, &built.file_name)
        .await
        .map_err(|e| format!("link not signed: {e}"))?;
    let history_url = history_url(&deps.settings.platform_base_url, job);
    let email = ready_email(to, report_type, params, built.rows, &url, &history_url);
    job.email_attempted_at = Some(deps.clock.now());
    write_step(store, job, version)
        .await
        .map_err(store_failed)?;
    let message_id = send(&*deps.mailer, &email).await?;
    let mut audit = AuditRecord::in_org(
        &job.actor(),
        deps.clock.now(),
        "report.emailed",
        &job.org_id,
        &built.report_id,
        serde_json::json!({
            "report_type": job.report_type,
            "clinic_id": job.clinic_id,
            "job_id": job.job_id,
            "message_id": message_id,
            "link_ttl_seconds": EMAIL_LINK_TTL.as_secs(),
        }),
    );
    audit.row_count = Some(built.rows);
    audit.object_key = Some(built.object_key);
    tracing::info!(job_id = %job.job_id, report_id = %built.report_id, rows = built.rows, "report emailed");
    crate::telemetry::exported(
        "report_email",
        report_type.as_str(),
        built.rows,
        job.size_bytes.unwrap_or(0),
    );
    Ok(audit)
}
