//! The referral steps: create, the patient's decision, the specialist's decision, read, list.
//!
//! Each step that changes a referral is ONE store transaction: the referral written on the
//! version it was read at (`version = :v`, or absent for a new one), the transition inside its
//! body, the audit record (D4), the caller's stored answer when an `Idempotency-Key` came with
//! the request, and the party lists' copies. Of concurrent conflicting decisions exactly one
//! transaction commits; the others find the version moved, read the referral again, and
//! answer 409 because it is no longer awaiting their step — unless it is the same party's same
//! decision again, which answers what the first one did. Threads and system messages follow
//! the commit through ingest: the transaction also writes a delivery marker
//! ([`super::delivery`]), settled right after the commit, and by a retry or the delivery
//! worker if a failure or a crash came first. A failure after the commit does not undo the
//! step: the caller gets its answer and the messages follow.

use super::delivery::{marker_op, settle};
pub use super::expiry::{expire_due, EXPIRY_ACTOR, MAX_EXPIRED_PER_SWEEP};
use super::model::{
    keys, to_json, DeclineReason, PartyAs, PartyNames, ReasonCode, Referral, ReferralView, State,
    StoredAnswer, Transition,
};
use super::threads::{pair_thread, shared_thread, specialist_thread_id};
use super::ReferralError;
use crate::audit::{audit_op, AuditRecord};
use crate::auth::{Principal, Role};
use crate::deps::Deps;
use crate::events::types::{Approval, Id};
use crate::ports::{Condition, Cursor, Index, Item, Query, Store, StoreError, TxOp};
use crate::readmodels::{keys as rm_keys, Patient, Practitioner};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest note a referrer may add for the specialist (characters).
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// Longest free text of a decline reason (characters, as sent).
pub const MAX_REASON_TEXT_CHARS: usize = 500;

/// Longest `Idempotency-Key` accepted (characters).
pub const MAX_IDEMPOTENCY_KEY: usize = 100;

/// Attempts at a decision before a run of lost races is answered 409.
pub(super) const MAX_ATTEMPTS: usize = 8;

/// `POST /referrals` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    pub patient_id: Id,
    pub specialist_id: Id,
    /// Optional note for the specialist (at most [`MAX_MESSAGE_CHARS`]; blank means none).
    #[serde(default)]
    pub message: Option<String>,
}

/// A decision of the patient or the specialist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Reject,
}

/// `POST /referrals/{id}/patient-decision` and `.../specialist-decision` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    /// The specialist's reason for declining (B8): required on their `reject`, refused on an
    /// `accept` and on the patient's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeclineReason>,
}

impl DecisionRequest {
    /// The request as it is taken and compared: the reason checked against the step and the
    /// decision, its text trimmed (blank is none). Two requests with the same normal form are
    /// the same decision.
    pub fn normalised(&self, step: Step) -> Result<DecisionRequest, ReferralError> {
        let invalid = |field: &'static str, reason: &str| ReferralError::Invalid {
            field,
            reason: reason.to_string(),
        };
        let reason = match (step, self.decision, &self.reason) {
            (Step::Patient, _, Some(_)) => {
                return Err(invalid("reason", "the patient's decision takes no reason"))
            }
            (Step::Specialist, Decision::Accept, Some(_)) => {
                return Err(invalid("reason", "only a decline takes a reason"))
            }
            (Step::Specialist, Decision::Reject, None) => {
                return Err(invalid(
                    "reason",
                    "required to decline: an object with a `code` (outside_specialty, \
                     no_capacity, needs_more_information, better_served_elsewhere or other) \
                     and, for `other`, a `text`",
                ))
            }
            (_, _, None) => None,
            (_, _, Some(r)) => Some(normalised_reason(r)?),
        };
        Ok(DecisionRequest {
            decision: self.decision,
            reason,
        })
    }
}

/// A decline reason checked: text of at most [`MAX_REASON_TEXT_CHARS`] characters, without
/// control characters (but new lines and tabs), trimmed, required for `other`.
fn normalised_reason(r: &DeclineReason) -> Result<DeclineReason, ReferralError> {
    let text_error = |reason: String| ReferralError::Invalid {
        field: "reason.text",
        reason,
    };
    let text = match r.text.as_deref() {
        None => None,
        Some(t) if t.chars().count() > MAX_REASON_TEXT_CHARS => {
            return Err(text_error(format!(
                "must be at most {MAX_REASON_TEXT_CHARS} characters"
            )))
        }
        Some(t) if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            return Err(text_error("must not hold control characters".into()))
        }
        Some(t) => Some(t.trim()).filter(|t| !t.is_empty()).map(str::to_string),
    };
    if r.code == ReasonCode::Other && text.is_none() {
        return Err(text_error("required when the code is `other`".into()));
    }
    Ok(DeclineReason { code: r.code, text })
}

