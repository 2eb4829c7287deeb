//! Emailed reports (SPEC D2, D3, D4): a request answers 202 with a job at once; an export job
//! (the `org-report-email-job` function, triggered by the job item landing in the table's
//! stream; locally an in-process worker calling the same [`run_job`]) builds the workbook in
//! constant memory, streams it to the blob store (multipart), records it in the 24-hour history,
//! audits it, and mails the requester a presigned link plus a link to the history page.
//!
//! Keys: the job `pk = JOB#<job id>`, `sk = JOB` (`gsi1 = EMAIL_JOBS#QUEUED / <requested at>#<id>`
//! while queued, for the local worker); the dedup key `pk = JOBDEDUP#<sha-256 of caller, scope,
//! type and resolved parameters>`, `sk = JOBDEDUP`, pointing at the job for [`DEDUP_WINDOW_MINUTES`].
//!
//! Exactly once: the request creates the dedup key (`attribute_not_exists`, or replacing an
//! expired one on its version) and the job in one transaction, so two identical requests agree
//! on one job. The job is claimed `queued → running` with a write conditioned on the version
//! read: a second delivery of the stream record, or two at the same time, find it claimed (or
//! lose the condition) and do nothing — one file, one email.

use super::config::load_config;
use super::download::{stream_file, write_workbook, ReportType};
use super::history::{Delivery, ReportRecord, ReportState, HISTORY_WINDOW_HOURS};
use super::params::{ParamsInput, ParamsRecord, ReportParams};
use super::ReportScope;
use crate::audit::{audit_op, AuditRecord};
use crate::auth::{Principal, Role};
use crate::deps::Deps;
use crate::export::xlsx::remove_quietly;
use crate::http::Problem;
use crate::ports::{Condition, Index, Item, Key, Query, Store, StoreError, TxOp};
use crate::readmodels::{keys, sort_time, Account};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// How long the same caller asking for the same report with the same parameters gets the
/// same job (from the first request).
pub const DEDUP_WINDOW_MINUTES: i64 = 10;
/// How long the link in the email works. Never longer than the history keeps the report (24 h),
/// and short enough for the signing credentials (a Lambda role's temporary credentials): the
/// email also links to the history page, which presigns a fresh link on demand.
pub const EMAIL_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
/// Attempts of the upload and of the mail send before the job fails.
pub const MAX_ATTEMPTS: u32 = 3;
/// A running job not finished after this long is shown (and treated) as failed: the function
/// times out after 15 minutes, so its worker is gone.
pub const RUNNING_LEASE_MINUTES: i64 = 16;
/// How long a job item is kept (TTL), like the history.
pub const JOB_KEEP_HOURS: i64 = 24;
/// The index partition of queued jobs (gsi1), read by the local worker.
pub const QUEUED_JOBS: &str = "EMAIL_JOBS#QUEUED";

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

/// What a running job is doing (its progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    Queued,
    Building,
    Mailing,
    Finished,
}

/// One email job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailJob {
    pub job_id: String,
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic_id: Option<String>,
    pub report_type: String,
    pub params: ParamsRecord,
    /// The caller's `sub` (an account id; the address is read when mailing, never stored here).
    pub requested_by: String,
    pub requested_role: String,
    pub requested_at: DateTime<Utc>,
    pub state: JobState,
    pub phase: JobPhase,
    /// Rows written, once the workbook is built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The history entry of the generated report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// Why the job failed (no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

/// The dedup key's body: which job a request maps to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DedupEntry {
    job_id: String,
    until: DateTime<Utc>,
}

/// The key of a job item.
pub fn job_key(job_id: &str) -> Key {
    Key::new(format!("JOB#{job_id}"), "JOB")
}

impl EmailJob {
    /// The stored item: in the queued-jobs index while queued, kept 24 hours.
    pub fn item(&self, version: u64) -> Item {
        let key = job_key(&self.job_id);
        let mut item = Item::new(
            key.pk,
            key.sk,
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        )
        .with_version(version)
        .with_expiry((self.requested_at + Duration::hours(JOB_KEEP_HOURS)).timestamp());
        if self.state == JobState::Queued {
            item = item.with_gsi1(
                QUEUED_JOBS,
                format!("{}#{}", sort_time(self.requested_at), self.job_id),
            );
        }
        item
    }

    /// The scope the job reports on.
    pub fn scope(&self) -> ReportScope {
        match &self.clinic_id {
            None => ReportScope::Org {
                org_id: self.org_id.clone(),
            },
            Some(c) => ReportScope::Clinic {
                org_id: self.org_id.clone(),
                clinic_id: c.clone(),
            },
        }
    }

