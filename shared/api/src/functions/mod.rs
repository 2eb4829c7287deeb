//! Every HTTP function, one module each (its handler and its [`Function`] constant), and
//! [`ALL`]: the one list of them. A new function is a module here, an entry in [`ALL`], its
//! crate under `functions/` (a `main` that serves the constant), its resources in
//! `template.yaml` and its operations in `docs/openapi.yaml`; the tests hold those to this list.

use crate::function::Function;
use crate::http::{ApiRequest, ApiResponse, Problem};
use domain::auth::{Principal, Role};
use domain::deps::Deps;
use domain::org_reports::{authorise, ReportScope, ReportTarget};

pub mod admin_calls;
pub mod admin_consultations;
pub mod admin_feed;
pub mod admin_payment_items;
pub mod admin_payments;
pub mod admin_practitioners;
pub mod admin_ratings;
pub mod admin_referral_ageing;
pub mod admin_thread;
pub mod admin_vouchers;
pub mod audit_trail;
pub mod health;
pub mod ingest_http;
pub mod org_report_config;
pub mod org_report_download;
pub mod org_report_email;
pub mod org_report_history;
pub mod org_report_summary;
pub mod referral_create;
pub mod referral_get;
pub mod referral_list;
pub mod referral_patient_decision;
pub mod referral_specialist_decision;
pub mod referral_specialists;
pub mod referral_withdraw;

/// Every HTTP function, in the order the API documents them.
pub const ALL: &[Function] = &[
    health::FUNCTION,
    ingest_http::FUNCTION,
    admin_feed::FUNCTION,
    admin_thread::FUNCTION,
    admin_consultations::FUNCTION,
    admin_calls::FUNCTION,
    admin_practitioners::FUNCTION,
    admin_ratings::FUNCTION,
    admin_payments::FUNCTION,
    admin_payment_items::FUNCTION,
    admin_vouchers::FUNCTION,
    admin_referral_ageing::FUNCTION,
    audit_trail::FUNCTION,
    referral_specialists::FUNCTION,
    referral_create::FUNCTION,
    referral_patient_decision::FUNCTION,
    referral_specialist_decision::FUNCTION,
    referral_get::FUNCTION,
    referral_list::FUNCTION,
    referral_withdraw::FUNCTION,
    org_report_config::FUNCTION,
    org_report_download::FUNCTION,
    org_report_summary::FUNCTION,
    org_report_history::FUNCTION,
    org_report_email::FUNCTION,
];

/// Authorises a report route for the organisation or clinic its path names (`{org_id}` or
/// `{clinic_id}`): the caller, and the scope the report covers.
async fn authorise_report(
    deps: &Deps,
    req: &ApiRequest,
    org_roles: &[Role],
    clinic_roles: &[Role],
) -> Result<(Principal, ReportScope), Problem> {
    let target = match (req.path_id("org_id")?, req.path_id("clinic_id")?) {
        (Some(org_id), _) => ReportTarget::Org(org_id),
        (None, Some(clinic_id)) => ReportTarget::Clinic(clinic_id),
        (None, None) => return Err(Problem::not_found("resource")),
    };
    let caller = req.principal.as_ref();
    Ok(authorise(&*deps.store, caller, target, org_roles, clinic_roles).await?)
}

/// A referral step's answer: its status and body, marked `idempotent-replayed` when it is the
/// stored first answer of an earlier request with the same `Idempotency-Key`.
fn referral_answer(answer: &domain::referrals::flow::Answer) -> ApiResponse {
    let resp = ApiResponse::json(answer.status, &answer.body);
    if answer.replayed {
        resp.with_header("idempotent-replayed", "true")
    } else {
        resp
    }
}
