//! The audit trail in view (SPEC A10) on both store adapters, through the `audit-trail`
//! function: platform admins list every record newest first with each filter (actor, action,
//! object, organisation, period), page and export it; an organisation admin sees their
//! organisation's records and gets 404 for another organisation; every read is itself a
//! record; bad filters name their parameter.

#![allow(clippy::unwrap_used)]

use crate::admin::{world_with, World};
use crate::support::events::organisation;
use chrono::{DateTime, Utc};
use domain::audit::AuditRecord;
use domain::auth::{Principal, Role};
use domain::ports::{Condition, Store};
use serde_json::{json, Value};
use std::sync::Arc;

fn who(sub: &str, role: Role, orgs: &[&str]) -> Principal {
    Principal {
        sub: sub.into(),
        role,
        orgs: orgs.iter().map(|o| o.to_string()).collect(),
        clinics: vec![],
    }
}

fn admin() -> Principal {
    who("admin-1", Role::PlatformAdmin, &[])
}

fn org_admin() -> Principal {
    who("acc-1", Role::OrgAdmin, &["org-1"])
}

fn t(day: u32) -> DateTime<Utc> {
    format!("2026-03-0{day}T10:00:00Z").parse().unwrap()
}

/// The two organisations, and four records, one a day from 1 to 4 March 2026: a report of
/// org-1, a report of org-2, an override on the platform, a referral step. Their ids, oldest
/// first.
async fn trail(store: Arc<dyn Store>) -> (World, Vec<String>) {
    let org = |id: &str| {
        organisation(
            id,
            id,
            "Victoria",
            "Enterprise 2025",
            "2024-01-01T00:00:00Z",
        )
        .event(&format!("w-{id}"), "2026-02-01T09:00:00Z")
    };
    let w = world_with(store, &[org("org-1"), org("org-2")]).await;
    let records = [
        AuditRecord::in_org(
            &org_admin(),
            t(1),
            "report.downloaded",
            "org-1",
            "rep-1",
            json!({"report_type": "clinics"}),
        ),
        AuditRecord::in_org(
            &who("acc-2", Role::OrgAdmin, &["org-2"]),
            t(2),
            "report.emailed",
            "org-2",
            "rep-2",
            Value::Null,
        ),
        AuditRecord::new(
            &admin(),
            t(3),
            "availability.overridden",
            "PLATFORM",
            "prac_a",
        ),
        AuditRecord::new(
            &who("prac-1", Role::Practitioner, &[]),
            t(4),
            "referral.created",
            "REFERRAL#ref-1",
            "ref-1",
        ),
    ];
    for r in &records {
        w.deps
            .store
            .put(r.item(), Condition::NotExists)
            .await
            .unwrap();
    }
    (w, records.iter().map(|r| r.record_id.clone()).collect())
}

/// The record ids of a page, and its answer.
async fn page(
    w: &World,
    who: Principal,
    path: &str,
    query: &[(&str, &str)],
) -> (Vec<String>, Value) {
    let a = w.call_as(Some(who), "GET", path, query, None).await;
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    assert_eq!(a.read, a.body["read"].as_u64().map(|n| n as usize));
    let ids = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record_id"].as_str().unwrap().to_string())
        .collect();
    (ids, a.body)
}

const MARCH: [(&str, &str); 2] = [("from", "2026-03-01"), ("to", "2026-03-04")];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    MARCH.iter().copied().chain(extra.iter().copied()).collect()
}

