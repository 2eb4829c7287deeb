//! `GET /orgs/{org_id}/reports/summary` (org admins, coordinators, reporters) and
//! `GET /clinics/{clinic_id}/reports/summary` (clinic admins of the clinic, org roles of its
//! organisation): the summary tiles (SPEC C2) for `from`, `to`, `time_zone` and
//! `min_duration_seconds` given as query parameters (missing ones from the configuration). A
//! range over 2 calendar months has no tiles: 422 (email only). The period's figures come from
//! the statistics items ingest keeps (`domain::org_reports::stats`): the same number of reads
//! at any volume.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use domain::deps::Deps;
use domain::org_reports::config::load_config;
use domain::org_reports::params::{ParamsInput, ReportParams};
use domain::org_reports::tiles::load_tiles;
use domain::org_reports::{CLINIC_READERS, ORG_READERS};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("org-report-summary");

/// Answers the tiles.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    let (_, scope) = super::authorise_report(&deps, &req, ORG_READERS, CLINIC_READERS).await?;
    let min_duration_seconds = match req.query_param("min_duration_seconds") {
        None => None,
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            Problem::bad_request("min_duration_seconds", "must be a whole number of seconds")
        })?),
    };
    let input = ParamsInput {
        from: req.query_param("from").map(str::to_string),
        to: req.query_param("to").map(str::to_string),
        time_zone: req.query_param("time_zone").map(str::to_string),
        min_duration_seconds,
    };
    let config = load_config(&*deps.store, scope.org_id()).await?;
    let params = ReportParams::resolve(&input, &config)?;
    params.require_interactive()?;
    let tiles = load_tiles(&*deps.store, &scope, &params).await?;
    Ok(ApiResponse::json(200, &tiles))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get(
            "/orgs/{org_id}/reports/summary",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::get(
            "/clinics/{clinic_id}/reports/summary",
            domain::org_reports::CLINIC_READERS,
        ),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
