//! `GET /admin/vouchers` and `GET /admin/vouchers/export` (SPEC A9): every voucher code and its uses.
//! Role `platform_admin` only; list parameters in `shared::admin::params`.

use shared::admin::params::ListParams;
use shared::admin::{authorize, serve_tab};
use shared::deps::Deps;
use shared::http::{ApiRequest, HandlerResult};
use std::sync::Arc;

/// The store and the blob store (the CSV export of the tab): see [`shared::deps::Wiring`].
pub const WIRING: shared::deps::Wiring =
    shared::deps::Wiring::store_only("admin-vouchers").with_blobs();

/// Serves the list, or its CSV export when the path ends in `/export`.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let actor = authorize(&req)?;
    let params = ListParams::parse(&req, &[])?;
    let tab = shared::admin::vouchers::VouchersTab;
    serve_tab(&deps, &req, actor, &tab, &params).await
}
