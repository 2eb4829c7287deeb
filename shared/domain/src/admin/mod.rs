//! The admin reporting area (SPEC A1–A9): one tab per Lambda under `/admin/`, for the role
//! `platform_admin` only. Every tab is a [`tab::Tab`]: an indexed Query and a row builder;
//! [`tab`] serves its pages and its streamed CSV export, [`params`] parses the list
//! parameters once at the edge, [`tags`] holds the tag rules of the Feed and Consultations.

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
use crate::routes::Route;
use params::ListParams;
use tab::Tab;

/// The roles of every admin route.
pub const ADMIN_ROLES: &[Role] = &[Role::PlatformAdmin];

/// The admin routes (one function per tab; a tab's export and the availability override
/// share their tab's function).
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/admin/feed",
        function: "admin-feed",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/feed/export",
        function: "admin-feed",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/threads/{thread_id}",
        function: "admin-thread",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/consultations",
        function: "admin-consultations",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/consultations/export",
        function: "admin-consultations",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/consultations/counts",
        function: "admin-consultations",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/calls",
        function: "admin-calls",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/calls/export",
        function: "admin-calls",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/practitioners",
        function: "admin-practitioners",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/practitioners/export",
        function: "admin-practitioners",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "PUT",
        path: "/admin/practitioners/{practitioner_id}/availability",
        function: "admin-practitioners",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/ratings",
        function: "admin-ratings",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/ratings/export",
        function: "admin-ratings",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/payments",
        function: "admin-payments",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/payments/export",
        function: "admin-payments",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/payment-items",
        function: "admin-payment-items",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/payment-items/export",
        function: "admin-payment-items",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/vouchers",
        function: "admin-vouchers",
        roles: ADMIN_ROLES,
    },
    Route {
        method: "GET",
        path: "/admin/vouchers/export",
        function: "admin-vouchers",
        roles: ADMIN_ROLES,
    },
];

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
