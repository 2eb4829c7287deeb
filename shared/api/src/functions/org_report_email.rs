//! `POST /orgs/{org_id}/reports/{report_type}/email` and
//! `POST /clinics/{clinic_id}/reports/{report_type}/email` (roles as the download's): queue an
//! emailed report for any range and answer 202 with its job at once (the same job again for the
//! same request within the dedup window); `GET /orgs/{org_id}/reports/jobs/{job_id}` and
//! `GET /clinics/{clinic_id}/reports/jobs/{job_id}`: the job's state and progress (SPEC D2).
//! The export itself runs in `org-report-email-job`.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use domain::deps::Deps;
use domain::org_reports::download::ReportType;
use domain::org_reports::email::{find_job, request_email};
use domain::org_reports::params::ParamsInput;
use domain::org_reports::{CLINIC_READERS, ORG_READERS};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("org-report-email");

/// Queues an emailed report (POST) or shows a job (GET).
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let (actor, scope) = super::authorise_report(&deps, &req, ORG_READERS, CLINIC_READERS).await?;
    if let Some(job_id) = req.path_id("job_id")? {
        let view = find_job(&deps, &scope, job_id).await?;
        return Ok(ApiResponse::json(200, &view));
    }
    let report_type = ReportType::parse(
        req.path_id("report_type")?
            .ok_or_else(|| Problem::not_found("report type"))?,
    )?;
    let input: ParamsInput = req.json()?;
    let (created, view) = request_email(&deps, &actor, scope, report_type, &input).await?;
    tracing::info!(
        request_id = %req.request_id,
        job_id = %view.job.job_id,
        created,
        "report email requested"
    );
    let location = view.status_url.clone();
    Ok(ApiResponse::json(202, &view).with_header("location", location))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::post(
            "/orgs/{org_id}/reports/{report_type}/email",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::post(
            "/clinics/{clinic_id}/reports/{report_type}/email",
            domain::org_reports::CLINIC_READERS,
        ),
        Endpoint::get(
            "/orgs/{org_id}/reports/jobs/{job_id}",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::get(
            "/clinics/{clinic_id}/reports/jobs/{job_id}",
            domain::org_reports::CLINIC_READERS,
        ),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