/// Which decision step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Patient,
    Specialist,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Patient => "patient-decision",
            Step::Specialist => "specialist-decision",
        }
    }
}

/// What a changing step answers: the HTTP status and the body (a [`ReferralView`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    /// Whether this is the stored first answer of an earlier request with the same key.
    pub replayed: bool,
}

/// Checks an `Idempotency-Key` header value: 1 to [`MAX_IDEMPOTENCY_KEY`] visible ASCII
/// characters.
pub fn parse_idempotency_key(value: Option<&str>) -> Result<Option<String>, ReferralError> {
    match value {
        None => Ok(None),
        Some(v)
            if !v.is_empty()
                && v.len() <= MAX_IDEMPOTENCY_KEY
                && v.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(ReferralError::Invalid {
            field: "Idempotency-Key",
            reason: format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
        }),
    }
}

fn request_hash<T: Serialize>(step: &str, referral_id: &str, request: &T) -> String {
    let text = format!("{step}\n{referral_id}\n{}", to_json(request));
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The stored answer for `key`, when there is one: replayed if it answered the same request
/// (and whatever the first request left undelivered is delivered now), refused otherwise.
async fn replay(
    deps: &Deps,
    key: &crate::ports::Key,
    hash: &str,
) -> Result<Option<Answer>, ReferralError> {
    let Some(item) = deps.store.get(key).await? else {
        return Ok(None);
    };
    let stored: StoredAnswer = item.decode()?;
    if stored.request_sha256 != hash {
        return Err(ReferralError::KeyReused);
    }
    super::delivery::settle_pending(&*deps.store, deps.clock.now(), &stored.referral_id).await?;
    Ok(Some(Answer {
        status: stored.status,
        body: stored.body,
        replayed: true,
    }))
}

fn answer_op(key: &crate::ports::Key, hash: &str, r: &Referral, answer: &Answer) -> TxOp {
    let stored = StoredAnswer {
        request_sha256: hash.to_string(),
        referral_id: r.referral_id.clone(),
        status: answer.status,
        body: answer.body.clone(),
    };
    TxOp::put(
        Item::new(key.pk.clone(), key.sk.clone(), to_json(&stored)),
        Condition::NotExists,
    )
}

fn audit(caller: &Principal, r: &Referral, t: &Transition, action: &str) -> TxOp {
    let mut record = AuditRecord::new(
        caller,
        t.at,
        action,
        &format!("REFERRAL#{}", r.referral_id),
        &r.referral_id,
    );
    record.params = serde_json::json!({
        "from": t.from.map(State::as_str),
        "to": t.to.as_str(),
        "referrer_id": r.referrer_id,
        "specialist_id": r.specialist_id,
        "patient_id": r.patient_id,
    });
    // The code only: the free text is the referrer's to read, not the audit trail's.
    if let Some(reason) = &t.reason {
        record.params["reason_code"] = serde_json::json!(reason.code.as_str());
    }
    audit_op(&record)
}

/// B1: a practitioner refers a patient they have a thread with to an approved practitioner.
/// With patient approval on (B2) the referral waits for the patient; otherwise it goes to the
/// specialist at once. Answers 201 with the referrer's view.
pub async fn create(
    deps: &Deps,
    caller: &Principal,
    request: &CreateReferral,
    idempotency_key: Option<&str>,
) -> Result<Answer, ReferralError> {
    let hash = request_hash("create", "", request);
    let answer_key = idempotency_key.map(|k| keys::create_answer(&caller.sub, k));
    if let Some(key) = &answer_key {
        if let Some(a) = replay(deps, key, &hash).await? {
            return Ok(a);
        }
    }
    let message = match request.message.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m) if m.chars().count() > MAX_MESSAGE_CHARS => {
            return Err(ReferralError::Invalid {
                field: "message",
                reason: format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            })
        }
        Some(m) if m.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            return Err(ReferralError::Invalid {
                field: "message",
                reason: "must not hold control characters".into(),
            })
        }
        Some(m) => Some(m.to_string()),
    };
    let specialist_id = request.specialist_id.as_str();
    let patient_id = request.patient_id.as_str();
    if specialist_id == caller.sub {
        return Err(ReferralError::Invalid {
            field: "specialist_id",
            reason: "must be another practitioner than the referring one".into(),
        });
    }
    let store = &*deps.store;
    let specialist: Option<Practitioner> =
        match store.get(&rm_keys::practitioner(specialist_id)).await? {
            Some(item) => Some(item.decode()?),
            None => None,
        };
    let specialist = match specialist {
        Some(p) if p.approval == Some(Approval::Approved) => p,
        _ => {
            return Err(ReferralError::Invalid {
                field: "specialist_id",
                reason: "must be an approved practitioner".into(),
            })
        }
    };
    let no_patient = || ReferralError::Invalid {
        field: "patient_id",
        reason: "must be a patient you have a thread with".into(),
    };
    let patient: Patient = match store.get(&rm_keys::patient(patient_id)).await? {
        Some(item) => item.decode()?,
        None => return Err(no_patient()),
    };
    let patient_thread_id = shared_thread(store, &caller.sub, patient_id)
        .await?
        .ok_or_else(no_patient)?;
    let referrer: Option<Practitioner> =
        match store.get(&rm_keys::practitioner(&caller.sub)).await? {
            Some(item) => Some(item.decode()?),
            None => None,
        };

    let now = deps.clock.now();
    let approval = deps.settings.referral_patient_approval;
    let state = if approval {
        State::PendingPatient
    } else {
        State::PendingSpecialist
    };
    let mut referral = Referral {
        referral_id: crate::ids::new_id("ref", now),
        referrer_id: caller.sub.clone(),
        specialist_id: specialist_id.to_string(),
        patient_id: patient_id.to_string(),
        message,
        state,
        patient_approval: approval,
        created_at: now,
        updated_at: now,
        expires_at: Some(now + deps.settings.referral_expiry),
        patient_thread_id,
        pair_thread_id: None,
        pair_thread_new: false,
        specialist_thread_id: None,
        booking_url: None,
        names: PartyNames {
            referrer: referrer.and_then(|p| p.name),
            specialist: specialist.name.clone(),
            patient: patient.name,
        },
        specialties: Some(
            specialist
                .specialties
                .iter()
                .take(super::ageing::MAX_SPECIALTIES)
                .cloned()
                .collect(),
        ),
        transitions: vec![Transition {
            from: None,
            to: state,
            by: caller.sub.clone(),
            by_role: caller.role,
            at: now,
            reason: None,
        }],
    };
    if state == State::PendingSpecialist {
        let (thread, new) = pair_thread(store, now, &caller.sub, specialist_id).await?;
        referral.pair_thread_id = Some(thread);
        referral.pair_thread_new = new;
    }
    let answer = Answer {
        status: 201,
        body: to_json(&referral.view(PartyAs::Referrer)),
        replayed: false,
    };
    let mut ops = vec![TxOp::put(referral.item(1), Condition::NotExists)];
    if let Some(key) = &answer_key {
        ops.push(answer_op(key, &hash, &referral, &answer));
    }
    ops.push(marker_op(&referral, 1));
    ops.push(audit(
        caller,
        &referral,
        &referral.transitions[0],
        "referral.created",
    ));
    ops.extend(
        referral
            .list_entries()
            .into_iter()
            .map(|i| TxOp::put(i, Condition::None)),
    );
    ops.extend(super::ageing::transition_ops(
        &referral,
        &referral.transitions[0],
    ));
    match store.transact(ops).await {
        Ok(()) => {}
        // The same key landed meanwhile (two copies of one request racing): its answer wins.
        Err(StoreError::ConditionFailed { op: Some(1) }) if answer_key.is_some() => {
            if let Some(key) = &answer_key {
                if let Some(a) = replay(deps, key, &hash).await? {
                    return Ok(a);
                }
            }
            return Err(ReferralError::Conflict(
                "a concurrent request won; retry".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(referral_id = %referral.referral_id, state = state.as_str(), "referral created");
    settle_after_commit(store, now, &referral, 1).await;
    Ok(answer)
}

/// B3 and B5: the patient's or the specialist's decision. Only that party may take it (403 for
/// the other parties, 404 for anyone else); only in its state (409 otherwise).
pub async fn decide(
    deps: &Deps,
    caller: &Principal,
    referral_id: &str,
    step: Step,
    request: &DecisionRequest,
    idempotency_key: Option<&str>,
) -> Result<Answer, ReferralError> {
    let request = &request.normalised(step)?;
    let to = decided(step, request.decision);
    let (party, from, not_yours): (_, &'static [State], _) = match step {
        Step::Patient => (
            PartyAs::Patient,
            &[State::PendingPatient],
            "only the referred patient takes this decision",
        ),
        Step::Specialist => (
            PartyAs::Specialist,
            &[State::PendingSpecialist],
            "only the referral's specialist takes this decision",
        ),
    };
    let action = match to {
        State::PendingSpecialist => "referral.patient_accepted",
        State::PatientRejected => "referral.patient_rejected",
        State::Accepted => "referral.accepted",
        _ => "referral.rejected",
    };
    let hash = request_hash(step.name(), referral_id, request);
    let step = PartyStep {
        name: step.name(),
        party,
        from,
        to,
        reason: request.reason.clone(),
        action,
        not_yours,
        awaited: "this decision",
    };
    take_step(deps, caller, referral_id, &step, &hash, idempotency_key).await
}

/// B9: the referrer withdraws their referral while it is pending (for the patient or the
/// specialist). Only the referrer may (403 for the other parties, 404 for anyone else); in any
/// other state 409, but a withdrawal again answers 200 and the referral as it is.
pub async fn withdraw(
    deps: &Deps,
    caller: &Principal,
    referral_id: &str,
    idempotency_key: Option<&str>,
) -> Result<Answer, ReferralError> {
    let step = PartyStep {
        name: "withdraw",
        party: PartyAs::Referrer,
        from: &[State::PendingPatient, State::PendingSpecialist],
        to: State::Withdrawn,
        reason: None,
        action: "referral.withdrawn",
        not_yours: "only the referring practitioner withdraws a referral",
        awaited: "a withdrawal",
    };
    let hash = request_hash(step.name, referral_id, &serde_json::Value::Null);
    take_step(deps, caller, referral_id, &step, &hash, idempotency_key).await
}

/// A step a party of the referral takes: who may, from which states, to which.
struct PartyStep {
    name: &'static str,
    party: PartyAs,
    from: &'static [State],
    to: State,
    reason: Option<DeclineReason>,
    action: &'static str,
    not_yours: &'static str,
    /// What a referral in another state is not awaiting (the 409's detail).
    awaited: &'static str,
}

/// Takes `step` as `caller` (or answers the first answer of the same `Idempotency-Key`): one
/// transaction on the version read, retried on a lost race until the referral has moved on.
async fn take_step(
    deps: &Deps,
    caller: &Principal,
    referral_id: &str,
    step: &PartyStep,
    hash: &str,
    idempotency_key: Option<&str>,
) -> Result<Answer, ReferralError> {
    let answer_key =
        idempotency_key.map(|k| keys::decision_answer(referral_id, step.name, &caller.sub, k));
    if !is_referral_id(referral_id) {
        return Err(ReferralError::NotFound);
    }
    let store = &*deps.store;
    for attempt in 0..MAX_ATTEMPTS {
        if let Some(key) = &answer_key {
            if let Some(a) = replay(deps, key, hash).await? {
                return Ok(a);
            }
        }
        let Some(item) = store.get(&keys::referral(referral_id)).await? else {
            return Err(ReferralError::NotFound);
        };
        let version = item.version;
        let mut r: Referral = item.decode()?;
        let capacity = r
            .capacity_of(&caller.sub, caller.role)
            .ok_or(ReferralError::NotFound)?;
        if capacity != step.party {
            return Err(ReferralError::NotYourStep(step.not_yours));
        }
        if !step.from.contains(&r.state) {
            // A retry after a failure between the commit and the messages (no key, so no
            // stored answer) still lands them: they follow from the referral alone.
            super::delivery::settle_pending(store, deps.clock.now(), &r.referral_id).await?;
            // The same party's same step again (a retry without a key): its answer.
            let earlier = r.transitions.iter().find(|t| {
                t.from.is_some_and(|f| step.from.contains(&f))
                    && t.by == caller.sub
                    && t.to == step.to
            });
            if let Some(t) = earlier {
                if t.reason != step.reason {
                    return Err(ReferralError::Conflict(
                        "the referral was already declined with another reason".into(),
                    ));
                }
                return Ok(Answer {
                    status: 200,
                    body: to_json(&r.view(capacity)),
                    replayed: true,
                });
            }
            // A party the referral has not come to (a specialist before the patient's
            // approval; a patient never asked) learns nothing of its state; the patient is
            // not told of the specialist's refusal (their view stays pending_specialist).
            return Err(ReferralError::Conflict(if r.visible_to(capacity) {
                format!(
                    "the referral is {}, not awaiting {}",
                    r.view(capacity).state.as_str(),
                    step.awaited
                )
            } else {
                "the referral is not awaiting this decision".to_string()
            }));
        }
        let now = deps.clock.now();
        let from = r.state;
        let transition = Transition {
            from: Some(from),
            to: step.to,
            by: caller.sub.clone(),
            by_role: caller.role,
            at: now,
            reason: step.reason.clone(),
        };
        r.state = step.to;
        r.updated_at = now;
        r.transitions.push(transition.clone());
        match step.to {
            State::PendingSpecialist => {
                let (thread, new) =
                    pair_thread(store, now, &r.referrer_id, &r.specialist_id).await?;
                r.pair_thread_id = Some(thread);
                r.pair_thread_new = new;
            }
            State::Accepted => {
                r.specialist_thread_id = Some(specialist_thread_id(&r.referral_id));
                r.booking_url = booking_url(deps, &r.specialist_id).await?;
            }
            _ => {}
        }
        let answer = Answer {
            status: 200,
            body: to_json(&r.view(capacity)),
            replayed: false,
        };
        let mut ops = transition_ops(caller, &r, version, &transition, step.action);
        if let Some(key) = &answer_key {
            ops.push(answer_op(key, hash, &r, &answer));
        }
        match store.transact(ops).await {
            Ok(()) => {
                tracing::info!(
                    referral_id = %r.referral_id,
                    from = from.as_str(),
                    to = step.to.as_str(),
                    reason_code = transition.reason.as_ref().map(|x| x.code.as_str()),
                    "referral transition"
                );
                settle_after_commit(store, now, &r, version + 1).await;
                return Ok(answer);
            }
            // Another step (or a copy of this request) committed first: read again; the
            // referral has moved on (409) or the stored answer is there (replayed).
            Err(StoreError::ConditionFailed { .. }) => continue,
            // DynamoDB cancelled this transaction for one in flight on the same items.
            Err(StoreError::Conflict) => back_off(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReferralError::Conflict(
        "concurrent changes kept winning; retry".into(),
    ))
}

/// The writes of one transition, all in one transaction: the referral on the version it was
/// read at (`version`), its delivery marker, the audit record, the party lists' copies and the
/// ageing counters (B11).
pub(super) fn transition_ops(
    actor: &Principal,
    r: &Referral,
    version: u64,
    transition: &Transition,
    action: &str,
) -> Vec<TxOp> {
    let mut ops = vec![
        TxOp::put(r.item(version + 1), Condition::VersionIs(version)),
        marker_op(r, version + 1),
        audit(actor, r, transition, action),
    ];
    ops.extend(
        r.list_entries()
            .into_iter()
            .map(|i| TxOp::put(i, Condition::None)),
    );
    ops.extend(super::ageing::transition_ops(r, transition));
    ops
}

/// Gives a transaction in flight on the same items a moment (random, so that racers spread
/// out) before reading again.
pub(super) async fn back_off(attempt: usize) {
    let cap_ms = 2u64 << attempt.min(5);
    let wait = crate::ids::random_u64() % (cap_ms + 1);
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}

/// The state a step's decision moves the referral to.
fn decided(step: Step, decision: Decision) -> State {
    match (step, decision) {
        (Step::Patient, Decision::Accept) => State::PendingSpecialist,
        (Step::Patient, Decision::Reject) => State::PatientRejected,
        (Step::Specialist, Decision::Accept) => State::Accepted,
        (Step::Specialist, Decision::Reject) => State::Rejected,
    }
}

/// Settles a committed step's delivery marker. A failure here leaves the marker for a retry or
/// the delivery worker: the step stands, and its answer is given.
pub(super) async fn settle_after_commit(
    store: &dyn Store,
    now: DateTime<Utc>,
    r: &Referral,
    version: u64,
) {
    if let Err(e) = settle(store, now, r, version).await {
        tracing::warn!(referral_id = %r.referral_id, error = %e, "referral delivery left to the worker");
    }
}

/// Whether a path's referral id could be one at all (an id of [`Id`]'s shape); anything else
/// is answered 404 without reaching the store.
fn is_referral_id(text: &str) -> bool {
    Id::parse(text).is_ok()
}

/// B6: the booking prompt's link, when prompts are on and the specialist has a practice in the
/// scheduling portal: their profile and calendar on the platform.
async fn booking_url(deps: &Deps, specialist_id: &str) -> Result<Option<String>, ReferralError> {
    if !deps.settings.referral_booking_prompt {
        return Ok(None);
    }
    let practitioner: Option<Practitioner> = match deps
        .store
        .get(&rm_keys::practitioner(specialist_id))
        .await?
    {
        Some(item) => Some(item.decode()?),
        None => None,
    };
    Ok(practitioner.filter(|p| p.has_scheduling_practice).map(|_| {
        format!(
            "{}/practitioners/{}",
            deps.settings.platform_base_url.trim_end_matches('/'),
            // Practitioner ids are platform ids ([A-Za-z0-9_.:-]): safe in a path.
            specialist_id
        )
    }))
}

/// One referral as the caller sees it: 404 when the caller is not a party, or the referral has
/// not reached them (a specialist before the patient's approval; a patient never asked and not
/// accepted).
pub async fn get(
    deps: &Deps,
    caller: &Principal,
    referral_id: &str,
) -> Result<ReferralView, ReferralError> {
    if !is_referral_id(referral_id) {
        return Err(ReferralError::NotFound);
    }
    let item = deps
        .store
        .get(&keys::referral(referral_id))
        .await?
        .ok_or(ReferralError::NotFound)?;
    let r: Referral = item.decode()?;
    match r.capacity_of(&caller.sub, caller.role) {
        Some(party) if r.visible_to(party) => Ok(r.view(party)),
        _ => Err(ReferralError::NotFound),
    }
}

/// Largest page of a referral or specialist list.
pub const MAX_PAGE: usize = 100;
/// Page size when none is asked.
pub const DEFAULT_PAGE: usize = 20;

/// One page of referrals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralPage {
    pub items: Vec<ReferralView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The capacity a list request asks for: practitioners list as `referrer` or `specialist`
/// (required), patients as `patient` (the default).
pub fn list_capacity(caller: &Principal, as_param: Option<&str>) -> Result<PartyAs, ReferralError> {
    let bad = |reason: &str| ReferralError::Invalid {
        field: "as",
        reason: reason.to_string(),
    };
    match (caller.role, as_param.map(PartyAs::parse)) {
        (Role::Patient, None) | (Role::Patient, Some(Some(PartyAs::Patient))) => {
            Ok(PartyAs::Patient)
        }
        (Role::Patient, _) => Err(bad("must be `patient` for a patient")),
        (Role::Practitioner, Some(Some(a))) if a != PartyAs::Patient => Ok(a),
        (_, _) => Err(bad("must be `referrer` or `specialist` for a practitioner")),
    }
}

/// The caller's referrals in one capacity, newest first (one Query on their list partition).
pub async fn list(
    deps: &Deps,
    caller: &Principal,
    party: PartyAs,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<ReferralPage, ReferralError> {
    let partition = keys::list_partition(party, &caller.sub);
    // A cursor is only ever one of this very list's (a forged one would make DynamoDB refuse
    // the query).
    if cursor
        .as_ref()
        .is_some_and(|c| c.pk != partition || c.ipk.is_some())
    {
        return Err(ReferralError::Invalid {
            field: "cursor",
            reason: "not a cursor of this list".into(),
        });
    }
    let q = Query::partition(Index::Primary, partition)
        .backward()
        .limit(limit)
        .after(cursor);
    let page = deps.store.query(&q).await?;
    let items = page
        .items
        .iter()
        .map(|i| i.decode::<Referral>().map(|r| r.view(party)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReferralPage {
        items,
        next_cursor: page.next.map(|c| c.encode()),
    })
}

#[cfg(test)]
mod tests;
