//! The organisation's clinics and rooms by name (`GET /orgs/{org_id}/clinics`, `.../rooms`,
//! `GET /clinics/{clinic_id}`): what the configuration and report screens pick from.

use crate::support::app::LocalTestApp;
use crate::support::events::{clinic, room, two_organisations};
use crate::support::TempDir;
use chrono::{DateTime, Utc};
use domain::auth::Role;
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    "2026-11-20T10:00:00Z".parse().expect("an instant")
}

/// `org-1` with three clinics (one deleted) and two rooms; `org-2` with its clinic and a room.
async fn world(dir: &TempDir) -> LocalTestApp {
    let app = LocalTestApp::open(dir.path(), now());
    app.ingest(two_organisations()).await;
    let at = "2026-11-10T10:00:00Z";
    let mut deleted = clinic(
        "clinic-0",
        "org-1",
        "Old Clinic",
        "Victoria",
        "Enterprise 2025",
        "2024-01-01T00:00:00Z",
    )
    .event("p-clinic-0", at);
    deleted["data"]["deleted_at"] = json!("2025-01-01T00:00:00Z");
    let events = json!([
        deleted,
        clinic(
            "clinic-3",
            "org-1",
            "Bayside",
            "Victoria",
            "Enterprise 2025",
            "2024-01-01T00:00:00Z"
        )
        .event("p-clinic-3", at),
        room(
            "room-1",
            "org-1",
            "clinic-1",
            "meeting",
            "Consult A",
            "2024-01-01T00:00:00Z"
        )
        .event("p-room-1", at),
        room(
            "room-2",
            "org-1",
            "clinic-3",
            "group",
            "Group B",
            "2024-01-01T00:00:00Z"
        )
        .event("p-room-2", at),
        room(
            "room-9",
            "org-2",
            "clinic-2",
            "meeting",
            "Elsewhere",
            "2024-01-01T00:00:00Z"
        )
        .event("p-room-9", at),
    ]);
    app.ingest(events).await;
    app
}

fn ids(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i[field].as_str().expect("an id").to_string())
        .collect()
}

