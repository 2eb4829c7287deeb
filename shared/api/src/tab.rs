//! How an admin tab (SPEC A1–A9) answers: a page of rows as JSON, or, when the path ends in
//! `/export`, the link to the CSV of every row the filters select. Both carry `x-items-read`,
//! the store items the answer read.

use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use domain::admin::params::ListParams;
use domain::admin::tab::{self, Tab};
use domain::auth::Principal;
use domain::deps::Deps;

/// The tab's list parameters from the query; `extra` names the tab's own.
pub fn list_params(req: &ApiRequest, extra: &[&str]) -> Result<ListParams, domain::Error> {
    ListParams::parse_pairs(&req.query, extra)
}

/// Serves a tab's list route, or its export when the path ends in `/export`.
pub async fn serve_tab<T: Tab>(
    deps: &Deps,
    req: &ApiRequest,
    actor: &Principal,
    tab: &T,
    params: &ListParams,
) -> HandlerResult {
    if req.path.trim_end_matches('/').ends_with("/export") {
        let link = tab::export_csv(tab, deps, actor, params)
            .await
            .map_err(domain::Error::from)?;
        tracing::info!(
            request_id = %req.request_id,
            tab = tab.name(),
            rows = link.rows,
            bytes = link.bytes,
            items_read = link.read,
            "admin export"
        );
        domain::telemetry::exported("admin_csv", tab.name(), link.rows, link.bytes);
        Ok(ApiResponse::json(200, &link).with_header("x-items-read", link.read.to_string()))
    } else {
        let page = tab::list_page(tab, &*deps.store, params).await?;
        tracing::info!(
            request_id = %req.request_id,
            tab = tab.name(),
            rows = page.items.len(),
            items_read = page.read,
            "admin page"
        );
        Ok(ApiResponse::json(200, &page).with_header("x-items-read", page.read.to_string()))
    }
}
