//! `POST /referrals/{referral_id}/specialist-decision` (role `practitioner`, SPEC B5, B7):
//! the referral's specialist accepts or declines it while it awaits them. Body
//! `{"decision": "accept"}` or `{"decision": "reject", "reason": {"code", "text"?}}` (B8: a
//! decline names a code of the closed list; `text` is required for `other`). Another party of the referral gets 403,
//! anyone else 404, a referral in another state 409; an `Idempotency-Key` header makes a retry
//! answer the first answer. 200 with the referral as the caller sees it.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, HandlerResult};
use domain::auth::Role;
use domain::deps::Deps;
use domain::referrals::flow::Step;
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("referral-specialist-decision");

/// Takes the specialist's decision (or answers the first answer of the same `Idempotency-Key`).
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    super::referral_patient_decision::decide(deps, req, Role::Practitioner, Step::Specialist).await
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::post(
        "/referrals/{referral_id}/specialist-decision",
        &[domain::auth::Role::Practitioner],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
