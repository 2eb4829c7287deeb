//! Referral ageing (SPEC B11) through the function handler, on both store adapters: the count
//! per state, the median and 90th percentile of the stays (histogram bounds), the oldest pending
//! referral, by specialty and by specialist, the CSV; platform admins only; bad parameters
//! named; and the same number of items read at two volumes ten times apart. The world and its
//! helpers are `tests/referrals.rs`'s.

#![allow(clippy::unwrap_used)]

use crate::referrals::{
    embedded, moto, on_both_stores, referrer, specialist, t0, the_patient, who, world, World,
};
use chrono::Duration;
use domain::auth::{Principal, Role};
use domain::ports::{CountingStore, Store};
use domain::referrals::ageing::{self, Dimension};
use serde_json::{json, Value};
use std::sync::Arc;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn admin() -> Principal {
    who("adm", Role::PlatformAdmin)
}

impl World {
    /// `caller`'s step on `rid` at `t0 + at`.
    async fn step_at(&self, at: Duration, caller: &Principal, rid: &str, path: &str, body: Value) {
        self.clock.set(t0() + at);
        let (status, answer) = self
            .call(
                Some(caller),
                "POST",
                &format!("/referrals/{rid}/{path}"),
                Some(body),
                None,
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }

    async fn create_at(&self, at: Duration, patient: &str, specialist: &str) -> String {
        self.clock.set(t0() + at);
        self.create(patient, specialist, None).await
    }

    async fn ageing(&self, caller: &Principal, query: &str) -> (u16, Value) {
        self.call(
            Some(caller),
            "GET",
            &format!("/admin/referral-ageing{query}"),
            None,
            None,
        )
        .await
    }
}

fn state(states: &Value, name: &str) -> (i64, i64, Value, Value) {
    let s = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == name)
        .unwrap_or_else(|| panic!("{name} in {states}"));
    (
        s["count"].as_i64().unwrap(),
        s["stays"].as_i64().unwrap(),
        s["median_seconds_at_most"].clone(),
        s["p90_seconds_at_most"].clone(),
    )
}

/// Five referrals with known stays: two still with the patient (one to another specialist),
/// one accepted, one declined, one withdrawn.
async fn five_referrals(w: &World) -> Vec<String> {
    let accepted = w.create_at(Duration::zero(), "pat_1", "prac_spec").await;
    let declined = w.create_at(Duration::zero(), "pat_3", "prac_spec").await;
    let withdrawn = w.create_at(Duration::zero(), "pat_1", "prac_spec").await;
    let waiting = w.create_at(Duration::hours(1), "pat_1", "prac_spec").await;
    let elsewhere = w.create_at(Duration::hours(2), "pat_3", "prac_other").await;
    let accept = json!({ "decision": "accept" });
    let pat3 = who("pat_3", Role::Patient);
    // With the patient 2 h, then with the specialist 3 days.
    w.step_at(
        Duration::hours(2),
        &the_patient(),
        &accepted,
        "patient-decision",
        accept.clone(),
    )
    .await;
    w.step_at(
        Duration::hours(2) + Duration::days(3),
        &specialist(),
        &accepted,
        "specialist-decision",
        accept.clone(),
    )
    .await;
    // With the patient 30 min, then with the specialist 10 days.
    w.step_at(
        Duration::minutes(30),
        &pat3,
        &declined,
        "patient-decision",
        accept.clone(),
    )
    .await;
    w.step_at(
        Duration::minutes(30) + Duration::days(10),
        &specialist(),
        &declined,
        "specialist-decision",
        json!({ "decision": "reject", "reason": { "code": "no_capacity" } }),
    )
    .await;
    // With the patient 20 h, then withdrawn.
    w.step_at(
        Duration::hours(20),
        &referrer(),
        &withdrawn,
        "withdraw",
        json!({}),
    )
    .await;
    vec![accepted, declined, withdrawn, waiting, elsewhere]
}

/// B11: the figures per state, overall and by group, and the oldest pending referral.
async fn figures_per_state_and_group(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let ids = five_referrals(&w).await;
    w.clock.set(t0() + Duration::days(11));
    let (status, all) = w.ageing(&admin(), "").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["by"], "state");
    let states = &all["states"];
    // Stays with the patient: 30 min, 2 h, 20 h → median ≤ 4 h, p90 ≤ 1 day.
    assert_eq!(
        state(states, "pending_patient"),
        (2, 3, json!(4 * HOUR), json!(DAY))
    );
    // With the specialist: 3 days, 10 days → median ≤ 3 days, p90 ≤ 10 days.
    assert_eq!(
        state(states, "pending_specialist"),
        (0, 2, json!(3 * DAY), json!(10 * DAY))
    );
    assert_eq!(state(states, "accepted"), (1, 0, Value::Null, Value::Null));
    assert_eq!(state(states, "rejected").0, 1);
    assert_eq!(state(states, "withdrawn").0, 1);
    assert_eq!(state(states, "patient_rejected").0, 0);
    assert_eq!(state(states, "expired").0, 0);
    assert_eq!(states.as_array().unwrap().len(), 7);
    assert_eq!(all["oldest_pending"]["referral_id"], json!(ids[3]));
    assert_eq!(all["oldest_pending"]["state"], "pending_patient");
    assert_eq!(all["oldest_pending"]["age_seconds"], json!(11 * DAY - HOUR));

    let (status, by_specialist) = w.ageing(&admin(), "?by=specialist").await;
    assert_eq!(status, 200, "{by_specialist}");
    let groups = by_specialist["items"].as_array().unwrap();
    let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["prac_other", "prac_spec"]);
    assert_eq!(groups[1]["name"], "Dr. Élodie Spécialiste");
    assert_eq!(
        state(&groups[0]["states"], "pending_patient"),
        (1, 0, Value::Null, Value::Null)
    );
    assert_eq!(
        state(&groups[1]["states"], "pending_patient"),
        (1, 3, json!(4 * HOUR), json!(DAY))
    );
    assert_eq!(state(&groups[1]["states"], "accepted").0, 1);

    let (status, by_specialty) = w.ageing(&admin(), "?by=specialty&limit=1").await;
    assert_eq!(status, 200, "{by_specialty}");
    assert_eq!(by_specialty["items"][0]["key"], "cardiology");
    assert_eq!(state(&by_specialty["items"][0]["states"], "withdrawn").0, 1);
    let cursor = by_specialty["next_cursor"].as_str().unwrap();
    let (status, next) = w
        .ageing(&admin(), &format!("?by=specialty&limit=1&cursor={cursor}"))
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["items"][0]["key"], "dermatology");
    assert_eq!(state(&next["items"][0]["states"], "pending_patient").0, 1);
}

