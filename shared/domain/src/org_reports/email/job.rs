//! The emailed-report job item: its states and progress, its key and stored form (in the
//! queued-jobs index while queued, kept 24 hours), how it reads at a given time (a running job
//! past its lease has failed), and how a worker finds it (the queued index locally, the job
//! item's keys on the table's stream in AWS).

use crate::auth::{Principal, Role};
use crate::org_reports::params::ParamsRecord;
use crate::org_reports::ReportScope;
use crate::ports::{Index, Item, Key, Query, Store, StoreError};
use crate::readmodels::sort_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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

    pub(super) fn visible_in(&self, scope: &ReportScope) -> bool {
        match scope {
            ReportScope::Org { org_id } => &self.org_id == org_id,
            ReportScope::Clinic { org_id, clinic_id } => {
                &self.org_id == org_id && self.clinic_id.as_deref() == Some(clinic_id)
            }
        }
    }

    pub(super) fn actor(&self) -> Principal {
        Principal {
            sub: self.requested_by.clone(),
            role: Role::parse(&self.requested_role).unwrap_or(Role::OrgReporter),
            orgs: vec![self.org_id.clone()],
            clinics: self.clinic_id.iter().cloned().collect(),
        }
    }
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
pub(super) mod tests {
    use super::*;

    pub(in crate::org_reports::email) fn job(
        state: JobState,
        started_at: Option<DateTime<Utc>>,
    ) -> EmailJob {
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
    fn stream_keys_name_jobs_only() {
        assert_eq!(job_id_of_keys("JOB#job-1", "JOB").as_deref(), Some("job-1"));
        assert_eq!(job_id_of_keys("JOB#", "JOB"), None);
        assert_eq!(job_id_of_keys("JOBDEDUP#ab", "JOBDEDUP"), None);
        assert_eq!(job_id_of_keys("REPORT#r", "REPORT"), None);
    }
}
