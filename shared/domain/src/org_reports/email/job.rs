//! The emailed-report job item: its states and progress, its key and stored form (in the
//! open-jobs index while queued or running, kept 24 hours), what a runner may do with it at a
//! given time (claim it, take it over when its lease expired, end it when it cannot be run
//! again), and how a runner finds it (the job item's keys on the table's stream in AWS; the
//! open-jobs index for the sweep, in AWS on a schedule and locally in the worker).

use crate::auth::{Principal, Role};
use crate::org_reports::params::ParamsRecord;
use crate::org_reports::ReportScope;
use crate::ports::{Index, Item, Key, Query, SkRange, Store, StoreError};
use crate::readmodels::sort_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a claim holds: a running job not finished after this long has lost its runner
/// (the function times out after 15 minutes), and a sweep may take it over.
pub const RUNNING_LEASE_MINUTES: i64 = 16;
/// How many times a job is run (claimed) at most: a job whose runner stopped this many times
/// is not run again but ends failed.
pub const MAX_RUNS: u32 = 3;
/// How long a job item is kept (TTL), like the history.
pub const JOB_KEEP_HOURS: i64 = 24;
/// The index partition of open jobs (gsi1: queued or running), sorted by when each is due to a
/// sweep: a queued job at once, a running one when its lease expires.
pub const OPEN_JOBS: &str = "EMAIL_JOBS#OPEN";

/// The reason of a job whose runner stopped after recording the email's attempt and before
/// recording its outcome: the email may or may not have gone out, and it is never sent twice.
pub const MAYBE_SENT: &str = "the job stopped while sending the email: it may have been sent. \
     Check your inbox; the report is in the history, or ask for it again";

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
    /// How many times the job was claimed (at most [`MAX_RUNS`]).
    #[serde(default)]
    pub runs: u32,
    /// When a runner recorded that it was about to send the email: set before the one send,
    /// so a job found with it but not done is never mailed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_attempted_at: Option<DateTime<Utc>>,
}

/// Whose running jobs a runner may take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// Only those whose lease expired (another runner may still be at work on the others).
    Expired,
    /// Every running job: for a runner that knows no other runner exists (the local server at
    /// start: only one process serves a data directory, so a running job was the last one's).
    All,
}

/// What a runner does with a job it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    /// Claim it and run it.
    Claim,
    /// End it as failed with this reason: it cannot be run again.
    End(String),
    /// Leave it: finished, or running under a live lease.
    Leave,
}

/// The key of a job item.
pub fn job_key(job_id: &str) -> Key {
    Key::new(format!("JOB#{job_id}"), "JOB")
}

impl EmailJob {
    /// A new queued job: `scope`'s report of `report_type` with `params`, asked at `now` by
    /// `requested_by` (an account id) in `requested_role`.
    pub fn queued(
        scope: &ReportScope,
        report_type: &str,
        params: ParamsRecord,
        requested_by: &str,
        requested_role: &str,
        now: DateTime<Utc>,
    ) -> EmailJob {
        EmailJob {
            job_id: crate::ids::new_id("job", now),
            org_id: scope.org_id().to_string(),
            clinic_id: scope.clinic_id().map(str::to_string),
            report_type: report_type.to_string(),
            params,
            requested_by: requested_by.to_string(),
            requested_role: requested_role.to_string(),
            requested_at: now,
            state: JobState::Queued,
            phase: JobPhase::Queued,
            row_count: None,
            size_bytes: None,
            report_id: None,
            reason: None,
            started_at: None,
            finished_at: None,
            runs: 0,
            email_attempted_at: None,
        }
    }

    /// The stored item: in the open-jobs index while queued or running, kept 24 hours.
    pub fn item(&self, version: u64) -> Item {
        let key = job_key(&self.job_id);
        let mut item = Item::new(
            key.pk,
            key.sk,
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        )
        .with_version(version)
        .with_expiry((self.requested_at + Duration::hours(JOB_KEEP_HOURS)).timestamp());
        let due = match self.state {
            JobState::Queued => Some(self.requested_at),
            JobState::Running => Some(self.lease_end()),
            JobState::Done | JobState::Failed => None,
        };
        if let Some(due) = due {
            item = item.with_gsi1(OPEN_JOBS, format!("{}#{}", sort_time(due), self.job_id));
        }
        item
    }

    /// When the current claim's lease ends (a running job's).
    fn lease_end(&self) -> DateTime<Utc> {
        self.started_at.unwrap_or(self.requested_at) + Duration::minutes(RUNNING_LEASE_MINUTES)
    }

