//! `GET /admin/feed` and `GET /admin/feed/export` (SPEC A1): message threads, newest activity first, with their tags.
//! Role `platform_admin` only; list parameters in `shared::admin::params`.

use shared::admin::params::ListParams;
use shared::admin::{authorize, serve_tab};
use shared::deps::Deps;
use shared::http::{ApiRequest, HandlerResult};
use std::sync::Arc;

/// The store and the blob store (the CSV export of the tab): see [`shared::deps::Wiring`].
pub const WIRING: shared::deps::Wiring =
    shared::deps::Wiring::store_only("admin-feed").with_blobs();

/// Serves the list, or its CSV export when the path ends in `/export`.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let actor = authorize(&req)?;
    let params = ListParams::parse(&req, shared::admin::feed::PARAMS)?;
    let tab = shared::admin::feed::FeedTab::from_params(&params)?;
    serve_tab(&deps, &req, actor, &tab, &params).await
}
