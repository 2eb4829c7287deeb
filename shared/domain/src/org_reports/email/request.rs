//! The request of an emailed report (SPEC D2): the parameters checked, the requester's
//! address required, and the job queued at once — or, within the dedup window, the job an
//! identical request already made (the dedup key and the job written in one transaction, so
//! two identical requests agree on one job).

use super::job::{job_key, EmailJob};
use super::mail::requester_email;
use super::status::{view, JobView};
use crate::audit::{audit_op, AuditRecord};
use crate::auth::Principal;
use crate::deps::Deps;
use crate::error::Error;
use crate::org_reports::config::load_config;
use crate::org_reports::download::ReportType;
use crate::org_reports::params::{ParamsInput, ParamsRecord, ReportParams};
use crate::org_reports::ReportScope;
use crate::ports::{Condition, Item, Key, StoreError, TxOp};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long the same caller asking for the same report with the same parameters gets the
/// same job (from the first request).
pub const DEDUP_WINDOW_MINUTES: i64 = 10;

/// The dedup key's body: which job a request maps to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DedupEntry {
    job_id: String,
    until: DateTime<Utc>,
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

/// Handles an email request: validates the parameters (any range up to the longest allowed),
/// and answers the job — a new queued one, or the one the same request made within
/// [`DEDUP_WINDOW_MINUTES`] if that one is live (queued, running under its lease, or done): a
/// queued or running job is still to end (the sweep runs it if its record or runner is lost),
/// a failed one is replaced. Returns whether the job is new.
pub async fn request_email(
    deps: &Deps,
    actor: &Principal,
    scope: ReportScope,
    report_type: ReportType,
    input: &ParamsInput,
) -> Result<(bool, JobView), Error> {
    let store = &*deps.store;
    let config = load_config(store, scope.org_id()).await?;
    let params = ReportParams::resolve(input, &config)?.record();
    if requester_email(store, &actor.sub, scope.org_id())
        .await?
        .is_none()
    {
        return Err(Error::Refused {
            kind: "no-account-email",
            title: "No email address",
            detail: "the caller is not an active account holder of this organisation with an \
                     email address"
                .into(),
            field: Some("sub"),
            reason: None,
        });
    }
    let dedup = dedup_key(actor, &scope, report_type, &params);
    for _ in 0..8 {
        let now = deps.clock.now();
        let job = EmailJob::queued(
            &scope,
            report_type.as_str(),
            params.clone(),
            &actor.sub,
            actor.role.as_str(),
            now,
        );
        let until = now + Duration::minutes(DEDUP_WINDOW_MINUTES);
        let existing = store.get(&dedup).await?;
        // Reuse a live entry whose job is live; otherwise (re)place the entry, on absence or on
        // the version read: two racing requests agree on one job.
        let condition = match &existing {
            None => Condition::NotExists,
            Some(item) => {
                let entry: DedupEntry = item.decode()?;
                if entry.until > now {
                    match store.get(&job_key(&entry.job_id)).await? {
                        Some(found) => {
                            let found: EmailJob = found.decode()?;
                            if found.is_live(now) {
                                return Ok((false, view(found)));
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
        let audit = AuditRecord::in_org(
            actor,
            now,
            "report.email_requested",
            &job.org_id,
            &job.job_id,
            serde_json::json!({
                "report_type": job.report_type,
                "clinic_id": job.clinic_id,
                "params": job.params,
            }),
        );
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
                return Ok((true, view(job)));
            }
            // Another request placed the entry first: read it again.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict(
        "concurrent identical requests; retry".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::job::JobState;
    use super::*;
    use crate::org_reports::email::job::tests::job;

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
}
