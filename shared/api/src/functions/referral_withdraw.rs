//! `POST /referrals/{referral_id}/withdraw` (role `practitioner`, SPEC B9): the referral's
//! referrer withdraws it while it is pending (for the patient or the specialist); it becomes
//! `withdrawn`, final. No body, or an empty object. Another party of the referral gets 403,
//! anyone else 404, a referral in another state 409 (a withdrawal again answers 200); an
//! `Idempotency-Key` header makes a retry answer the first answer. 200 with the referral as
//! the referrer sees it.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, HandlerResult, Problem};
use domain::auth::Role;
use domain::deps::Deps;
use domain::referrals::flow;
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("referral-withdraw");

/// Withdraws the referral (or answers the first answer of the same `Idempotency-Key`).
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let (caller, referral_id, key) =
        super::referral_patient_decision::step_request(&req, Role::Practitioner)?;
    if !req.body.is_empty() {
        match req.json::<serde_json::Value>()? {
            serde_json::Value::Object(fields) => {
                if let Some(name) = fields.keys().next() {
                    return Err(Problem::bad_request(name, "a withdrawal takes no fields"));
                }
            }
            _ => return Err(Problem::bad_request("body", "must be an empty JSON object")),
        }
    }
    let answer = flow::withdraw(&deps, caller, referral_id, key.as_deref()).await?;
    Ok(super::referral_answer(&answer))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::post(
        "/referrals/{referral_id}/withdraw",
        &[domain::auth::Role::Practitioner],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
