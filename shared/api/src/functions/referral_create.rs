//! `POST /referrals` (role `practitioner`, SPEC B1): refers a patient the caller has a thread
//! with to an approved practitioner, with an optional note. Body
//! `{"patient_id", "specialist_id", "message"?}`; an `Idempotency-Key` header makes a retry
//! answer the first answer. 201 with the referral as the referrer sees it.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, HandlerResult};
use domain::auth::{require, Role, Scope};
use domain::deps::Deps;
use domain::referrals::flow::{self, CreateReferral};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("referral-create");

/// Creates the referral (or answers the first answer of the same `Idempotency-Key`).
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let caller = require(req.principal.as_ref(), &[Role::Practitioner], Scope::Any)?;
    let key = flow::parse_idempotency_key(req.header("idempotency-key"))?;
    let body: CreateReferral = req.json()?;
    let answer = flow::create(&deps, caller, &body, key.as_deref()).await?;
    let location = answer
        .body
        .get("referral_id")
        .and_then(|v| v.as_str())
        .map(|id| format!("/referrals/{id}"))
        .unwrap_or_default();
    Ok(super::referral_answer(&answer).with_header("location", location))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::post(
        "/referrals",
        &[domain::auth::Role::Practitioner],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
