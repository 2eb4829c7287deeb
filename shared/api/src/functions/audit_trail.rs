//! The audit trail in view (SPEC A10): `GET /admin/audit` and `GET /admin/audit/export` for
//! platform admins (every record; filters `actor`, `action`, `object`, `org`, the period), and
//! `GET /orgs/{org_id}/audit` for an organisation admin (the records of their organisation,
//! which must exist and be theirs: another one answers 404). Every page read is recorded
//! first (`audit.viewed`); an export as every admin export (`admin.exported`).

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, HandlerResult};
use crate::tab::{list_params, serve_tab};
use domain::admin::audit_trail::{record_view, AuditTab, ORG_PARAMS, PARAMS};
use domain::admin::authorize;
use domain::auth::Role;
use domain::deps::Deps;
use domain::org_reports::{authorise, ReportTarget};
use std::sync::Arc;

/// The store and the blob store (the CSV export): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("audit-trail").with_blobs();

/// The roles of the organisation route.
const ORG_ROLES: &[Role] = &[Role::OrgAdmin];

/// Serves a page of the trail (recording the read), or the platform's CSV export.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let now = deps.clock.now();
    if let Some(org_id) = req.path_id("org_id")? {
        let target = ReportTarget::Org(org_id);
        let (actor, _) =
            authorise(&*deps.store, req.principal.as_ref(), target, ORG_ROLES, &[]).await?;
        let params = list_params(&req, ORG_PARAMS)?;
        let tab = AuditTab::for_org(&params, org_id)?;
        record_view(&*deps.store, &actor, now, &tab, &params, Some(org_id)).await?;
        return serve_tab(&deps, &req, &actor, &tab, &params).await;
    }
    let actor = authorize(req.principal.as_ref())?;
    let params = list_params(&req, PARAMS)?;
    let tab = AuditTab::from_params(&params)?;
    if !req.path.trim_end_matches('/').ends_with("/export") {
        record_view(&*deps.store, actor, now, &tab, &params, None).await?;
    }
    serve_tab(&deps, &req, actor, &tab, &params).await
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get("/admin/audit", domain::admin::ADMIN_ROLES),
        Endpoint::get("/admin/audit/export", domain::admin::ADMIN_ROLES),
        Endpoint::get("/orgs/{org_id}/audit", ORG_ROLES),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