async fn platform_admins_filter_page_and_export(store: Arc<dyn Store>) {
    let (w, ids) = trail(store).await;
    let rev = |i: &[usize]| i.iter().map(|&i| ids[i].clone()).collect::<Vec<_>>();
    let (all, body) = page(&w, admin(), "/admin/audit", &MARCH).await;
    assert_eq!(all, rev(&[3, 2, 1, 0]));
    assert_eq!(
        body["items"][3],
        json!({"record_id": ids[0], "at": "2026-03-01T10:00:00Z", "actor_sub": "acc-1",
               "actor_role": "org_admin", "action": "report.downloaded", "scope": "ORG#org-1",
               "org_id": "org-1", "object_id": "rep-1", "params": {"report_type": "clinics"}})
    );
    for (filter, want) in [
        (("actor", "acc-1"), rev(&[0])),
        (("action", "referral.created"), rev(&[3])),
        (("object", "prac_a"), rev(&[2])),
        (("org", "org-2"), rev(&[1])),
    ] {
        assert_eq!(
            page(&w, admin(), "/admin/audit", &with(&[filter])).await.0,
            want
        );
    }
    let none = page(
        &w,
        admin(),
        "/admin/audit",
        &with(&[("actor", "acc-1"), ("org", "org-2")]),
    )
    .await;
    assert!(none.0.is_empty());
    // A day in a zone: 2 March in Sydney is 1 March 13:00 UTC to 2 March 13:00 UTC.
    let sydney = [
        ("from", "2026-03-02"),
        ("to", "2026-03-02"),
        ("tz", "Australia/Sydney"),
    ];
    assert_eq!(
        page(&w, admin(), "/admin/audit", &sydney).await.0,
        rev(&[1])
    );
    // Pages of two.
    let (first, body) = page(&w, admin(), "/admin/audit", &with(&[("limit", "2")])).await;
    assert_eq!(first, rev(&[3, 2]));
    let cursor = body["next_cursor"].as_str().unwrap().to_string();
    let (second, body) = page(
        &w,
        admin(),
        "/admin/audit",
        &with(&[("limit", "2"), ("cursor", &cursor)]),
    )
    .await;
    assert_eq!(second, rev(&[1, 0]));
    assert_eq!(body["next_cursor"], Value::Null);
    // Every read above was recorded, newest first, with its filters; this read too.
    let (viewed, body) = page(&w, admin(), "/admin/audit", &[("action", "audit.viewed")]).await;
    assert_eq!(viewed.len(), 10);
    let items = body["items"].as_array().unwrap();
    assert!(items
        .iter()
        .all(|r| (&r["actor_sub"], &r["scope"], &r["object_id"])
            == (&json!("admin-1"), &json!("PLATFORM"), &json!("audit"))));
    let filters: Vec<&Value> = items.iter().map(|r| &r["params"]["filters"]).collect();
    assert!(filters
        .contains(&&json!({"actor": null, "action": "audit.viewed", "object": null, "org": null})));
    assert!(
        filters.contains(&&json!({"actor": "acc-1", "action": null, "object": null, "org": null}))
    );
    assert!(items
        .iter()
        .any(|r| r["params"]["from"] == json!("2026-03-01T00:00:00Z")
            && r["params"]["to"] == json!("2026-03-05T00:00:00Z")));
    // The export: every selected record, and its own record.
    let csv = w
        .export("/admin/audit/export", &with(&[("bom", "false")]))
        .await;
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "at,record_id,actor_sub,actor_role,action,scope,org_id,object_id,row_count,object_key,params"
    );
    assert_eq!(
        lines[4],
        format!(
            "2026-03-01T10:00:00+00:00,{},acc-1,org_admin,report.downloaded,ORG#org-1,org-1,rep-1,,,\"{{\"\"report_type\"\":\"\"clinics\"\"}}\"",
            ids[0]
        )
    );
    assert_eq!(lines.len(), 5);
    let (exported, _) = page(
        &w,
        admin(),
        "/admin/audit",
        &[("action", "admin.exported"), ("object", "audit")],
    )
    .await;
    assert_eq!(exported.len(), 1);
}

