//! The 24-hour report history (SPEC D3, C10): `GET /orgs/{org_id}/reports/history` and
//! `GET /clinics/{clinic_id}/reports/history` list what was downloaded or emailed in the last
//! 24 hours (who, when, type, parameters, size, state), newest first; `.../history/{report_id}/link`
//! answers a freshly presigned link (audited). Entries older than 24 hours answer 404 and are
//! left out of the list, whatever TTL has deleted.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult};
use domain::deps::Deps;
use domain::org_reports::download::relink;
use domain::org_reports::history::{list_history, HistoryPage, ReportView};
use domain::org_reports::{CLINIC_READERS, ORG_READERS};
use std::sync::Arc;

/// The store and the blob store (fresh links to stored reports): see
/// [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("org-report-history").with_blobs();

/// Lists the history or re-links one entry.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let (actor, scope) = super::authorise_report(&deps, &req, ORG_READERS, CLINIC_READERS).await?;
    match req.path_id("report_id")? {
        Some(report_id) => {
            let link = relink(&deps, &actor, &scope, report_id).await?;
            Ok(ApiResponse::json(200, &link))
        }
        None => {
            let items: Vec<ReportView> = list_history(&*deps.store, &scope, deps.clock.now())
                .await?
                .iter()
                .map(ReportView::from)
                .collect();
            Ok(ApiResponse::json(200, &HistoryPage { items }))
        }
    }
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get(
            "/orgs/{org_id}/reports/history",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::get(
            "/orgs/{org_id}/reports/history/{report_id}/link",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::get(
            "/clinics/{clinic_id}/reports/history",
            domain::org_reports::CLINIC_READERS,
        ),
        Endpoint::get(
            "/clinics/{clinic_id}/reports/history/{report_id}/link",
            domain::org_reports::CLINIC_READERS,
        ),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