    /// The job as seen at `now`: a running job past its lease has lost its worker and shows as
    /// failed.
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        if self.state == JobState::Running
            && self
                .started_at
                .is_some_and(|s| now >= s + Duration::minutes(RUNNING_LEASE_MINUTES))
        {
            self.state = JobState::Failed;
            self.reason = Some("the job stopped before it finished".into());
        }
        self
    }

    fn visible_in(&self, scope: &ReportScope) -> bool {
        match scope {
            ReportScope::Org { org_id } => &self.org_id == org_id,
            ReportScope::Clinic { org_id, clinic_id } => {
                &self.org_id == org_id && self.clinic_id.as_deref() == Some(clinic_id)
            }
        }
    }

    fn actor(&self) -> Principal {
        Principal {
            sub: self.requested_by.clone(),
            role: Role::parse(&self.requested_role).unwrap_or(Role::OrgReporter),
            orgs: vec![self.org_id.clone()],
            clinics: self.clinic_id.iter().cloned().collect(),
        }
    }
}

/// The answer of an email request and of the job route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    pub job: EmailJob,
    /// Where to follow the job.
    pub status_url: String,
}

fn status_path(job: &EmailJob) -> String {
    match &job.clinic_id {
        None => format!("/orgs/{}/reports/jobs/{}", job.org_id, job.job_id),
        Some(c) => format!("/clinics/{c}/reports/jobs/{}", job.job_id),
    }
}

fn view(job: EmailJob, now: DateTime<Utc>) -> JobView {
    let job = job.as_of(now);
    JobView {
        status_url: status_path(&job),
        job,
    }
}

