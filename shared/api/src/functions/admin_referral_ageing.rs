//! `GET /admin/referral-ageing` (SPEC B11, role `platform_admin` only): how long referrals sit
//! in each state, from the counters the transitions keep ([`domain::referrals::ageing`]).
//! `by=state` (the default): every state's count, ended stays, median and 90th percentile
//! (histogram bounds), and the oldest pending referral; `by=specialty` or `by=specialist`: a
//! page (`limit` 1–100, default 20, `cursor`) of groups with the same figures per state.
//! `format=csv` answers the same rows as CSV (a group page's next cursor in the
//! `x-next-cursor` header). Any other parameter: 400 naming it.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use bytes::Bytes;
use domain::admin::authorize;
use domain::deps::Deps;
use domain::referrals::ageing::{self, Dimension};
use domain::referrals::page_params;
use serde_json::json;
use std::sync::Arc;

/// The store only (the CSV is answered inline): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("admin-referral-ageing");

const PARAMS: [&str; 4] = ["by", "limit", "cursor", "format"];

/// Answers the ageing figures as JSON or CSV.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    authorize(req.principal.as_ref())?;
    if let Some((name, _)) = req
        .query
        .iter()
        .find(|(k, _)| !PARAMS.contains(&k.as_str()))
    {
        return Err(Problem::bad_request(
            name,
            "not a parameter of this report (by, limit, cursor, format)",
        ));
    }
    let csv = match req.query_param("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(Problem::bad_request("format", "must be `json` or `csv`")),
    };
    let dimension = match req.query_param("by") {
        None | Some("state") => None,
        Some("specialty") => Some(Dimension::Specialty),
        Some("specialist") => Some(Dimension::Specialist),
        Some(_) => {
            return Err(Problem::bad_request(
                "by",
                "must be `state`, `specialty` or `specialist`",
            ))
        }
    };
    let (limit, cursor) = page_params(req.query_param("limit"), req.query_param("cursor"))?;
    let store = &*deps.store;
    let Some(dimension) = dimension else {
        if req.query_param("cursor").is_some_and(|c| !c.is_empty()) {
            return Err(Problem::bad_request("cursor", "the states are one page"));
        }
        let overall = ageing::overall(store, deps.clock.now()).await?;
        tracing::info!(request_id = %req.request_id, by = "state", "referral ageing");
        if csv {
            return Ok(csv_answer(
                ageing::csv_rows("all", "all", None, &overall.states),
                None,
            ));
        }
        return Ok(ApiResponse::json(
            200,
            &json!({ "by": "state", "states": overall.states, "oldest_pending": overall.oldest_pending }),
        ));
    };
    let page = ageing::by(store, dimension, limit, cursor).await?;
    let group = match dimension {
        Dimension::Specialty => "specialty",
        Dimension::Specialist => "specialist",
    };
    tracing::info!(request_id = %req.request_id, by = group, groups = page.items.len(), "referral ageing");
    if csv {
        let rows = page
            .items
            .iter()
            .flat_map(|g| ageing::csv_rows(group, &g.key, g.name.as_deref(), &g.states))
            .collect();
        return Ok(csv_answer(rows, page.next_cursor.as_deref()));
    }
    let mut body = json!({ "by": group, "items": page.items });
    if let Some(next) = &page.next_cursor {
        body["next_cursor"] = json!(next);
    }
    Ok(ApiResponse::json(200, &body))
}

fn csv_answer(
    rows: Vec<Vec<domain::export::cells::Cell>>,
    next_cursor: Option<&str>,
) -> ApiResponse {
    let body = ageing::csv(&rows);
    let mut answer = ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/csv; charset=utf-8".into()),
            (
                "content-disposition".into(),
                "attachment; filename=\"referral-ageing.csv\"".into(),
            ),
        ],
        body: Bytes::from(body),
    };
    if let Some(next) = next_cursor {
        answer = answer.with_header("x-next-cursor", next);
    }
    answer
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::get(
        "/admin/referral-ageing",
        domain::admin::ADMIN_ROLES,
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