async fn org_admins_see_their_organisation_only(store: Arc<dyn Store>) {
    let (w, ids) = trail(store).await;
    let (mine, _) = page(&w, org_admin(), "/orgs/org-1/audit", &MARCH).await;
    assert_eq!(mine, [ids[0].clone()]);
    // Their own read is in their organisation's trail now.
    let (now, body) = page(&w, org_admin(), "/orgs/org-1/audit", &[]).await;
    assert_eq!(now.len(), 3);
    assert_eq!(
        (
            &body["items"][0]["action"],
            &body["items"][0]["actor_sub"],
            &body["items"][0]["org_id"]
        ),
        (&json!("audit.viewed"), &json!("acc-1"), &json!("org-1"))
    );
    assert_eq!(now[2], ids[0]);
    // Another organisation, an unknown one: 404, and nothing recorded for them.
    for path in ["/orgs/org-2/audit", "/orgs/org-9/audit"] {
        let a = w.call_as(Some(org_admin()), "GET", path, &[], None).await;
        assert_eq!(a.status, 404, "{path}");
    }
    let (org2, _) = page(&w, admin(), "/admin/audit", &[("org", "org-2")]).await;
    assert_eq!(org2, [ids[1].clone()]);
    // Other roles: 403; the organisation is the route's, not a filter.
    for who in [
        who("acc-3", Role::OrgReporter, &["org-1"]),
        who("acc-4", Role::OrgCoordinator, &["org-1"]),
        admin(),
    ] {
        let a = w
            .call_as(Some(who), "GET", "/orgs/org-1/audit", &[], None)
            .await;
        assert_eq!(a.status, 403);
    }
    for who in [org_admin(), who("prac-1", Role::Practitioner, &[])] {
        let a = w.call_as(Some(who), "GET", "/admin/audit", &[], None).await;
        assert_eq!(a.status, 403);
    }
    let a = w
        .call_as(
            Some(org_admin()),
            "GET",
            "/orgs/org-1/audit",
            &[("org", "org-2")],
            None,
        )
        .await;
    assert_eq!((a.status, a.body["field"].clone()), (400, json!("query")));
    let a = w.call_as(None, "GET", "/orgs/org-1/audit", &[], None).await;
    assert_eq!(a.status, 401);
}

async fn bad_filters_name_their_parameter(store: Arc<dyn Store>) {
    let (w, _) = trail(store).await;
    let long = "a".repeat(129);
    for (query, field) in [
        (vec![("actor", "acc 1")], "actor"),
        (vec![("actor", long.as_str())], "actor"),
        (vec![("action", "")], "action"),
        (vec![("action", "a"), ("action", "b")], "action"),
        (vec![("object", "x/y")], "object"),
        (vec![("org", "org-1\u{7}")], "org"),
        (vec![("q", "acc")], "q"),
        (vec![("who", "x")], "query"),
        (vec![("limit", "201")], "limit"),
    ] {
        let a = w.get("/admin/audit", &query).await;
        assert_eq!(
            (a.status, a.body["field"].clone()),
            (400, json!(field)),
            "{query:?}"
        );
    }
    // A refused read records nothing.
    let (viewed, _) = page(&w, admin(), "/admin/audit", &[("action", "audit.viewed")]).await;
    assert_eq!(viewed.len(), 1);
}

/// The read is recorded before the records are read: when the record cannot be written, the
/// read fails and shows nothing, and nothing is left behind.
async fn no_read_without_its_record(store: Arc<dyn Store>) {
    let failing = crate::support::FailingWrites::new(store);
    let (w, _) = trail(failing.clone()).await;
    failing.arm(true);
    for (who, path) in [
        (admin(), "/admin/audit"),
        (org_admin(), "/orgs/org-1/audit"),
    ] {
        let a = w.call_as(Some(who), "GET", path, &[], None).await;
        assert_eq!(a.status, 503, "{path}: {}", a.body);
        assert_eq!(a.body.get("items"), None);
    }
    failing.arm(false);
    let (viewed, _) = page(&w, admin(), "/admin/audit", &[("action", "audit.viewed")]).await;
    assert_eq!(viewed.len(), 1);
}

crate::support::on_each_store!(
    platform_admins_filter_page_and_export,
    org_admins_see_their_organisation_only,
    bad_filters_name_their_parameter,
    no_read_without_its_record,
);
