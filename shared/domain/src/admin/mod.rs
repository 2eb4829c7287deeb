//! The admin reporting area (SPEC A1–A9): one tab per Lambda under `/admin/`, for the role
//! `platform_admin` only. Every tab is a [`tab::Tab`]: an indexed Query and a row builder;
//! [`tab`] serves its pages and its streamed CSV export, [`params`] parses the list
//! parameters once at the edge; the tag rules of the Feed and Consultations are the read
//! models' ([`crate::readmodels::tags`], named here as [`tags`]).

pub mod calls;
pub mod consultations;
pub mod feed;
pub mod params;
pub mod payment_items;
pub mod payments;
pub mod practitioners;
pub mod ratings;
pub mod tab;
pub mod tags;
pub mod thread;
pub mod vouchers;

use crate::auth::{require, Principal, Role, Scope};
use crate::deps::Deps;
use crate::http::{ApiRequest, HandlerResult, Problem};
use params::ListParams;
use tab::Tab;

/// The roles of every admin route.
pub const ADMIN_ROLES: &[Role] = &[Role::PlatformAdmin];

/// The one check of every admin route: a platform admin. The admin area spans the whole
/// platform, so no object is out of a platform admin's scope.
pub fn authorize(req: &ApiRequest) -> Result<&Principal, Problem> {
    require(req.principal.as_ref(), ADMIN_ROLES, Scope::Any)
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
        let link = tab::export_csv(tab, deps, actor, params).await?;
        tracing::info!(
            request_id = %req.request_id,
            tab = tab.name(),
            rows = link.rows,
            bytes = link.bytes,
            items_read = link.read,
            "admin export"
        );
        Ok(tab::export_response(&link))
    } else {
        let page = tab::list_page(tab, &*deps.store, params).await?;
        tracing::info!(
            request_id = %req.request_id,
            tab = tab.name(),
            rows = page.items.len(),
            items_read = page.read,
            "admin page"
        );
        Ok(tab::page_response(&page))
    }
}
