//! `GET /admin/feed` and `GET /admin/feed/export` (SPEC A1): message threads, newest activity first, with their tags,
//! kinds (A13) and waiting clocks (A11, the platform default from the settings).
//! Role `platform_admin` only; list parameters in `domain::admin::params`.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, HandlerResult};
use crate::tab::{list_params, serve_tab};
use domain::admin::authorize;
use domain::deps::Deps;
use std::sync::Arc;

/// The store and the blob store (the CSV export of the tab): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("admin-feed").with_blobs();

/// Serves the list, or its CSV export when the path ends in `/export`.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let actor = authorize(req.principal.as_ref())?;
    let params = list_params(&req, domain::admin::feed::PARAMS)?;
    let tab = domain::admin::feed::FeedTab::from_params(
        &params,
        deps.clock.now(),
        deps.settings.default_response_time_hours,
    )?;
    serve_tab(&deps, &req, actor, &tab, &params).await
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get("/admin/feed", domain::admin::ADMIN_ROLES),
        Endpoint::get("/admin/feed/export", domain::admin::ADMIN_ROLES),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
