//! `GET /admin/threads/{thread_id}` (SPEC A2): a thread's participants, devices and tags, and
//! one page of its messages (sender, role, kind, time, device; the text of system messages
//! only, never a participant message's ciphertext). Role `platform_admin` only; `limit` and
//! `cursor` page the messages.

use crate::function::{Endpoint, Function};
use crate::http::{ApiRequest, ApiResponse, HandlerResult, Problem};
use crate::tab::list_params;
use domain::admin::authorize;
use domain::admin::thread::thread_details;
use domain::deps::Deps;
use domain::events::types::Id;
use std::sync::Arc;

/// The store only (thread details have no export): see [`domain::deps::Wiring`].
pub const WIRING: domain::deps::Wiring = domain::deps::Wiring::store_only("admin-thread");

/// Serves the details, or 404 for an unknown thread.
pub async fn handle(deps: Arc<Deps>, req: ApiRequest) -> HandlerResult {
    authorize(req.principal.as_ref())?;
    let id = req
        .path_id("thread_id")?
        .and_then(|t| Id::parse(t).ok())
        .ok_or_else(|| Problem::not_found("thread"))?;
    let mut params = list_params(&req, &[])?;
    if params.period.is_some() || params.q.is_some() {
        return Err(Problem::bad_request(
            "query",
            "thread details take only limit and cursor",
        ));
    }
    params.extra.clear();
    let details = thread_details(&*deps.store, id.as_str(), &params)
        .await?
        .ok_or_else(|| Problem::not_found("thread"))?;
    tracing::info!(request_id = %req.request_id, thread_id = %id, items_read = details.read, "admin thread");
    Ok(ApiResponse::json(200, &details).with_header("x-items-read", details.read.to_string()))
}

/// The function: its routes, the roles they admit, its ports and its handler.
pub const FUNCTION: Function = Function {
    wiring: WIRING,
    endpoints: &[Endpoint::get(
        "/admin/threads/{thread_id}",
        domain::admin::ADMIN_ROLES,
    )],
    handler: |deps, req| Box::pin(handle(deps, req)),
};
