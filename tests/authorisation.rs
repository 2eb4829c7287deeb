//! Authorisation on the local server's Router (SPEC S1–S3), generated from the route table
//! `domain::routes::ROUTES` so that a new route is covered the day it lands:
//!
//! - **the authorisation matrix**: every route × no token and a token of every role (scoped to
//!   `org-1` / `clinic-1`): no token 401 on every protected route, a role the route does not
//!   declare 403, a declared role neither 401 nor 403; the denied calls change nothing (the
//!   embedded store's append-only log, the blob directory and the outbox are byte for byte the
//!   same afterwards);
//! - **tenant and object fences**: every route taking an organisation, clinic, report, job or
//!   referral id, called by each of its roles from another tenant (or no party of the
//!   referral), answers 403 or 404 — and exactly the same status and body for another
//!   tenant's existing id as for an id that does not exist.

#![allow(clippy::unwrap_used)]

use crate::support::app::{local_now, LocalTestApp};
use crate::support::events::two_organisations;
use crate::support::TempDir;
use api::routes::{Route, ROUTES};
use domain::auth::Role;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// A plausible value for a path parameter (ours, for the matrix).
fn own_param(name: &str) -> &'static str {
    match name {
        "org_id" => "org-1",
        "clinic_id" => "clinic-1",
        "report_type" => "consultations",
        "thread_id" => "thr-a",
        "practitioner_id" => "prac-a",
        "referral_id" => "ref-none",
        "report_id" => "rep-none",
        _ => "id-none",
    }
}

fn params_of(route: &Route) -> Vec<&'static str> {
    route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn fill(route: &Route, values: &BTreeMap<&str, String>) -> String {
    let mut path = route.path.to_string();
    for name in params_of(route) {
        let v = values
            .get(name)
            .cloned()
            .unwrap_or_else(|| own_param(name).to_string());
        path = path.replace(&format!("{{{name}}}"), &v);
    }
    path
}

/// A body the route would accept in shape (so a fence is not hidden behind a 400).
fn body_for(route: &Route) -> Option<Value> {
    match route.method {
        "GET" | "DELETE" => None,
        _ if route.path.ends_with("/download") || route.path.ends_with("/email") => {
            Some(json!({ "from": "2026-11-01", "to": "2026-11-15" }))
        }
        _ if route.path.ends_with("/reports/config") => {
            Some(json!({ "time_zone": "UTC", "min_duration_seconds": 0 }))
        }
        _ if route.path.ends_with("-decision") => Some(json!({ "decision": "accept" })),
        _ if route.path.ends_with("/availability") => Some(json!({ "availability": "away" })),
        _ => Some(json!({})),
    }
}

