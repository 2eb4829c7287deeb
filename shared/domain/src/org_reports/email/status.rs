//! What the caller sees of an emailed-report job: the job as stored (a job whose runner
//! stopped is taken over or ended by the sweep, which writes what happened) with the route to
//! follow it, and the job route itself (a job of another scope is not found).

use super::job::{job_key, EmailJob};
use crate::deps::Deps;
use crate::error::Error;
use crate::org_reports::ReportScope;
use serde::Serialize;

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

pub(super) fn view(job: EmailJob) -> JobView {
    JobView {
        status_url: status_path(&job),
        job,
    }
}

/// A job of `scope` (404 when missing or another scope's).
pub async fn find_job(deps: &Deps, scope: &ReportScope, job_id: &str) -> Result<JobView, Error> {
    let item = deps
        .store
        .get(&job_key(job_id))
        .await?
        .ok_or(Error::NotFound("job"))?;
    let job: EmailJob = item.decode()?;
    if !job.visible_in(scope) {
        return Err(Error::NotFound("job"));
    }
    Ok(view(job))
}
