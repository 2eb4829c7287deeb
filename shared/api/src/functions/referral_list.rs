//! `GET /referrals?as=referrer|specialist|patient&limit=&cursor=` (roles `practitioner`,
//! `patient`): the caller's referrals in one capacity, newest first, one Query on their own
//! list. Practitioners say `as=referrer` or `as=specialist`; patients `as=patient` (default).

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use domain::auth::{require, Role, Scope};
use domain::deps::Deps;
use domain::referrals::{flow, page_params};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("referral-list");

/// Answers one page of the caller's referrals in the capacity `as` names.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let caller = require(
        req.principal.as_ref(),
        &[Role::Practitioner, Role::Patient],
        Scope::Any,
    )?;
    let party = flow::list_capacity(caller, req.query_param("as"))?;
    let (limit, cursor) = page_params(req.query_param("limit"), req.query_param("cursor"))?;
    let page = flow::list(&deps, caller, party, limit, cursor).await?;
    Ok(ApiResponse::json(200, &page))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::get(
        "/referrals",
        &[
            domain::auth::Role::Practitioner,
            domain::auth::Role::Patient,
        ],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