fn dedup_key(
    actor: &Principal,
    scope: &ReportScope,
    report_type: ReportType,
    p: &ParamsRecord,
) -> Key {
    let mut h = Sha256::new();
    for part in [
        actor.sub.as_str(),
        actor.role.as_str(),
        scope.org_id(),
        scope.clinic_id().unwrap_or("-"),
        report_type.as_str(),
        &p.from.to_string(),
        &p.to.to_string(),
        &p.time_zone,
        &p.min_duration_seconds.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    Key::new(
        format!("JOBDEDUP#{}", hex::encode(h.finalize())),
        "JOBDEDUP",
    )
}

/// The requester's account email, if the caller is an account holder of the organisation.
async fn requester_email(
    store: &dyn Store,
    sub: &str,
    org_id: &str,
) -> Result<Option<String>, StoreError> {
    let Some(item) = store.get(&keys::account(sub)).await? else {
        return Ok(None);
    };
    let account: Account = item.decode()?;
    Ok(
        (account.org_id == org_id && account.deactivated_at.is_none() && !account.email.is_empty())
            .then_some(account.email),
    )
}

/// Handles an email request: validates the parameters (any range up to the longest allowed),
/// and answers the job — a new queued one, or the one the same request made within
/// [`DEDUP_WINDOW_MINUTES`] (unless that one failed). Returns whether the job is new.
pub async fn request_email(
    deps: &Deps,
    actor: &Principal,
    scope: ReportScope,
    report_type: ReportType,
    input: &ParamsInput,
) -> Result<(bool, JobView), Problem> {
    let store = &*deps.store;
    let config = load_config(store, scope.org_id()).await?;
    let params = ReportParams::resolve(input, &config)?.record();
    if requester_email(store, &actor.sub, scope.org_id())
        .await?
        .is_none()
    {
        let mut p = Problem::new(
            422,
            "no-account-email",
            "No email address",
            "the caller is not an active account holder of this organisation with an email address",
        );
        p.field = Some("sub".into());
        return Err(p);
    }
    let dedup = dedup_key(actor, &scope, report_type, &params);
    for _ in 0..8 {
        let now = deps.clock.now();
        let job = EmailJob {
            job_id: crate::ids::new_id("job", now),
            org_id: scope.org_id().to_string(),
            clinic_id: scope.clinic_id().map(str::to_string),
            report_type: report_type.as_str().to_string(),
            params: params.clone(),
            requested_by: actor.sub.clone(),
            requested_role: actor.role.as_str().to_string(),
            requested_at: now,
            state: JobState::Queued,
            phase: JobPhase::Queued,
            row_count: None,
            size_bytes: None,
            report_id: None,
            reason: None,
            started_at: None,
            finished_at: None,
        };
        let until = now + Duration::minutes(DEDUP_WINDOW_MINUTES);
        let existing = store.get(&dedup).await?;
        // Reuse a live entry whose job has not failed; otherwise (re)place the entry, on
        // absence or on the version read: two racing requests agree on one job.
        let condition = match &existing {
            None => Condition::NotExists,
            Some(item) => {
                let entry: DedupEntry = item.decode()?;
                if entry.until > now {
                    match store.get(&job_key(&entry.job_id)).await? {
                        Some(found) => {
                            let found: EmailJob = found.decode()?;
                            let found = found.as_of(now);
                            if found.state != JobState::Failed {
                                return Ok((false, view(found, now)));
                            }
                        }
                        // A live entry's job is written in the same transaction (and kept far
                        // longer): when a reader sees the entry first, it looks again rather
                        // than replacing a job that is landing.
                        None => {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    }
                }
                Condition::VersionIs(item.version)
            }
        };
        let version = existing.as_ref().map_or(1, |i| i.version + 1);
        let entry = Item::new(
            dedup.pk.clone(),
            dedup.sk.clone(),
            serde_json::to_value(DedupEntry {
                job_id: job.job_id.clone(),
                until,
            })
            .unwrap_or(serde_json::Value::Null),
        )
        .with_version(version)
        .with_expiry(until.timestamp());
        let mut audit = AuditRecord::new(
            actor,
            now,
            "report.email_requested",
            &format!("ORG#{}", job.org_id),
            &job.job_id,
        );
        audit.org_id = Some(job.org_id.clone());
        audit.params = serde_json::json!({
            "report_type": job.report_type,
            "clinic_id": job.clinic_id,
            "params": job.params,
        });
        match store
            .transact(vec![
                TxOp::put(entry, condition),
                TxOp::put(job.item(1), Condition::NotExists),
                audit_op(&audit),
            ])
            .await
        {
            Ok(()) => {
                tracing::info!(job_id = %job.job_id, "email job queued");
                return Ok((true, view(job, now)));
            }
            // Another request placed the entry first: read it again.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Problem::conflict("concurrent identical requests; retry"))
}

/// A job of `scope` (404 when missing or another scope's).
pub async fn find_job(deps: &Deps, scope: &ReportScope, job_id: &str) -> Result<JobView, Problem> {
    let item = deps
        .store
        .get(&job_key(job_id))
        .await?
        .ok_or_else(|| Problem::not_found("job"))?;
    let job: EmailJob = item.decode()?;
    if !job.visible_in(scope) {
        return Err(Problem::not_found("job"));
    }
    Ok(view(job, deps.clock.now()))
}

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
async fn backoff(attempt: u32) {
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
    let params = ReportParams::resolve(&input, &config).map_err(|p| p.detail)?;
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
    .map_err(|p| format!("workbook not built: {}", p.detail))?;
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
    let history_url = format!(
        "{}{}",
        deps.settings.platform_base_url.trim_end_matches('/'),
        match &job.clinic_id {
            None => format!("/orgs/{}/reports/history", job.org_id),
            Some(c) => format!("/clinics/{c}/reports/history"),
        }
    );
    let email = crate::ports::Email {
        to,
        subject: format!("Your {} report is ready", report_type.as_str()),
        text: format!(
            "Your {} report for {} to {} ({}) is ready: {} rows.\n\n\
             Download it (this link works for {} minutes):\n{url}\n\n\
             After that, download it again from the report history (kept for {} hours):\n{history_url}\n",
            report_type.as_str(),
            params.from,
            params.to,
            params.zone.name(),
            summary.rows,
            EMAIL_LINK_TTL.as_secs() / 60,
            HISTORY_WINDOW_HOURS,
        ),
        html: None,
    };
    let mut sent = Err("mail not sent".to_string());
    for attempt in 1..=MAX_ATTEMPTS {
        match deps.mailer.send(&email).await {
            Ok(id) => {
                sent = Ok(id);
                break;
            }
            Err(e) => {
                // The service's own message may quote the address: only its kind is kept.
                let kind = match e {
                    crate::ports::MailError::Rejected(_) => "rejected",
                    crate::ports::MailError::Unavailable(_) => "service unavailable",
                    crate::ports::MailError::NotWired(_) => "no mailer wired",
                };
                sent = Err(format!("mail not sent after {attempt} attempts: {kind}"));
                if !e.is_retryable() {
                    break;
                }
                if attempt < MAX_ATTEMPTS {
                    backoff(attempt).await;
                }
            }
        }
    }
    let message_id = sent?;
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
    Ok(())
}

/// The queued jobs, oldest first (the local worker's list; at most `limit`).
pub async fn queued_jobs(store: &dyn Store, limit: usize) -> Result<Vec<String>, StoreError> {
    let page = store
        .query(&Query::partition(Index::Gsi1, QUEUED_JOBS).limit(limit))
        .await?;
    Ok(page
        .items
        .iter()
        .filter_map(|i| i.pk.strip_prefix("JOB#").map(str::to_string))
        .collect())
}

/// The job id of a stream record's keys (`pk = JOB#<id>`, `sk = JOB`), if it is a job item.
pub fn job_id_of_keys(pk: &str, sk: &str) -> Option<String> {
    (sk == "JOB")
        .then(|| pk.strip_prefix("JOB#"))
        .flatten()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: JobState, started_at: Option<DateTime<Utc>>) -> EmailJob {
        let at: DateTime<Utc> = "2026-04-10T00:00:00Z".parse().expect("time");
        EmailJob {
            job_id: "job-1".into(),
            org_id: "org-1".into(),
            clinic_id: None,
            report_type: "consultations".into(),
            params: ParamsRecord {
                from: "2026-04-01".parse().expect("date"),
                to: "2026-04-02".parse().expect("date"),
                time_zone: "UTC".into(),
                min_duration_seconds: 0,
            },
            requested_by: "acc-1".into(),
            requested_role: "org_admin".into(),
            requested_at: at,
            state,
            phase: JobPhase::Queued,
            row_count: None,
            size_bytes: None,
            report_id: None,
            reason: None,
            started_at,
            finished_at: None,
        }
    }

    #[test]
    fn only_queued_jobs_are_in_the_queued_index_and_every_job_expires() {
        let queued = job(JobState::Queued, None).item(1);
        assert_eq!(
            queued.gsi1.as_ref().map(|k| k.pk.as_str()),
            Some(QUEUED_JOBS)
        );
        assert_eq!(
            (queued.pk.as_str(), queued.sk.as_str()),
            ("JOB#job-1", "JOB")
        );
        let running = job(JobState::Running, None).item(2);
        assert_eq!(running.gsi1, None);
        assert_eq!(running.version, 2);
        assert_eq!(
            running.expires_at,
            Some(("2026-04-11T00:00:00Z".parse::<DateTime<Utc>>().expect("t")).timestamp())
        );
    }

    #[test]
    fn a_running_job_past_its_lease_shows_as_failed() {
        let started: DateTime<Utc> = "2026-04-10T00:00:00Z".parse().expect("time");
        let j = job(JobState::Running, Some(started));
        let within = started + Duration::minutes(RUNNING_LEASE_MINUTES) - Duration::seconds(1);
        assert_eq!(j.clone().as_of(within).state, JobState::Running);
        let after = j.as_of(started + Duration::minutes(RUNNING_LEASE_MINUTES));
        assert_eq!(after.state, JobState::Failed);
        assert_eq!(
            after.reason.as_deref(),
            Some("the job stopped before it finished")
        );
    }

    #[test]
    fn dedup_keys_differ_by_caller_scope_type_and_parameters() {
        let j = job(JobState::Queued, None);
        let actor = j.actor();
        let org = ReportScope::Org {
            org_id: "org-1".into(),
        };
        let base = dedup_key(&actor, &org, ReportType::Consultations, &j.params);
        assert_eq!(
            base,
            dedup_key(&actor, &org, ReportType::Consultations, &j.params)
        );
        assert_ne!(
            base,
            dedup_key(&actor, &org, ReportType::Clinics, &j.params)
        );
        let clinic = ReportScope::Clinic {
            org_id: "org-1".into(),
            clinic_id: "cl-1".into(),
        };
        assert_ne!(
            base,
            dedup_key(&actor, &clinic, ReportType::Consultations, &j.params)
        );
        let mut other = actor.clone();
        other.sub = "acc-2".into();
        assert_ne!(
            base,
            dedup_key(&other, &org, ReportType::Consultations, &j.params)
        );
        let mut params = j.params.clone();
        params.min_duration_seconds = 1;
        assert_ne!(
            base,
            dedup_key(&actor, &org, ReportType::Consultations, &params)
        );
    }

    #[test]
    fn stream_keys_name_jobs_only() {
        assert_eq!(job_id_of_keys("JOB#job-1", "JOB").as_deref(), Some("job-1"));
        assert_eq!(job_id_of_keys("JOB#", "JOB"), None);
        assert_eq!(job_id_of_keys("JOBDEDUP#ab", "JOBDEDUP"), None);
        assert_eq!(job_id_of_keys("REPORT#r", "REPORT"), None);
    }
}