/// B11: the CSV holds the same rows (seven states per group).
async fn the_csv_holds_the_same_rows(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    five_referrals(&w).await;
    let resp = crate::support::app::TestApp::new(w.deps.clone())
        .call(
            Some(&admin()),
            "GET",
            "/admin/referral-ageing",
            &[
                ("by".to_string(), "specialist".to_string()),
                ("format".to_string(), "csv".to_string()),
            ],
            &[],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = String::from_utf8(resp.body.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "group,key,name,state,count,stays,median_seconds_at_most,p90_seconds_at_most"
    );
    assert_eq!(lines.len(), 1 + 2 * 7, "{text}");
    assert!(
        lines.contains(
            &"specialist,prac_spec,Dr. Élodie Spécialiste,pending_specialist,0,2,259200,864000"
        ),
        "{text}"
    );
    assert!(
        lines.contains(&"specialist,prac_other,Dr. Omar Other,pending_patient,1,0,,"),
        "{text}"
    );
}

/// B11: platform admins only; bad parameters are named.
async fn admins_only_and_bad_parameters_named(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    assert_eq!(w.ageing(&referrer(), "").await.0, 403);
    assert_eq!(w.ageing(&the_patient(), "").await.0, 403);
    assert_eq!(w.ageing(&who("oa", Role::OrgAdmin), "").await.0, 403);
    for (query, field) in [
        ("?by=clinic", "by"),
        ("?format=xlsx", "format"),
        ("?by=specialist&limit=0", "limit"),
        ("?by=specialist&limit=101", "limit"),
        ("?by=specialist&cursor=nonsense", "cursor"),
        ("?cursor=abc", "cursor"),
        ("?period=1", "period"),
    ] {
        let (status, problem) = w.ageing(&admin(), query).await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
    let (status, empty) = w.ageing(&admin(), "").await;
    assert_eq!(status, 200);
    assert_eq!(empty["oldest_pending"], Value::Null);
    assert_eq!(
        state(&empty["states"], "pending_patient"),
        (0, 0, Value::Null, Value::Null)
    );
}

/// `n` rounds of the same pattern: a referral accepted by the specialist after 2 hours, and
/// one left waiting.
async fn rounds(w: &World, n: usize) {
    for round in 0..n {
        let at = Duration::minutes(round as i64);
        let accepted = w.create_at(at, "pat_1", "prac_spec").await;
        w.create_at(at, "pat_3", "prac_spec").await;
        w.step_at(
            at + Duration::hours(2),
            &specialist(),
            &accepted,
            "specialist-decision",
            json!({ "decision": "accept" }),
        )
        .await;
    }
}

/// B11: the items read by the report are the same at 3 and at 30 rounds of referrals (each
/// volume on a fresh store of the same adapter).
async fn reads_at_two_volumes(small: Arc<dyn Store>, large: Arc<dyn Store>) {
    let mut reads = Vec::new();
    for (store, n) in [(small, 3), (large, 30)] {
        let w = world(store, false, true).await;
        rounds(&w, n).await;
        let counting = CountingStore::new(w.store());
        let all = ageing::overall(&counting, t0() + Duration::days(1))
            .await
            .unwrap();
        let overall_reads = counting.take();
        let accepted = all
            .states
            .iter()
            .find(|s| s.state == domain::referrals::model::State::Accepted)
            .unwrap();
        assert_eq!((accepted.count, n), (n as i64, n));
        ageing::by(&counting, Dimension::Specialist, 20, None)
            .await
            .unwrap();
        let specialist_reads = counting.take();
        ageing::by(&counting, Dimension::Specialty, 20, None)
            .await
            .unwrap();
        reads.push((overall_reads, specialist_reads, counting.take()));
    }
    assert_eq!(reads[0], reads[1], "{reads:?}");
}

on_both_stores! {
    ageing_figures => figures_per_state_and_group();
    ageing_csv => the_csv_holds_the_same_rows();
    ageing_admins_only => admins_only_and_bad_parameters_named();
}

mod ageing_reads_bounded {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::reads_at_two_volumes(super::embedded(), super::embedded()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moto() {
        super::reads_at_two_volumes(super::moto().await, super::moto().await).await;
    }
}
