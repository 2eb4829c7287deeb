//! `POST /referrals/{referral_id}/patient-decision` (role `patient`, SPEC B3, B7):
//! the referral's patient accepts or declines it while it awaits them. Body
//! `{"decision": "accept" | "reject"}` (no reason: that is the specialist's). Another party of the referral gets 403,
//! anyone else 404, a referral in another state 409; an `Idempotency-Key` header makes a retry
//! answer the first answer. 200 with the referral as the caller sees it.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, HandlerResult, Problem};
use domain::auth::{require, Role, Scope};
use domain::deps::Deps;
use domain::referrals::flow::{self, DecisionRequest, Step};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("referral-patient-decision");

/// Takes the patient's decision (or answers the first answer of the same `Idempotency-Key`).
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    decide(deps, req, Role::Patient, Step::Patient).await
}

/// A party's decision on a referral awaiting it: the caller must have `role`; `step` is the
/// decision the referral awaits. Shared by both decision functions.
pub(crate) async fn decide(
    deps: Arc<Deps>,
    req: ApiRequest,
    role: Role,
    step: Step,
) -> HandlerResult {
    let (caller, referral_id, key) = step_request(&req, role)?;
    let body: DecisionRequest = req.json()?;
    let answer = flow::decide(&deps, caller, referral_id, step, &body, key.as_deref()).await?;
    Ok(super::referral_answer(&answer))
}

/// What every step on one referral reads first: the caller (who must have `role`), the path's
/// referral id (404 when it cannot be one) and the `Idempotency-Key`.
pub(crate) fn step_request(
    req: &ApiRequest,
    role: Role,
) -> Result<(&domain::auth::Principal, &str, Option<String>), Problem> {
    let caller = require(req.principal.as_ref(), &[role], Scope::Any)?;
    let referral_id = req
        .path_id("referral_id")?
        .ok_or_else(|| Problem::not_found("referral"))?;
    let key = flow::parse_idempotency_key(req.header("idempotency-key"))?;
    Ok((caller, referral_id, key))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::post(
        "/referrals/{referral_id}/patient-decision",
        &[domain::auth::Role::Patient],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