/// Everything the server has written: each file under the data directory with its bytes,
/// except the signing keys (written once at start).
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn sub_for(role: Role) -> &'static str {
    match role {
        Role::Practitioner => "prac-a",
        Role::Patient => "pat-a",
        Role::PlatformAdmin => "admin-1",
        Role::Service => "svc-1",
        _ => "acc-1",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_role_allows_exactly_the_declared_roles() {
    let dir = TempDir::new("authorisation-matrix");
    let server = LocalTestApp::open(dir.path(), local_now());
    server.ingest(two_organisations()).await;
    let token = |role: Role| server.token_for(sub_for(role), role, &["org-1"], &["clinic-1"]);
    let none = BTreeMap::new();

    // Denied calls first: no token, then every role the route does not declare.
    let before = snapshot(dir.path());
    let mut denied = 0;
    for route in ROUTES.iter() {
        let path = fill(route, &none);
        let body = body_for(route);
        if !route.roles.is_empty() {
            let (status, problem) = server.send(route.method, &path, None, body.as_ref()).await;
            assert_eq!(
                status, 401,
                "{} {path} without a token: {problem}",
                route.method
            );
            assert_eq!(problem["status"], 401, "{problem}");
            denied += 1;
        }
        for role in Role::ALL {
            if route.roles.is_empty() || route.roles.contains(&role) {
                continue;
            }
            let t = token(role);
            let (status, problem) = server
                .send(route.method, &path, Some(&t), body.as_ref())
                .await;
            assert_eq!(status, 403, "{} {path} as {role}: {problem}", route.method);
            assert_eq!(problem["status"], 403, "{problem}");
            denied += 1;
        }
    }
    let after = snapshot(dir.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "denied calls created or removed files"
    );
    for (name, bytes) in &before {
        assert!(after[name] == *bytes, "denied calls changed {name}");
    }

    // Declared roles pass the authorisation check (the answer may still be 2xx/400/404/409).
    let mut allowed = 0;
    for route in ROUTES.iter() {
        let path = fill(route, &none);
        let body = body_for(route);
        let roles: Vec<Option<Role>> = if route.roles.is_empty() {
            vec![None]
        } else {
            route.roles.iter().copied().map(Some).collect()
        };
        for role in roles {
            let t = role.map(token);
            let (status, answer) = server
                .send(route.method, &path, t.as_deref(), body.as_ref())
                .await;
            assert!(
                status != 401 && status != 403 && status < 500,
                "{} {path} as {role:?}: {status} {answer}",
                route.method
            );
            allowed += 1;
        }
    }
    eprintln!(
        "authorisation matrix: {} routes x ({} roles + no token): {denied} denied, {allowed} allowed",
        ROUTES.len(),
        Role::ALL.len()
    );
    assert_eq!(
        denied + allowed,
        ROUTES
            .iter()
            .map(|r| if r.roles.is_empty() {
                1
            } else {
                Role::ALL.len() + 1
            })
            .sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_answer_exactly_like_ids_that_do_not_exist() {
    let dir = TempDir::new("authorisation-fences");
    let server = LocalTestApp::open(dir.path(), local_now());
    server.ingest(two_organisations()).await;

    // Objects of the other tenant: a report of org-2 (organisation level) and one of clinic-2,
    // and a referral between prac-a, prac-b and pat-a.
    let org2 = server.token_for("acc-9", Role::OrgAdmin, &["org-2"], &[]);
    let range = json!({ "from": "2026-11-01", "to": "2026-11-15" });
    let (status, made) = server
        .send(
            "POST",
            "/orgs/org-2/reports/organisation/download",
            Some(&org2),
            Some(&range),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let org_report = made["report"]["report_id"].as_str().unwrap().to_string();
    let (status, made) = server
        .send(
            "POST",
            "/clinics/clinic-2/reports/clinics/download",
            Some(&org2),
            Some(&range),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let clinic_report = made["report"]["report_id"].as_str().unwrap().to_string();
    let mut jobs = Vec::new();
    for path in [
        "/orgs/org-2/reports/organisation/email",
        "/clinics/clinic-2/reports/clinics/email",
    ] {
        let (status, made) = server.send("POST", path, Some(&org2), Some(&range)).await;
        assert_eq!(status, 202, "{path}: {made}");
        jobs.push(made["job"]["job_id"].as_str().unwrap().to_string());
    }
    let referrer = server.token_for("prac-a", Role::Practitioner, &[], &[]);
    let (status, referral) = server
        .send(
            "POST",
            "/referrals",
            Some(&referrer),
            Some(&json!({ "patient_id": "pat-a", "specialist_id": "prac-b" })),
        )
        .await;
    assert_eq!(status, 201, "{referral}");
    let referral_id = referral["referral_id"].as_str().unwrap().to_string();

    // A well-formed id of the same shape that names nothing.
    let missing = |id: &str| {
        let mut s = id.to_string();
        let last = s.pop().unwrap();
        s.push(if last == '0' { '1' } else { '0' });
        s
    };
    let mut fences = 0;
    for route in ROUTES.iter() {
        for param in params_of(route) {
            let (existing, nonexistent, callers): (String, String, Vec<(Role, String)>) =
                match param {
                    "org_id" => (
                        "org-2".into(),
                        "org-999".into(),
                        org_callers(&server, route),
                    ),
                    "clinic_id" => (
                        "clinic-2".into(),
                        "clinic-999".into(),
                        org_callers(&server, route),
                    ),
                    "report_id" => {
                        let r = if route.path.starts_with("/clinics/") {
                            clinic_report.clone()
                        } else {
                            org_report.clone()
                        };
                        let m = missing(&r);
                        (r, m, org_callers(&server, route))
                    }
                    "job_id" => {
                        let j = if route.path.starts_with("/clinics/") {
                            jobs[1].clone()
                        } else {
                            jobs[0].clone()
                        };
                        let m = missing(&j);
                        (j, m, org_callers(&server, route))
                    }
                    "referral_id" => (
                        referral_id.clone(),
                        missing(&referral_id),
                        route
                            .roles
                            .iter()
                            .map(|&role| {
                                let sub = if role == Role::Patient {
                                    "pat-b"
                                } else {
                                    "prac-c"
                                };
                                (role, server.token_for(sub, role, &[], &[]))
                            })
                            .collect(),
                    ),
                    // Not a tenant fence: the report type is a name, admin ids are seen by
                    // platform admins only (the matrix holds them to that role).
                    _ => continue,
                };
            for (role, token) in callers {
                let body = body_for(route);
                let mut a = BTreeMap::new();
                a.insert(param, existing.clone());
                let mut b = BTreeMap::new();
                b.insert(param, nonexistent.clone());
                let (pa, pb) = (fill(route, &a), fill(route, &b));
                let (sa, ba) = server
                    .send(route.method, &pa, Some(&token), body.as_ref())
                    .await;
                let (sb, bb) = server
                    .send(route.method, &pb, Some(&token), body.as_ref())
                    .await;
                assert!(
                    sa == 403 || sa == 404,
                    "{} {pa} as {role} of another tenant: {sa} {ba}",
                    route.method
                );
                assert_eq!(
                    (sa, &ba),
                    (sb, &bb),
                    "{} as {role}: {pa} (exists elsewhere) and {pb} (does not exist) differ",
                    route.method
                );
                fences += 1;
            }
        }
    }
    eprintln!("tenant fences: {fences} pairs compared");
    assert!(fences >= 30, "only {fences} fences");

    // The owners do reach them (the fences above are not vacuous).
    let (status, body) = server
        .send(
            "GET",
            &format!("/orgs/org-2/reports/history/{org_report}/link"),
            Some(&org2),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .send(
            "GET",
            &format!("/referrals/{referral_id}"),
            Some(&referrer),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Each role of an organisation or clinic route, as a caller of `org-1` / `clinic-1`.
fn org_callers(server: &LocalTestApp, route: &Route) -> Vec<(Role, String)> {
    route
        .roles
        .iter()
        .map(|&role| {
            let t = if role == Role::ClinicAdmin {
                server.token_for("acc-4", role, &[], &["clinic-1"])
            } else {
                server.token_for("acc-1", role, &["org-1"], &[])
            };
            (role, t)
        })
        .collect()
}

/// An org role reaches a clinic only through the clinic's organisation as the data records it:
/// an `org-1` reporter (or admin, or coordinator) whose token names `org-2`'s `clinic-2` in its
/// `clinics` claim gets, on every clinic route, exactly the answer of a clinic that does not
/// exist; a clinic admin reaches only the clinics its claim names, whatever its `orgs` claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_claim_does_not_reach_another_organisations_clinic() {
    let dir = TempDir::new("authorisation-clinic-claims");
    let server = LocalTestApp::open(dir.path(), local_now());
    server.ingest(two_organisations()).await;
    let range = json!({ "from": "2026-11-01", "to": "2026-11-15" });
    // clinic-2 has a history: one report, downloaded by its own organisation's admin.
    let org2 = server.token_for("acc-9", Role::OrgAdmin, &["org-2"], &[]);
    let (status, made) = server
        .send(
            "POST",
            "/clinics/clinic-2/reports/clinics/download",
            Some(&org2),
            Some(&range),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, history) = server
        .send(
            "GET",
            "/clinics/clinic-2/reports/history",
            Some(&org2),
            None,
        )
        .await;
    assert_eq!(
        (status, history["items"].as_array().map(Vec::len)),
        (200, Some(1))
    );

    let mut callers: Vec<(Role, String)> =
        [Role::OrgAdmin, Role::OrgCoordinator, Role::OrgReporter]
            .into_iter()
            .map(|role| {
                (
                    role,
                    server.token_for("acc-1", role, &["org-1"], &["clinic-2"]),
                )
            })
            .collect();
    callers.push((
        Role::ClinicAdmin,
        server.token_for("acc-4", Role::ClinicAdmin, &["org-2"], &["clinic-1"]),
    ));
    let mut checked = 0;
    for route in ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/clinics/{clinic_id}"))
    {
        for (role, token) in callers
            .iter()
            .filter(|(role, _)| route.roles.contains(role))
        {
            let body = body_for(route);
            let path = |clinic: &str| {
                let mut params = BTreeMap::new();
                params.insert("clinic_id", clinic.to_string());
                fill(route, &params)
            };
            let (theirs, missing) = (path("clinic-2"), path("clinic-999"));
            let (sa, ba) = server
                .send(route.method, &theirs, Some(token), body.as_ref())
                .await;
            let (sb, bb) = server
                .send(route.method, &missing, Some(token), body.as_ref())
                .await;
            assert_eq!(sa, 404, "{} {theirs} as {role}: {ba}", route.method);
            assert_eq!((sa, &ba), (sb, &bb), "{} {theirs} as {role}", route.method);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} calls");
    // The same tokens reach their own clinic-1.
    for (role, token) in &callers {
        let (status, body) = server
            .send(
                "GET",
                "/clinics/clinic-1/reports/history",
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{role}: {body}");
    }
}
