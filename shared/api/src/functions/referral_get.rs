//! `GET /referrals/{referral_id}` (roles `practitioner`, `patient`): one referral with its
//! transitions, as the calling party sees it; 404 for anyone who is not a party, or to whom
//! it has not come yet.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use domain::auth::{require, Role, Scope};
use domain::deps::Deps;
use domain::referrals::flow;
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("referral-get");

/// Answers the referral as the calling party sees it.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let caller = require(
        req.principal.as_ref(),
        &[Role::Practitioner, Role::Patient],
        Scope::Any,
    )?;
    let referral_id = req
        .path_id("referral_id")?
        .ok_or_else(|| Problem::not_found("referral"))?;
    let view = flow::get(&deps, caller, referral_id).await?;
    Ok(ApiResponse::json(200, &view))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::get(
        "/referrals/{referral_id}",
        &[
            domain::auth::Role::Practitioner,
            domain::auth::Role::Patient,
        ],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
