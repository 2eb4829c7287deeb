//! `POST /orgs/{org_id}/reports/{report_type}/download` (org admins, coordinators, reporters)
//! and `POST /clinics/{clinic_id}/reports/{report_type}/download` (clinic admins of the clinic,
//! org roles of its organisation): builds the report for the parameters in the body, stores it,
//! records it in the 24-hour history and answers 201 with a presigned link valid for minutes
//! (SPEC C1, C9, C10, D1, D4). A range over 2 calendar months answers 422 (email only).

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use domain::deps::Deps;
use domain::org_reports::download::{download, report_tempdir, ReportType};
use domain::org_reports::params::ParamsInput;
use domain::org_reports::{CLINIC_READERS, ORG_READERS};
use std::sync::Arc;

/// The store and the blob store (the report file and its link): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring =
    domain::deps::Wiring::store_only("org-report-download").with_blobs();

/// Generates, stores and links one report.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let (actor, scope) = super::authorise_report(&deps, &req, ORG_READERS, CLINIC_READERS).await?;
    let report_type = ReportType::parse(
        req.path_id("report_type")?
            .ok_or_else(|| Problem::not_found("report type"))?,
    )?;
    let input: ParamsInput = req.json()?;
    let link = download(&deps, &actor, scope, report_type, &input, &report_tempdir()).await?;
    tracing::info!(
        request_id = %req.request_id,
        report_id = %link.report.report_id,
        rows = link.report.row_count.unwrap_or_default(),
        "report downloaded"
    );
    Ok(ApiResponse::json(201, &link))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::post(
            "/orgs/{org_id}/reports/{report_type}/download",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::post(
            "/clinics/{clinic_id}/reports/{report_type}/download",
            domain::org_reports::CLINIC_READERS,
        ),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
