//! `GET /referrals/specialists?q=&specialty=&limit=&cursor=` (role `practitioner`, SPEC B1,
//! A12): approved practitioners to refer to, each word of `q` beginning a word of the name and
//! each word of `specialty` a word of their specialties (case- and accent-insensitive); never
//! the caller.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use domain::auth::{require, Role, Scope};
use domain::deps::Deps;
use domain::referrals::page_params;
use domain::referrals::search::{search_specialists, SpecialistSearch};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("referral-specialists");

/// Answers one page of approved practitioners matching the search.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let caller = require(req.principal.as_ref(), &[Role::Practitioner], Scope::Any)?;
    let (limit, cursor) = page_params(req.query_param("limit"), req.query_param("cursor"))?;
    let search = SpecialistSearch {
        name: SpecialistSearch::text_param("q", req.query_param("q"))?,
        specialty: SpecialistSearch::text_param("specialty", req.query_param("specialty"))?,
        limit,
        cursor,
    };
    let page = search_specialists(&*deps.store, &caller.sub, &search).await?;
    Ok(ApiResponse::json(200, &page))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::get(
        "/referrals/specialists",
        &[domain::auth::Role::Practitioner],
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