    /// Whether the job is still to be delivered at `now`: queued, running under a live lease,
    /// or done. A failed job, or a running one whose runner is gone, is not.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        match self.state {
            JobState::Queued | JobState::Done => true,
            JobState::Running => now < self.lease_end(),
            JobState::Failed => false,
        }
    }

    /// What a runner at `now` does with the job: a queued one is claimed; a running one whose
    /// lease expired (or any running one, with [`Takeover::All`]) is claimed again, unless its
    /// email was already attempted (it ends with [`MAYBE_SENT`]) or it ran [`MAX_RUNS`] times.
    pub(super) fn next(&self, now: DateTime<Utc>, takeover: Takeover) -> Next {
        match self.state {
            JobState::Queued => Next::Claim,
            JobState::Running if takeover == Takeover::All || !self.is_live(now) => {
                if self.email_attempted_at.is_some() {
                    Next::End(MAYBE_SENT.into())
                } else if self.runs >= MAX_RUNS {
                    Next::End(format!(
                        "the job stopped before it finished, {} times",
                        self.runs
                    ))
                } else {
                    Next::Claim
                }
            }
            JobState::Running | JobState::Done | JobState::Failed => Next::Leave,
        }
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

/// The open jobs due to a sweep at `now`, the longest due first (at most `limit`): queued
/// ones, and running ones whose lease expired — every running one with [`Takeover::All`].
pub async fn due_jobs(
    store: &dyn Store,
    now: DateTime<Utc>,
    takeover: Takeover,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut query = Query::partition(Index::Gsi1, OPEN_JOBS).limit(limit);
    if takeover == Takeover::Expired {
        query = query.range(SkRange::AtMost(format!("{}#~", sort_time(now))));
    }
    let page = store.query(&query).await?;
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
            runs: u32::from(started_at.is_some()),
            email_attempted_at: None,
        }
    }

    #[test]
    fn open_jobs_are_indexed_by_when_a_sweep_is_due_and_every_job_expires() {
        let queued = job(JobState::Queued, None).item(1);
        let index = queued.gsi1.as_ref().expect("indexed while queued");
        assert_eq!(
            (index.pk.as_str(), index.sk.as_str()),
            (OPEN_JOBS, "2026-04-10T00:00:00.000Z#job-1")
        );
        assert_eq!(
            (queued.pk.as_str(), queued.sk.as_str()),
            ("JOB#job-1", "JOB")
        );
        let started: DateTime<Utc> = "2026-04-10T00:05:00Z".parse().expect("time");
        let running = job(JobState::Running, Some(started)).item(2);
        assert_eq!(
            running.gsi1.as_ref().map(|k| k.sk.as_str()),
            Some("2026-04-10T00:21:00.000Z#job-1"),
            "due when the lease ends"
        );
        assert_eq!(running.version, 2);
        assert_eq!(
            running.expires_at,
            Some(("2026-04-11T00:00:00Z".parse::<DateTime<Utc>>().expect("t")).timestamp())
        );
        assert_eq!(job(JobState::Done, Some(started)).item(3).gsi1, None);
        assert_eq!(job(JobState::Failed, Some(started)).item(3).gsi1, None);
    }

    #[test]
    fn a_running_job_is_taken_over_when_its_lease_expires_up_to_the_runs_allowed() {
        let started: DateTime<Utc> = "2026-04-10T00:00:00Z".parse().expect("time");
        let lease_end = started + Duration::minutes(RUNNING_LEASE_MINUTES);
        let within = lease_end - Duration::seconds(1);
        let mut j = job(JobState::Running, Some(started));
        assert!(j.is_live(within));
        assert!(!j.is_live(lease_end));
        assert_eq!(j.next(within, Takeover::Expired), Next::Leave);
        assert_eq!(j.next(within, Takeover::All), Next::Claim);
        assert_eq!(j.next(lease_end, Takeover::Expired), Next::Claim);
        j.runs = MAX_RUNS;
        assert_eq!(
            j.next(lease_end, Takeover::Expired),
            Next::End("the job stopped before it finished, 3 times".into())
        );
        assert_eq!(
            job(JobState::Queued, None).next(within, Takeover::Expired),
            Next::Claim
        );
        for state in [JobState::Done, JobState::Failed] {
            let finished = job(state, Some(started));
            assert_eq!(finished.next(lease_end, Takeover::All), Next::Leave);
            assert_eq!(finished.is_live(lease_end), state == JobState::Done);
        }
    }

    #[test]
    fn a_job_whose_email_was_attempted_is_never_claimed_again() {
        let started: DateTime<Utc> = "2026-04-10T00:00:00Z".parse().expect("time");
        let mut j = job(JobState::Running, Some(started));
        j.email_attempted_at = Some(started + Duration::minutes(1));
        let later = started + Duration::minutes(RUNNING_LEASE_MINUTES);
        assert_eq!(
            j.next(later, Takeover::Expired),
            Next::End(MAYBE_SENT.into())
        );
        assert_eq!(j.next(started, Takeover::All), Next::End(MAYBE_SENT.into()));
        assert_eq!(j.next(started, Takeover::Expired), Next::Leave);
    }

    #[test]
    fn stream_keys_name_jobs_only() {
        assert_eq!(job_id_of_keys("JOB#job-1", "JOB").as_deref(), Some("job-1"));
        assert_eq!(job_id_of_keys("JOB#", "JOB"), None);
        assert_eq!(job_id_of_keys("JOBDEDUP#ab", "JOBDEDUP"), None);
        assert_eq!(job_id_of_keys("REPORT#r", "REPORT"), None);
    }
}
