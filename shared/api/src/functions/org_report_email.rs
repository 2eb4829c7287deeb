//! `POST /orgs/{org_id}/reports/{report_type}/email` and
//! `POST /clinics/{clinic_id}/reports/{report_type}/email` (roles as the download's): queue an
//! emailed report for any range and answer 202 with its job at once (the same job again for the
//! same request within the dedup window); `GET /orgs/{org_id}/reports/jobs/{job_id}` and
//! `GET /clinics/{clinic_id}/reports/jobs/{job_id}`: the job's state and progress (SPEC D2).
//! The export itself runs in `org-report-email-job`.
//!
//! Scheduled reports (D7), whose runs are such jobs: `GET /orgs/{org_id}/reports/schedules`
//! (the organisation's readers), `POST` there to create one, `PUT
//! .../schedules/{schedule_id}/state` to pause or resume one, `DELETE
//! .../schedules/{schedule_id}` (org admins).

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use domain::deps::Deps;
use domain::org_reports::download::ReportType;
use domain::org_reports::email::schedule::{self, ScheduleInput, ScheduleState};
use domain::org_reports::email::{find_job, request_email};
use domain::org_reports::params::ParamsInput;
use domain::org_reports::{CLINIC_READERS, CONFIG_WRITERS, ORG_READERS};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("org-report-email");

/// Queues an emailed report (POST) or shows a job (GET); or lists and changes the schedules.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    if req.path_param("schedule_id").is_some() || req.path.ends_with("/reports/schedules") {
        return schedules(deps, req).await;
    }
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

/// The body of `PUT .../schedules/{schedule_id}/state`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateChange {
    state: ScheduleState,
}

/// The schedule routes.
async fn schedules(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let method = req.method.to_ascii_uppercase();
    let readers = if method == "GET" {
        ORG_READERS
    } else {
        CONFIG_WRITERS
    };
    let (actor, scope) = super::authorise_report(&deps, &req, readers, &[]).await?;
    let (store, now, org_id) = (&*deps.store, deps.clock.now(), scope.org_id());
    let Some(schedule_id) = req.path_id("schedule_id")? else {
        if method == "GET" {
            return Ok(ApiResponse::json(
                200,
                &schedule::list(store, org_id).await?,
            ));
        }
        let input: ScheduleInput = req.json()?;
        let created = schedule::create(store, &actor, org_id, input, now).await?;
        tracing::info!(request_id = %req.request_id, schedule_id = %created.schedule_id, "report schedule created");
        return Ok(ApiResponse::json(201, &created));
    };
    if method == "DELETE" {
        schedule::delete(store, &actor, org_id, schedule_id, now).await?;
        tracing::info!(request_id = %req.request_id, schedule_id, "report schedule deleted");
        return Ok(ApiResponse::json(
            200,
            &serde_json::json!({ "deleted": schedule_id }),
        ));
    }
    let StateChange { state } = req.json()?;
    let changed = schedule::set_state(store, &actor, org_id, schedule_id, state, now).await?;
    Ok(ApiResponse::json(200, &changed))
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
        Endpoint::get(
            "/orgs/{org_id}/reports/schedules",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::post(
            "/orgs/{org_id}/reports/schedules",
            domain::org_reports::CONFIG_WRITERS,
        ),
        Endpoint::put(
            "/orgs/{org_id}/reports/schedules/{schedule_id}/state",
            domain::org_reports::CONFIG_WRITERS,
        ),
        Endpoint::delete(
            "/orgs/{org_id}/reports/schedules/{schedule_id}",
            domain::org_reports::CONFIG_WRITERS,
        ),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
