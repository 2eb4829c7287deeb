//! Scheduled reports (SPEC D7) on both adapter sets: created, listed, paused, resumed and
//! deleted through the API (org admins; readers list; another organisation's 404; bad input
//! 400 naming the field), and run by the sweep as one emailed job per recipient, once per due
//! time — also when the process stops before or after the run's transaction.

#![allow(clippy::unwrap_used)]

use crate::email_jobs_always_end::sweep;
use crate::org_reports::{ORG, OTHER_ORG};
use crate::org_reports_email::{call, history_count, params, request, requester, world, World};
use chrono::{DateTime, Utc};
use domain::auth::{Principal, Role};
use serde_json::{json, Value};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn schedules() -> String {
    format!("/orgs/{ORG}/reports/schedules")
}

/// Daily at 06:00 in Sydney, yesterday's Clinics report for Ana Lima (acc-1) and acc-2.
fn daily() -> Value {
    json!({
        "report_type": "clinics",
        "frequency": "daily",
        "run_at": "06:00",
        "period": "yesterday",
        "time_zone": "Australia/Sydney",
        "min_duration_seconds": 60,
        "recipients": ["acc-1", "acc-2"],
    })
}

async fn create(w: &World, body: Value) -> (u16, Value) {
    call(w, &requester(), "POST", &schedules(), Some(body)).await
}

async fn mail_to(w: &World) -> Vec<String> {
    let mut to: Vec<String> = w
        .mailbox
        .messages()
        .await
        .into_iter()
        .map(|m| m.to)
        .collect();
    to.sort();
    to
}

