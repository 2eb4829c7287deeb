//! `GET /admin/practitioners`, `GET /admin/practitioners/export` and
//! `PUT /admin/practitioners/{practitioner_id}/availability` (SPEC A5): every practitioner with
//! approval, current availability, ratings and price; the audited availability override.
//! Role `platform_admin` only.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use crate::tab::{list_params, serve_tab};
use domain::admin::authorize;
use domain::admin::practitioners::{
    override_availability, OverrideRequest, PractitionersTab, PARAMS,
};
use domain::deps::Deps;
use std::sync::Arc;

/// The store and the blob store (the CSV export of the tab): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("admin-practitioners").with_blobs();

/// Serves the list, its export, or an override.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let actor = authorize(req.principal.as_ref())?;
    let now = deps.clock.now();
    if req.method.eq_ignore_ascii_case("PUT") {
        let id = req
            .path_id("practitioner_id")?
            .ok_or_else(|| Problem::not_found("practitioner"))?;
        let body = req.json::<OverrideRequest>()?;
        let row = override_availability(&*deps.store, actor, now, id, body).await?;
        tracing::info!(request_id = %req.request_id, practitioner_id = %row.practitioner_id, "availability overridden");
        return Ok(ApiResponse::json(200, &row));
    }
    let params = list_params(&req, PARAMS)?;
    let tab = PractitionersTab::from_params(&params, now)?;
    serve_tab(&deps, &req, actor, &tab, &params).await
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get("/admin/practitioners", domain::admin::ADMIN_ROLES),
        Endpoint::get("/admin/practitioners/export", domain::admin::ADMIN_ROLES),
        Endpoint::put(
            "/admin/practitioners/{practitioner_id}/availability",
            domain::admin::ADMIN_ROLES,
        ),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
