//! Emailed reports (SPEC D2, D3, D4): a request answers 202 with a job at once; an export job
//! (the `org-report-email-job` function, triggered by the job item landing in the table's
//! stream; locally an in-process worker calling the same [`run_job`]) builds the workbook in
//! constant memory, streams it to the blob store (multipart), records it in the 24-hour history,
//! audits it, and mails the requester a presigned link plus a link to the history page.
//!
//! Keys: the job `pk = JOB#<job id>`, `sk = JOB` (`gsi1 = EMAIL_JOBS#OPEN / <due at>#<id>` while
//! queued or running, for the sweep); the dedup key `pk = JOBDEDUP#<sha-256 of caller, scope,
//! type and resolved parameters>`, `sk = JOBDEDUP`, pointing at the job for [`DEDUP_WINDOW_MINUTES`].
//!
//! Exactly once: the request creates the dedup key (`attribute_not_exists`, or replacing an
//! expired one on its version) and the job in one transaction, so two identical requests agree
//! on one job. The job is claimed `queued → running` with a write conditioned on the version
//! read: a second delivery of the stream record, or two at the same time, find it claimed (or
//! lose the condition) and do nothing.
//!
//! Jobs always end (SPEC Q6): a queued job whose stream record was lost, and a running one
//! whose runner stopped (its lease expired), are found by the [`sweep`] (a schedule in AWS, the
//! local worker at start and every second) and run again, up to [`MAX_RUNS`] runs, then end
//! failed with a reason; at most one email per job (the attempt is recorded before the send).
//!
//! Modules: `request` (the request and its dedup), `job` (the job item, its states, its lease
//! and its keys), `run` (the job runner), `sweep` (finding the jobs to run), `mail` (the
//! recipient, text and sending of the mail), `status` (the job as the caller sees it) and
//! [`schedule`] (scheduled reports, whose runs are jobs).

mod job;
mod mail;
mod request;
mod run;
pub mod schedule;
mod status;
mod sweep;

pub use job::{
    due_jobs, job_id_of_keys, job_key, EmailJob, JobPhase, JobState, Takeover, JOB_KEEP_HOURS,
    MAX_RUNS, MAYBE_SENT, OPEN_JOBS, RUNNING_LEASE_MINUTES,
};
pub use mail::EMAIL_LINK_TTL;
pub use request::{request_email, DEDUP_WINDOW_MINUTES};
pub use run::{run_job, run_job_with, JobOutcome, RetryableJobError, MAX_ATTEMPTS};
pub use status::{find_job, JobView};
pub use sweep::{sweep, Swept};
