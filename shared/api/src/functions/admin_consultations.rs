//! `GET /admin/consultations`, `GET /admin/consultations/export` and
//! `GET /admin/consultations/counts` (SPEC A3): consultations with their tags, and the counts
//! per tag over the past 14 days (or 14 local days with `tz`) from the counters ingest keeps,
//! with the threads overdue now (A11) beside them. Role `platform_admin` only.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use crate::tab::{list_params, serve_tab};
use domain::admin::authorize;
use domain::admin::consultations::{
    count_zone, tag_counts, ConsultationsTab, CountsAnswer, PARAMS,
};
use domain::deps::Deps;
use std::sync::Arc;

/// The store and the blob store (the CSV export of the tab): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("admin-consultations").with_blobs();

/// Serves the list, its export, or the 14-day counts.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let actor = authorize(req.principal.as_ref())?;
    if req.path.trim_end_matches('/').ends_with("/counts") {
        let tz = count_zone(&req.query)?;
        let now = deps.clock.now();
        let tags = tag_counts(&*deps.store, now, tz).await?;
        let overdue = domain::admin::feed::overdue_count(
            &*deps.store,
            now,
            deps.settings.default_response_time_hours,
        )
        .await?;
        let read = tags.read + overdue.read;
        tracing::info!(request_id = %req.request_id, items_read = read, "admin consultation counts");
        let answer = CountsAnswer { tags, overdue };
        return Ok(ApiResponse::json(200, &answer).with_header("x-items-read", read.to_string()));
    }
    let params = list_params(&req, PARAMS)?;
    let tab = ConsultationsTab::from_params(&params)?;
    serve_tab(&deps, &req, actor, &tab, &params).await
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get("/admin/consultations", domain::admin::ADMIN_ROLES),
        Endpoint::get("/admin/consultations/export", domain::admin::ADMIN_ROLES),
        Endpoint::get("/admin/consultations/counts", domain::admin::ADMIN_ROLES),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
