//! `GET /orgs/{org_id}/reports/config` (org admins, coordinators, reporters) and
//! `PUT /orgs/{org_id}/reports/config` (org admins): the organisation's report configuration
//! (SPEC C1). A change is audited in the same transaction (D4); a stale `version` answers 409.
//!
//! And what the configuration's tags and the clinic reports name, by name (C13):
//! `GET /orgs/{org_id}/clinics` and `GET /orgs/{org_id}/rooms` (the organisation's readers),
//! `GET /clinics/{clinic_id}` (its readers, clinic admins of that clinic included); and the
//! accounts a schedule's recipients are picked from, `GET /orgs/{org_id}/accounts` (org admins).

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use domain::deps::Deps;
use domain::org_reports::config::{load_config, save_config, ConfigChange};
use domain::org_reports::places::{self, Places};
use domain::org_reports::{CLINIC_READERS, CONFIG_WRITERS, ORG_READERS};
use std::sync::Arc;

/// The store only (no blob store, no mailer): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("org-report-config");

/// Reads or replaces the configuration, or lists what it names.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    // A clinic's route first: its id may be any word, `rooms` too.
    if req.path_param("clinic_id").is_some() {
        let (_, scope) = super::authorise_report(&deps, &req, &[], CLINIC_READERS).await?;
        let clinic = places::clinic(&*deps.store, &scope).await?;
        return Ok(ApiResponse::json(200, &clinic));
    }
    let listed = if req.path.ends_with("/clinics") {
        Some(Places::Clinics)
    } else if req.path.ends_with("/rooms") {
        Some(Places::Rooms)
    } else if req.path.ends_with("/accounts") {
        Some(Places::Accounts)
    } else {
        None
    };
    if let Some(which) = listed {
        let roles = match which {
            Places::Accounts => CONFIG_WRITERS,
            Places::Clinics | Places::Rooms => ORG_READERS,
        };
        let (_, scope) = super::authorise_report(&deps, &req, roles, &[]).await?;
        let (limit, cursor) = places::page_params(
            &scope,
            which,
            req.query_param("limit"),
            req.query_param("cursor"),
        )?;
        let store = &*deps.store;
        return Ok(match which {
            Places::Clinics => {
                let page = places::list_clinics(store, &scope, limit, cursor).await?;
                ApiResponse::json(200, &page)
            }
            Places::Rooms => {
                let page = places::list_rooms(store, &scope, limit, cursor).await?;
                ApiResponse::json(200, &page)
            }
            Places::Accounts => {
                let page = places::list_accounts(store, &scope, limit, cursor).await?;
                ApiResponse::json(200, &page)
            }
        });
    }
    match req.method.to_ascii_uppercase().as_str() {
        "GET" => {
            let (_, scope) = super::authorise_report(&deps, &req, ORG_READERS, &[]).await?;
            let config = load_config(&*deps.store, scope.org_id()).await?;
            Ok(ApiResponse::json(200, &config))
        }
        "PUT" => {
            let (actor, scope) = super::authorise_report(&deps, &req, CONFIG_WRITERS, &[]).await?;
            let change: ConfigChange = req.json()?;
            let saved = save_config(
                &*deps.store,
                &actor,
                deps.clock.now(),
                scope.org_id(),
                change,
            )
            .await?;
            tracing::info!(request_id = %req.request_id, org_id = %saved.org_id, version = saved.version, "report configuration saved");
            Ok(ApiResponse::json(200, &saved))
        }
        _ => Err(Problem::method_not_allowed()),
    }
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[
        Endpoint::get(
            "/orgs/{org_id}/reports/config",
            domain::org_reports::ORG_READERS,
        ),
        Endpoint::put(
            "/orgs/{org_id}/reports/config",
            domain::org_reports::CONFIG_WRITERS,
        ),
        Endpoint::get("/orgs/{org_id}/clinics", domain::org_reports::ORG_READERS),
        Endpoint::get("/orgs/{org_id}/rooms", domain::org_reports::ORG_READERS),
        Endpoint::get(
            "/orgs/{org_id}/accounts",
            domain::org_reports::CONFIG_WRITERS,
        ),
        Endpoint::get("/clinics/{clinic_id}", domain::org_reports::CLINIC_READERS),
    ],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
