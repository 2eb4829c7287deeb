//! The mail of an emailed report: its recipient (the requester's account address, read when
//! mailing and never stored on the job), its text (a presigned link, and the history page for
//! after the link expires), and its sending, tried again only while the service answers that
//! it did not take the message.

use super::job::EmailJob;
use super::run::{backoff, MAX_ATTEMPTS};
use crate::org_reports::download::ReportType;
use crate::org_reports::history::HISTORY_WINDOW_HOURS;
use crate::org_reports::params::ReportParams;
use crate::ports::{Email, MailError, Mailer, Store, StoreError};
use crate::readmodels::{keys, Account};

/// How long the link in the email works. Never longer than the history keeps the report (24 h),
/// and short enough for the signing credentials (a Lambda role's temporary credentials): the
/// email also links to the history page, which presigns a fresh link on demand.
pub const EMAIL_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The requester's account email, if the caller is an account holder of the organisation.
pub(super) async fn requester_email(
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

/// The report history page of the job's scope on the platform (the mail's second link).
pub(super) fn history_url(platform_base_url: &str, job: &EmailJob) -> String {
    format!(
        "{}{}",
        platform_base_url.trim_end_matches('/'),
        match &job.clinic_id {
            None => format!("/orgs/{}/reports/history", job.org_id),
            Some(c) => format!("/clinics/{c}/reports/history"),
        }
    )
}

/// The mail telling the requester the report is ready: `url` works for [`EMAIL_LINK_TTL`],
/// the history page for as long as the history keeps the report.
pub(super) fn ready_email(
    to: String,
    report_type: ReportType,
    params: &ReportParams,
    rows: u64,
    url: &str,
    history_url: &str,
) -> Email {
    Email {
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
            rows,
            EMAIL_LINK_TTL.as_secs() / 60,
            HISTORY_WINDOW_HOURS,
        ),
        html: None,
    }
}

/// The reason of a job whose one send got no answer from the mail service.
pub(super) const NO_ANSWER: &str = "the mail service did not confirm the email: it may have \
     been sent. Check your inbox; the report is in the history, or ask for it again";

/// Sends `email`, up to [`MAX_ATTEMPTS`] times while the service answers that it did not take
/// it (a send that may have reached it is never repeated): the message id, or why the mail was
/// not (or may not have been) sent.
pub(super) async fn send(mailer: &dyn Mailer, email: &Email) -> Result<String, String> {
    let mut sent = Err("mail not sent".to_string());
    for attempt in 1..=MAX_ATTEMPTS {
        match mailer.send(email).await {
            Ok(id) => {
                sent = Ok(id);
                break;
            }
            Err(e) => {
                // The service's own message may quote the address: only its kind is kept.
                let kind = match e {
                    MailError::Uncertain(_) => return Err(NO_ANSWER.to_string()),
                    MailError::Rejected(_) => "rejected",
                    MailError::Unavailable(_) => "service unavailable",
                    MailError::NotWired(_) => "no mailer wired",
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
    sent
}