#[tokio::test]
async fn org_readers_list_the_clinics_and_rooms_by_name_and_page_through_them() {
    let dir = TempDir::new("places");
    let app = world(&dir).await;
    for role in [Role::OrgAdmin, Role::OrgCoordinator, Role::OrgReporter] {
        let token = app.token_for("acc-1", role, &["org-1"], &[]);
        let (status, page) = app
            .send("GET", "/orgs/org-1/clinics", Some(&token), None)
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            page,
            json!({"items": [
                {"clinic_id": "clinic-0", "name": "Old Clinic", "deleted": true},
                {"clinic_id": "clinic-1", "name": "Clinic clinic-1", "deleted": false},
                {"clinic_id": "clinic-3", "name": "Bayside", "deleted": false},
            ]})
        );
    }
    let token = app.token_for("acc-1", Role::OrgAdmin, &["org-1"], &[]);
    let (status, rooms) = app
        .send("GET", "/orgs/org-1/rooms", Some(&token), None)
        .await;
    assert_eq!(status, 200, "{rooms}");
    assert_eq!(
        rooms,
        json!({"items": [
            {"room_id": "room-1", "clinic_id": "clinic-1", "name": "Consult A", "room_type": "meeting", "deleted": false},
            {"room_id": "room-2", "clinic_id": "clinic-3", "name": "Group B", "room_type": "group", "deleted": false},
        ]})
    );

    // Two pages of one and two.
    let (_, first) = app
        .send("GET", "/orgs/org-1/clinics?limit=1", Some(&token), None)
        .await;
    assert_eq!(ids(&first, "clinic_id"), ["clinic-0"]);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_string();
    let (status, rest) = app
        .send(
            "GET",
            &format!("/orgs/org-1/clinics?limit=2&cursor={cursor}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(ids(&rest, "clinic_id"), ["clinic-1", "clinic-3"]);
    assert!(rest.get("next_cursor").is_none(), "{rest}");

    // The clinics' cursor is not one of the rooms' list, nor of another organisation's.
    let (status, problem) = app
        .send(
            "GET",
            &format!("/orgs/org-1/rooms?cursor={cursor}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("cursor")));
    let both = app.token_for("acc-1", Role::OrgAdmin, &["org-1", "org-2"], &[]);
    let (status, problem) = app
        .send(
            "GET",
            &format!("/orgs/org-2/clinics?cursor={cursor}"),
            Some(&both),
            None,
        )
        .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("cursor")));
}

#[tokio::test]
async fn the_lists_refuse_bad_input_other_tenants_and_other_roles() {
    let dir = TempDir::new("places-refused");
    let app = world(&dir).await;
    let admin = app.token_for("acc-1", Role::OrgAdmin, &["org-1"], &[]);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=%25%25", "cursor"),
    ] {
        let (status, problem) = app
            .send(
                "GET",
                &format!("/orgs/org-1/clinics?{query}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{query}: {problem}"
        );
    }
    // Another organisation's lists and clinic answer 404, as an unknown one.
    for path in [
        "/orgs/org-2/clinics",
        "/orgs/org-2/rooms",
        "/orgs/org-404/clinics",
        "/clinics/clinic-2",
        "/clinics/clinic-404",
    ] {
        let (status, _) = app.send("GET", path, Some(&admin), None).await;
        assert_eq!(status, 404, "{path}");
    }
    // The accounts (a schedule's recipients): org admins only, names and never addresses.
    let admin2 = app.token_for("acc-9", Role::OrgAdmin, &["org-2"], &[]);
    let (status, accounts) = app
        .send("GET", "/orgs/org-2/accounts", Some(&admin2), None)
        .await;
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(
        accounts,
        json!({"items": [{"account_id": "acc-9", "name": "Org Two Admin", "deactivated": false}]})
    );
    let reporter2 = app.token_for("acc-9", Role::OrgReporter, &["org-2"], &[]);
    let (status, _) = app
        .send("GET", "/orgs/org-2/accounts", Some(&reporter2), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .send("GET", "/orgs/org-2/accounts", Some(&admin), None)
        .await;
    assert_eq!(status, 404);

    // Clinic admins have no organisation lists; practitioners none of these routes.
    let clinic_admin = app.token_for("acc-5", Role::ClinicAdmin, &[], &["clinic-1"]);
    let (status, _) = app
        .send("GET", "/orgs/org-1/clinics", Some(&clinic_admin), None)
        .await;
    assert_eq!(status, 403);
    let practitioner = app.token_for("prac-a", Role::Practitioner, &[], &[]);
    for path in ["/orgs/org-1/rooms", "/clinics/clinic-1"] {
        let (status, _) = app.send("GET", path, Some(&practitioner), None).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = app.send("GET", "/orgs/org-1/clinics", None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_clinic_named_like_a_list_is_still_a_clinic() {
    let dir = TempDir::new("places-named");
    let app = world(&dir).await;
    let at = "2026-11-10T10:00:00Z";
    let mut events = Vec::new();
    for id in ["rooms", "clinics", "accounts"] {
        events.push(
            clinic(
                id,
                "org-1",
                &format!("Named {id}"),
                "Victoria",
                "Enterprise 2025",
                "2024-01-01T00:00:00Z",
            )
            .event(&format!("p-{id}"), at),
        );
    }
    app.ingest(json!(events)).await;
    let reporter = app.token_for("acc-1", Role::OrgReporter, &["org-1"], &[]);
    for id in ["rooms", "clinics", "accounts"] {
        let (status, body) = app
            .send("GET", &format!("/clinics/{id}"), Some(&reporter), None)
            .await;
        assert_eq!(
            (status, body),
            (
                200,
                json!({"clinic_id": id, "name": format!("Named {id}"), "deleted": false})
            )
        );
    }
}

#[tokio::test]
async fn a_clinic_admin_reads_the_name_of_their_own_clinic_only() {
    let dir = TempDir::new("places-clinic");
    let app = world(&dir).await;
    let clinic_admin = app.token_for("acc-5", Role::ClinicAdmin, &[], &["clinic-3"]);
    let (status, body) = app
        .send("GET", "/clinics/clinic-3", Some(&clinic_admin), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"clinic_id": "clinic-3", "name": "Bayside", "deleted": false})
    );
    let (status, _) = app
        .send("GET", "/clinics/clinic-1", Some(&clinic_admin), None)
        .await;
    assert_eq!(status, 404);
    let reporter = app.token_for("acc-1", Role::OrgReporter, &["org-1"], &[]);
    let (status, body) = app
        .send("GET", "/clinics/clinic-0", Some(&reporter), None)
        .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"clinic_id": "clinic-0", "name": "Old Clinic", "deleted": true})
        )
    );
}
