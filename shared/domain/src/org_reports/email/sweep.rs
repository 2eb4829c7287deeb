//! The sweep of emailed-report jobs (SPEC Q6): queues the runs of the scheduled reports due
//! (D7), then runs the open jobs due at `now` — a queued job
//! whose stream record never came (or was given up on), a running job whose runner stopped —
//! through the same runner as a stream delivery. In AWS the job function runs it on a
//! schedule; locally the worker runs it at start ([`Takeover::All`]) and every second.

use super::job::{due_jobs, Takeover};
use super::run::{run_job_with, JobOutcome};
use crate::deps::Deps;
use crate::ports::StoreError;
use std::path::Path;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Jobs this sweep ran to `done`.
    pub done: usize,
    /// Jobs that ended failed (run and failed, or ended without running again).
    pub failed: usize,
    /// Jobs left alone (finished or claimed by another runner meanwhile).
    pub skipped: usize,
    /// Jobs whose state could not be read or written (found again by a later sweep).
    pub retry: usize,
    /// Runs of scheduled reports this sweep queued ([`super::schedule::sweep_schedules`]).
    pub scheduled_runs: usize,
}

/// Runs, one after the other, up to `batch` of the jobs due (the longest due first).
pub async fn sweep(
    deps: &Deps,
    tempdir: &Path,
    takeover: Takeover,
    batch: usize,
) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    // The schedules due first: their runs are jobs this sweep then finds.
    let runs = super::schedule::sweep_schedules(&*deps.store, deps.clock.now(), batch).await?;
    swept.scheduled_runs = runs.runs;
    for job_id in due_jobs(&*deps.store, deps.clock.now(), takeover, batch).await? {
        match run_job_with(deps, &job_id, tempdir, takeover).await {
            Ok(JobOutcome::Done) => swept.done += 1,
            Ok(JobOutcome::Failed(_)) => swept.failed += 1,
            Ok(JobOutcome::Skipped) => swept.skipped += 1,
            Err(e) => {
                tracing::error!(job_id = %job_id, error = %e, "swept job to be run again");
                swept.retry += 1;
            }
        }
    }
    Ok(swept)
}
