//! Referrals (SPEC B1–B9): a practitioner refers a patient to another practitioner (the
//! specialist), through the patient's approval when the deployment asks for it, to the
//! specialist's decision; the threads and system messages of every step land in the thread
//! model the Feed reads.
//!
//! # Settings (B2)
//!
//! From [`crate::deps::Settings`] (environment `REFERRAL_PATIENT_APPROVAL`,
//! `REFERRAL_BOOKING_PROMPT`, `PLATFORM_BASE_URL`; template parameters of the same names):
//! - `referral_patient_approval`: a new referral waits for the patient (`pending_patient`);
//!   off, it goes to the specialist at once (`pending_specialist`). Recorded on each referral
//!   when it is made, so changing the setting never strands one in flight.
//! - `referral_booking_prompt`: on acceptance, the patient's approved-referral message carries
//!   a link to `{platform_base_url}/practitioners/{specialist id}` (profile and calendar) when
//!   the specialist has a practice in the scheduling portal; otherwise no prompt.
//!
//! # State machine (B7)
//!
//! ```text
//!                 approval on                       approval off
//!   (create) ───────────────► pending_patient    (create) ───► pending_specialist
//!                               │ patient: reject ──► patient_rejected (final)
//!                               │ patient: accept
//!                               ▼
//!                         pending_specialist
//!                               │ specialist: accept ──► accepted (final)
//!                               │ specialist: reject ──► rejected (final)
//!
//!   pending_patient, pending_specialist ── referrer: withdraw ──► withdrawn (final)
//!   pending_patient, pending_specialist ── expiry time reached (sweep) ──► expired (final)
//! ```
//!
//! - Withdrawal and expiry (B9): the referrer withdraws while the referral is pending; a
//!   pending referral expires `referral_expiry` after its creation (the setting when it was
//!   made, `expires_at`), through the scheduled sweep ([`flow::expire_due`]) that reads the
//!   pending referrals in expiry order from an index, never a scan. Both are transitions like
//!   a decision (same transaction, same conditional write), so a decision racing either has
//!   exactly one winner.
//! - Ageing (B11, [`ageing`]): every transition also updates, in its transaction, counters per
//!   state and a histogram of stays per group (all, specialty, specialist), which the admin
//!   report reads instead of the referrals.
//!
//! - Only the named party takes a step: the patient of the referral decides in
//!   `pending_patient`, its specialist in `pending_specialist`. Another party of the referral
//!   gets 403; a caller who is no party at all gets 404 (the same as an unknown id, S3).
//! - A step in any other state answers 409 and changes nothing.
//! - Each transition (who, role, when, from, to) is kept in the referral and written to the
//!   audit trail (D4) in the same transaction as the referral itself.
//! - Exactly one of concurrent conflicting decisions wins: the referral is written on the
//!   version it was read at; the others read again and answer 409.
//! - A request sent again with the same `Idempotency-Key` (per caller and step) gets the first
//!   answer, stored in the same transaction; the same key with another request is 422. Answers
//!   are stored only for requests that changed something: a refusal changes nothing and is
//!   answered afresh.
//! - The threads and messages of a step land after its transaction (through ingest, each
//!   event once). Should that fail, the step is still taken; a retry — with the same key (the
//!   stored answer) or without (409) — lands what is missing.
//! - The specialist's decline names a reason (B8, [`model::DeclineReason`]): a code of a closed
//!   list, with a few words of text (required for `other`, at most
//!   [`flow::MAX_REASON_TEXT_CHARS`] characters). It is kept on the decline's transition; the
//!   same decline with another reason is a conflict (409), not a retry.
//! - No self-referral; the specialist must be an approved practitioner; the patient must exist
//!   and have a thread with the referrer (all 400, naming the field).
//!
//! # Who sees what
//!
//! - The referrer sees every state. The specialist sees the referral once it has reached them
//!   (`pending_specialist` and after). The patient sees it when they were asked, or once it is
//!   accepted; the specialist's refusal is never shown to them (their view stays at
//!   `pending_specialist`), nor is the referrer's note, nor the specialist's decline reason
//!   (the referrer and the specialist see it; system messages and the audit trail carry at
//!   most its code, never its text).
//! - Messages: see [`threads`].
//!
//! Items and keys: `docs/dynamodb.md`, section "Referrals".

pub mod ageing;
pub mod delivery;
mod expiry;
pub mod flow;
pub mod model;
pub mod search;
pub mod threads;

use crate::error::Error;
use crate::ports::StoreError;

/// Why a referral request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReferralError {
    /// Bad input (400), naming the field; the reason never repeats the value.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// No such referral, or none the caller may see (404).
    #[error("no such referral")]
    NotFound,
    /// A party of the referral, but not the one whose step this is (403).
    #[error("not this party's step")]
    NotYourStep(&'static str),
    /// The referral is not in the state this step needs, or a concurrent change won (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An `Idempotency-Key` reused with another request (422).
    #[error("idempotency key reused with another request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ReferralError> for Error {
    fn from(e: ReferralError) -> Error {
        match e {
            ReferralError::Invalid { field, reason } => Error::invalid(field, reason),
            ReferralError::NotFound => Error::NotFound("referral"),
            ReferralError::NotYourStep(detail) => Error::NotYourStep(detail),
            ReferralError::Conflict(detail) => Error::Conflict(detail),
            ReferralError::KeyReused => Error::Refused {
                kind: "idempotency-key-reused",
                title: "Idempotency key reused",
                detail: "this Idempotency-Key was first used with another request".into(),
                field: Some("Idempotency-Key"),
                reason: None,
            },
            ReferralError::Store(s) => s.into(),
        }
    }
}

/// The `limit` and `cursor` parameters of a list (1 to [`flow::MAX_PAGE`], default
/// [`flow::DEFAULT_PAGE`]).
pub fn page_params(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<(usize, Option<crate::ports::Cursor>), Error> {
    let limit = match limit {
        None => flow::DEFAULT_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=flow::MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(Error::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {}", flow::MAX_PAGE),
                ))
            }
        },
    };
    let cursor = match cursor {
        None | Some("") => None,
        Some(c) => Some(
            crate::ports::Cursor::decode(c)
                .map_err(|_| Error::invalid("cursor", "not a cursor of this list"))?,
        ),
    };
    Ok((limit, cursor))
}