async fn runs_once_per_due_time_for_each_recipient(w: World) {
    let (status, s) = create(&w, daily()).await;
    assert_eq!(status, 201, "{s}");
    // Now is 10:00 on 10 April in Sydney (AEST, UTC+10): the first run is 06:00 on the 11th.
    assert_eq!(s["next_run_at"], "2026-04-10T20:00:00Z");
    assert_eq!(
        (s["state"].as_str(), s["runs"].as_u64()),
        (Some("active"), Some(0))
    );
    let id = s["schedule_id"].as_str().unwrap().to_string();

    // Not due yet: nothing runs.
    w.clock.set(t("2026-04-10T19:59:59Z"));
    assert_eq!(sweep(&w).await["scheduled_runs"], 0);
    assert_eq!(history_count(&w).await, 0);

    // Due, but the process stops before the run's transaction: nothing is half made.
    w.clock.set(t("2026-04-10T20:00:00Z"));
    w.crash.arm(0);
    assert!(org_report_email_job::handle(
        &w.deps,
        json!({"source": "aws.scheduler"}),
        w.tempdir.path()
    )
    .await
    .is_err());
    w.crash.restart();
    assert_eq!(history_count(&w).await, 0);
    assert!(mail_to(&w).await.is_empty());

    // Then it stops right after the run's transaction (its jobs queued, none run yet).
    w.crash.arm(1);
    let _ = org_report_email_job::handle(
        &w.deps,
        json!({"source": "aws.scheduler"}),
        w.tempdir.path(),
    )
    .await;
    w.crash.restart();
    let (_, listed) = call(&w, &requester(), "GET", &schedules(), None).await;
    assert_eq!(listed["items"][0]["runs"], 1, "{listed}");
    assert_eq!(listed["items"][0]["next_run_at"], "2026-04-11T20:00:00Z");

    // The next sweep runs the queued jobs: one report and one email per recipient, for the
    // day before the run's local day, and no second run.
    let swept = sweep(&w).await;
    assert_eq!(
        (swept["scheduled_runs"].as_u64(), swept["done"].as_u64()),
        (Some(0), Some(2)),
        "{swept}"
    );
    assert_eq!(
        mail_to(&w).await,
        ["acc-1@example.org", "acc-2@example.org"]
    );
    let (_, history) = call(
        &w,
        &requester(),
        "GET",
        &format!("/orgs/{ORG}/reports/history"),
        None,
    )
    .await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{history}");
    for item in items {
        assert_eq!(item["report_type"], "clinics");
        assert_eq!(
            item["params"],
            json!({"from": "2026-04-10", "to": "2026-04-10", "time_zone": "Australia/Sydney", "min_duration_seconds": 60}),
            "{item}"
        );
    }
    assert_eq!(sweep(&w).await["scheduled_runs"], 0);
    assert_eq!(mail_to(&w).await.len(), 2);

    // Paused at its next due time: no run; resumed later: from the next time after now.
    let (status, paused) = call(
        &w,
        &requester(),
        "PUT",
        &format!("{}/{id}/state", schedules()),
        Some(json!({"state": "paused"})),
    )
    .await;
    assert_eq!((status, paused["state"].as_str()), (200, Some("paused")));
    w.clock.set(t("2026-04-11T20:00:00Z"));
    assert_eq!(sweep(&w).await["scheduled_runs"], 0);
    w.clock.set(t("2026-04-12T21:00:00Z"));
    let (status, resumed) = call(
        &w,
        &requester(),
        "PUT",
        &format!("{}/{id}/state", schedules()),
        Some(json!({"state": "active"})),
    )
    .await;
    assert_eq!((status, resumed["state"].as_str()), (200, Some("active")));
    assert_eq!(resumed["next_run_at"], "2026-04-13T20:00:00Z");
    assert_eq!(sweep(&w).await["scheduled_runs"], 0);

    // Deleted: gone from the list, never run again; the audit trail has every change.
    let (status, _) = call(
        &w,
        &requester(),
        "DELETE",
        &format!("{}/{id}", schedules()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, listed) = call(&w, &requester(), "GET", &schedules(), None).await;
    assert_eq!(listed, json!({"items": []}));
    w.clock.set(t("2026-04-13T20:00:00Z"));
    assert_eq!(sweep(&w).await["scheduled_runs"], 0);
    let actions = crate::org_reports_email::audit_actions(&w).await;
    for action in [
        "report_schedule.created",
        "report_schedule.ran",
        "report_schedule.paused",
        "report_schedule.resumed",
        "report_schedule.deleted",
    ] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            1,
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_schedule_runs_once_per_due_time_for_each_recipient_embedded() {
    runs_once_per_due_time_for_each_recipient(world(false).await).await;
}

#[tokio::test]
async fn a_schedule_runs_once_per_due_time_for_each_recipient_moto() {
    runs_once_per_due_time_for_each_recipient(world(true).await).await;
}

#[tokio::test]
async fn schedules_refuse_bad_input_other_roles_and_other_organisations() {
    let w = world(false).await;
    let with = |field: &str, value: Value| {
        let mut body = daily();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = daily();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    for (body, field) in [
        (with("report_type", json!("everything")), "report_type"),
        (with("frequency", json!("weekly")), "weekday"),
        (with("weekday", json!("monday")), "weekday"),
        (with("frequency", json!("monthly")), "day_of_month"),
        (
            {
                let mut b = with("frequency", json!("monthly"));
                b["day_of_month"] = json!(29);
                b
            },
            "day_of_month",
        ),
        (with("run_at", json!("25:00")), "run_at"),
        (with("run_at", json!("6:00")), "run_at"),
        (with("time_zone", json!("Mars/Olympus")), "time_zone"),
        (
            with("min_duration_seconds", json!(86_401)),
            "min_duration_seconds",
        ),
        (with("recipients", json!([])), "recipients"),
        (
            with("recipients", json!(["acc-1", "acc-1"])),
            "recipients[1]",
        ),
        (with("recipients", json!(["acc-9"])), "recipients[0]"),
        (
            with("recipients", json!(["acc-1", "acc-3"])),
            "recipients[1]",
        ),
        (with("clinic_id", json!("cl-zz")), "clinic_id"),
        (with("colour", json!("blue")), "colour"),
        (without("period"), "period"),
    ] {
        let (status, problem) = create(&w, body.clone()).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{body}: {problem}"
        );
    }
    let (status, _) = call(&w, &requester(), "GET", &schedules(), None).await;
    assert_eq!(status, 200);
    let (_, listed) = call(&w, &requester(), "GET", &schedules(), None).await;
    assert_eq!(listed, json!({"items": []}), "nothing half made");

    // A reporter lists but does not create; another organisation's admin sees nothing.
    let reporter = Principal {
        role: Role::OrgReporter,
        ..requester()
    };
    let (status, _) = call(&w, &reporter, "GET", &schedules(), None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&w, &reporter, "POST", &schedules(), Some(daily())).await;
    assert_eq!(status, 403);
    let (status, created) = create(&w, daily()).await;
    assert_eq!(status, 201);
    let id = created["schedule_id"].as_str().unwrap();
    let other = Principal {
        orgs: vec![OTHER_ORG.into()],
        ..requester()
    };
    for (method, path) in [
        ("GET", schedules()),
        ("PUT", format!("{}/{id}/state", schedules())),
        ("DELETE", format!("{}/{id}", schedules())),
    ] {
        let body = (method == "PUT").then(|| json!({"state": "paused"}));
        let (status, _) = call(&w, &other, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    // Its own organisation's route with a schedule of no one: 404; a state not in the list: 400.
    let state = |s: &str| Some(json!({ "state": s }));
    let path = format!("{}/sch-none/state", schedules());
    let (status, _) = call(&w, &requester(), "PUT", &path, state("paused")).await;
    assert_eq!(status, 404);
    let path = format!("{}/{id}/state", schedules());
    let (status, problem) = call(&w, &requester(), "PUT", &path, state("asleep")).await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("state")),
        "{problem}"
    );
}

#[tokio::test]
async fn an_organisation_holds_at_most_fifty_schedules() {
    let w = world(false).await;
    let max = domain::org_reports::email::schedule::MAX_SCHEDULES;
    let mut last = String::new();
    for _ in 0..max {
        let (status, s) = create(&w, daily()).await;
        assert_eq!(status, 201, "{s}");
        last = s["schedule_id"].as_str().unwrap().to_string();
    }
    let (status, problem) = create(&w, daily()).await;
    assert_eq!(status, 409, "{problem}");
    let (_, listed) = call(&w, &requester(), "GET", &schedules(), None).await;
    assert_eq!(listed["items"].as_array().unwrap().len() as u64, max);
    // One deleted, one more fits.
    let (status, _) = call(
        &w,
        &requester(),
        "DELETE",
        &format!("{}/{last}", schedules()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = create(&w, daily()).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn an_unreadable_schedule_holds_up_neither_the_others_nor_the_jobs() {
    let w = world(false).await;
    // A due-schedule entry whose body is not a schedule, due before everything else.
    let broken = domain::ports::Item::new(
        format!("ORG#{ORG}"),
        "REPORT_SCHEDULE#sch-broken",
        json!("not a schedule"),
    )
    .with_gsi1(
        domain::org_reports::email::schedule::DUE_SCHEDULES,
        "0000-00-00T00:00:00.000000Z#broken",
    );
    w.deps
        .store
        .put(broken, domain::ports::Condition::None)
        .await
        .unwrap();
    let (status, s) = create(&w, daily()).await;
    assert_eq!(status, 201, "{s}");
    let (status, job) = request(&w, params("2026-04-01", "2026-04-05")).await;
    assert_eq!(status, 202, "{job}");
    w.clock.set(t("2026-04-10T20:00:00Z"));
    let swept = sweep(&w).await;
    // The good schedule ran (two jobs) and the asked-for job too: three reports, three emails.
    assert_eq!(
        (swept["scheduled_runs"].as_u64(), swept["done"].as_u64()),
        (Some(1), Some(3)),
        "{swept}"
    );
    assert_eq!(history_count(&w).await, 3);
}
