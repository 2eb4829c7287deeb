//! Referrals (SPEC B1–B7) end to end through the function handlers (the API's Router, as
//! API Gateway would call them), on both store adapters: every path of the flow
//! under both deployment settings (patient approval on/off × booking prompt on/off), the
//! system messages every party sees (asserted per party, from the thread model the Feed
//! reads), 403/404/409 cases, bad input, idempotent retries, the specialist search, and fifty
//! simultaneous decisions on one referral. Decline reasons (B8): `tests/referrals_decline.rs`.
//!
//! Every scenario is an async function taking a fresh store (and settings), run once per
//! adapter (`<test>::embedded`, `<test>::moto`).

#![allow(clippy::unwrap_used)]

use crate::support::events::{self, Payload};
use crate::support::moto::dynamo_store;
use crate::support::TempDir;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use domain::auth::{Principal, Role};
use domain::deps::{Deps, Settings};
use domain::events::ingest::ingest_batch;
use domain::ports::store::query_all;
use domain::ports::{
    Condition, FixedClock, Index, Item, Key, Page, Query, SkRange, Store, StoreError, TxOp,
};
use domain::readmodels::{StoredMessage, ThreadSummary};
use domain::referrals::threads::new_pair_thread_id;
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use local_adapters::outbox::OutboxMailer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

const BASE_URL: &str = "https://app.telehealth.example";

// ---- the world: a store, settings, seeded marketplace ----

pub(crate) struct World {
    pub(crate) deps: Arc<Deps>,
    pub(crate) clock: Arc<FixedClock>,
    _dir: TempDir,
}

pub(crate) fn t0() -> DateTime<Utc> {
    "2026-11-20T09:00:00Z".parse().unwrap()
}

/// The seed event of `id`, a day before the scenarios start.
fn seed(id: &str, payload: Payload) -> Value {
    payload.event(&format!("seed.{id}"), t0() - Duration::days(1))
}

fn practitioner(id: &str, name: &str, specialties: &[&str], approval: &str, sched: bool) -> Value {
    seed(
        id,
        events::practitioner(id, name, specialties, approval, 5000, sched),
    )
}

fn patient(id: &str, name: &str) -> Value {
    seed(id, events::patient(id, name))
}

fn thread(id: &str, patients: &[&str], practitioners: &[&str]) -> Value {
    seed(id, events::thread_created(id, patients, practitioners))
}

/// The marketplace every scenario starts from: a referrer with a thread with `pat_1` (and
/// `pat_3`); specialists with and without a scheduling practice; one not approved; an outsider
/// practitioner and patient with their own thread.
pub(crate) async fn world(store: Arc<dyn Store>, approval: bool, prompt: bool) -> World {
    let seed = vec![
        practitioner(
            "prac_ref",
            "Dr. Ana Referrer",
            &["General practice"],
            "approved",
            false,
        ),
        practitioner(
            "prac_spec",
            "Dr. Élodie Spécialiste",
            &["Cardiology"],
            "approved",
            true,
        ),
        practitioner(
            "prac_nosched",
            "Dr. Elon Nosched",
            &["cardiology"],
            "approved",
            false,
        ),
        practitioner(
            "prac_pending",
            "Dr. Elsa Pending",
            &["Cardiology"],
            "pending",
            true,
        ),
        practitioner(
            "prac_other",
            "Dr. Omar Other",
            &["Dermatology"],
            "approved",
            true,
        ),
        patient("pat_1", "Zoë Patient"),
        patient("pat_2", "Paul Outsider"),
        patient("pat_3", "Petra Third"),
        patient("pat_nothread", "Nina Nothread"),
        thread("thr_rp", &["pat_1"], &["prac_ref"]),
        thread("thr_rp3", &["pat_3"], &["prac_ref"]),
        thread("thr_other", &["pat_2"], &["prac_other"]),
    ];
    let report = ingest_batch(store.as_ref(), t0(), &seed).await.unwrap();
    assert_eq!(report.rejected, 0, "{report:?}");
    let dir = TempDir::new("referrals");
    let clock = Arc::new(FixedClock::new(t0()));
    let deps = Deps {
        store,
        blobs: Arc::new(DirBlobs::new(
            dir.path().join("blobs"),
            BASE_URL.into(),
            vec![7; 32],
        )),
        mailer: Arc::new(OutboxMailer::new(
            dir.path().join("outbox"),
            "reports@telehealth.local".into(),
        )),
        clock: clock.clone(),
        settings: Settings {
            platform_base_url: BASE_URL.into(),
            referral_patient_approval: approval,
            referral_booking_prompt: prompt,
            referral_expiry: Duration::days(14),
            default_response_time_hours: 24,
        },
    };
    World {
        deps: Arc::new(deps),
        clock,
        _dir: dir,
    }
}

pub(crate) fn who(sub: &str, role: Role) -> Principal {
    Principal {
        sub: sub.into(),
        role,
        orgs: vec![],
        clinics: vec![],
    }
}

pub(crate) fn referrer() -> Principal {
    who("prac_ref", Role::Practitioner)
}
pub(crate) fn specialist() -> Principal {
    who("prac_spec", Role::Practitioner)
}
pub(crate) fn the_patient() -> Principal {
    who("pat_1", Role::Patient)
}

impl World {
    pub(crate) fn store(&self) -> &dyn Store {
        self.deps.store.as_ref()
    }

    /// Calls the route serving `method path` as `caller`, through the function's handler.
    pub(crate) async fn call(
        &self,
        caller: Option<&Principal>,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let (path_only, query) = crate::support::app::split_query(path);
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(k) = key {
            headers.push(("Idempotency-Key".into(), k.into()));
        }
        let body = body
            .map(|b| Bytes::from(serde_json::to_vec(&b).unwrap()))
            .unwrap_or_default();
        let resp = crate::support::app::TestApp::new(self.deps.clone())
            .call(caller, method, path_only, &query, &headers, body)
            .await;
        (resp.status, serde_json::from_slice(&resp.body).unwrap())
    }

    pub(crate) async fn create(
        &self,
        patient: &str,
        specialist: &str,
        message: Option<&str>,
    ) -> String {
        let mut body = json!({ "patient_id": patient, "specialist_id": specialist });
        if let Some(m) = message {
            body["message"] = json!(m);
        }
        let (status, answer) = self
            .call(Some(&referrer()), "POST", "/referrals", Some(body), None)
            .await;
        assert_eq!(status, 201, "{answer}");
        answer["referral_id"].as_str().unwrap().to_string()
    }

    pub(crate) async fn decide(
        &self,
        caller: &Principal,
        rid: &str,
        step: &str,
        decision: &str,
    ) -> (u16, Value) {
        self.clock.advance(Duration::minutes(5));
        self.call(
            Some(caller),
            "POST",
            &format!("/referrals/{rid}/{step}-decision"),
            Some(decision_body(step, decision)),
            None,
        )
        .await
    }

    pub(crate) async fn get(&self, caller: &Principal, rid: &str) -> (u16, Value) {
        self.call(
            Some(caller),
            "GET",
            &format!("/referrals/{rid}"),
            None,
            None,
        )
        .await
    }

    /// The items of `caller`'s referral list as `as_` (200).
    pub(crate) async fn list_items(&self, caller: &Principal, as_: &str) -> Vec<Value> {
        let (status, page) = self
            .call(
                Some(caller),
                "GET",
                &format!("/referrals?as={as_}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().clone()
    }

    async fn list(&self, caller: &Principal, as_: &str) -> Vec<String> {
        self.list_items(caller, as_)
            .await
            .iter()
            .map(|r| r["referral_id"].as_str().unwrap().to_string())
            .collect()
    }

    /// The threads a party is in (`PARTY#<id>`).
    async fn threads_of(&self, party: &str) -> BTreeSet<String> {
        let q = Query::partition(Index::Primary, format!("PARTY#{party}"));
        query_all(self.store(), &q)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.sk.trim_start_matches("THREAD#").to_string())
            .collect()
    }

    /// Every system message a party sees: (thread id, message id), over all their threads.
    pub(crate) async fn seen_by(&self, party: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for thread in self.threads_of(party).await {
            for m in self.messages(&thread).await {
                out.insert((thread.clone(), m.message_id));
            }
        }
        out
    }

    pub(crate) async fn messages(&self, thread: &str) -> Vec<StoredMessage> {
        let q = Query::partition(Index::Primary, format!("THREAD#{thread}"))
            .range(SkRange::BeginsWith("MSG#".into()));
        query_all(self.store(), &q)
            .await
            .unwrap()
            .iter()
            .map(|i| i.decode::<StoredMessage>().unwrap())
            .collect()
    }

    pub(crate) async fn text_of(&self, thread: &str, message_id: &str) -> String {
        self.messages(thread)
            .await
            .into_iter()
            .find(|m| m.message_id == message_id)
            .and_then(|m| m.system_text)
            .unwrap_or_else(|| panic!("no message {message_id} in {thread}"))
    }

    async fn summary(&self, thread: &str) -> Option<ThreadSummary> {
        self.store()
            .get(&domain::readmodels::keys::thread(thread))
            .await
            .unwrap()
            .map(|i| i.decode().unwrap())
    }

    /// Threads with exactly this specialist and this patient.
    async fn specialist_patient_threads(&self, spec: &str, pat: &str) -> usize {
        let mut n = 0;
        for thread in self.threads_of(pat).await {
            let s = self.summary(&thread).await.unwrap();
            if s.practitioner_ids == BTreeSet::from([spec.to_string()])
                && s.patient_ids == BTreeSet::from([pat.to_string()])
            {
                n += 1;
            }
        }
        n
    }

    pub(crate) async fn audit_actions(&self, rid: &str) -> Vec<String> {
        let q = Query::partition(Index::Primary, format!("AUDIT#REFERRAL#{rid}"));
        query_all(self.store(), &q)
            .await
            .unwrap()
            .iter()
            .map(|i| i.body["action"].as_str().unwrap().to_string())
            .collect()
    }
}

/// A decision's body: the specialist's decline carries a reason (B8).
fn decision_body(step: &str, decision: &str) -> Value {
    if step == "specialist" && decision == "reject" {
        json!({ "decision": decision, "reason": { "code": "no_capacity" } })
    } else {
        json!({ "decision": decision })
    }
}

pub(crate) fn seen(pairs: &[(&str, String)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(t, m)| (t.to_string(), m.clone()))
        .collect()
}

pub(crate) fn msg(rid: &str, step: &str) -> String {
    format!("{rid}.{step}")
}

pub(crate) fn pair() -> String {
    new_pair_thread_id("prac_ref", "prac_spec")
}

fn states(view: &Value) -> Vec<(Value, Value, Value)> {
    view["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"].clone(), t["to"].clone(), t["by"].clone()))
        .collect()
}

/// The outsiders see nothing of any referral, and cannot read it.
async fn outsiders_see_nothing(w: &World, rid: &str) {
    assert_eq!(w.seen_by("prac_other").await, BTreeSet::new());
    assert_eq!(w.seen_by("pat_2").await, BTreeSet::new());
    assert_eq!(
        w.get(&who("prac_other", Role::Practitioner), rid).await.0,
        404
    );
    assert_eq!(w.get(&who("pat_2", Role::Patient), rid).await.0, 404);
}

// ---- the paths of the flow ----

/// B3 + B4 + B5 + B6, approval on: asked, patient accepts, specialist accepts.
async fn patient_accepts_then_specialist_accepts(store: Arc<dyn Store>, prompt: bool) {
    let w = world(store, true, prompt).await;
    let rid = w.create("pat_1", "prac_spec", Some("Echo please.")).await;
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "pending_patient");
    assert_eq!(view["message"], "Echo please.");
    // Nothing has reached the specialist yet.
    assert_eq!(w.get(&specialist(), &rid).await.0, 404);
    assert!(w.list(&specialist(), "specialist").await.is_empty());
    assert_eq!(w.threads_of("prac_spec").await, BTreeSet::new());
    // The patient is asked in their thread with the referrer.
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[("thr_rp", msg(&rid, "asked"))])
    );
    let (status, pview) = w.get(&the_patient(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(pview["state"], "pending_patient");
    assert!(
        pview.get("message").is_none(),
        "the note is for the specialist"
    );

    let (status, answer) = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "pending_specialist");
    let (status, sview) = w.get(&specialist(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(sview["message"], "Echo please.");
    assert_eq!(w.list(&specialist(), "specialist").await, vec![rid.clone()]);

    let (status, answer) = w.decide(&specialist(), &rid, "specialist", "accept").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "accepted");
    let sp = format!("{rid}.thread");
    assert_eq!(answer["specialist_thread_id"], json!(sp));

    // Per party, every system message they see.
    assert_eq!(
        w.seen_by("prac_ref").await,
        seen(&[
            ("thr_rp", msg(&rid, "asked")),
            ("thr_rp", msg(&rid, "patient-accepted")),
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "request-note")),
            (&pair(), msg(&rid, "accepted")),
        ])
    );
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[
            ("thr_rp", msg(&rid, "asked")),
            ("thr_rp", msg(&rid, "patient-accepted")),
            (&sp, msg(&rid, "approved")),
        ])
    );
    assert_eq!(
        w.seen_by("prac_spec").await,
        seen(&[
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "request-note")),
            (&pair(), msg(&rid, "accepted")),
            (&sp, msg(&rid, "approved")),
        ])
    );
    outsiders_see_nothing(&w, &rid).await;
    // The threads: a new pair thread of the two practitioners, a new specialist–patient one.
    let p = w.summary(&pair()).await.unwrap();
    assert_eq!(
        p.practitioner_ids,
        BTreeSet::from(["prac_ref".to_string(), "prac_spec".to_string()])
    );
    assert!(p.patient_ids.is_empty());
    assert_eq!(w.specialist_patient_threads("prac_spec", "pat_1").await, 1);
    assert!(!w
        .text_of(&pair(), &msg(&rid, "request"))
        .await
        .contains("Echo"));
    // B6: the booking prompt, only with prompts on (the specialist has a practice).
    let approved = w.text_of(&sp, &msg(&rid, "approved")).await;
    // The admin Feed (A1) and thread details (A2) read these very threads.
    let admin = who("adm", Role::PlatformAdmin);
    let (status, feed) = w
        .call(Some(&admin), "GET", "/admin/feed?limit=100", None, None)
        .await;
    assert_eq!(status, 200, "{feed}");
    let listed: BTreeSet<String> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["thread_id"].as_str().unwrap().to_string())
        .collect();
    assert!(listed.contains(&sp) && listed.contains(&pair()), "{feed}");
    let (status, details) = w
        .call(
            Some(&admin),
            "GET",
            &format!("/admin/threads/{sp}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{details}");
    assert_eq!(details["messages"][0]["text"], json!(approved));
    assert_eq!(details["messages"][0]["sender_role"], "system");
    let link = format!("{BASE_URL}/practitioners/prac_spec");
    assert_eq!(approved.contains(&link), prompt, "{approved}");
    let (_, pview) = w.get(&the_patient(), &rid).await;
    assert_eq!(pview["state"], "accepted");
    assert_eq!(
        pview["booking_url"],
        if prompt { json!(link) } else { Value::Null }
    );
    // B7: every transition, who and when, with the referral and in the audit trail.
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(
        states(&view),
        vec![
            (Value::Null, json!("pending_patient"), json!("prac_ref")),
            (
                json!("pending_patient"),
                json!("pending_specialist"),
                json!("pat_1")
            ),
            (
                json!("pending_specialist"),
                json!("accepted"),
                json!("prac_spec")
            ),
        ]
    );
    assert_eq!(view["transitions"][2]["at"], json!("2026-11-20T09:10:00Z"));
    let mut actions = w.audit_actions(&rid).await;
    actions.sort();
    assert_eq!(
        actions,
        vec![
            "referral.accepted",
            "referral.created",
            "referral.patient_accepted"
        ]
    );
    assert_eq!(w.list(&referrer(), "referrer").await, vec![rid.clone()]);
    assert_eq!(w.list(&the_patient(), "patient").await, vec![rid.clone()]);
}

/// B3, approval on: the patient declines; nothing reaches the specialist; the referrer sees
/// the answer in their thread with the patient.
async fn patient_declines(store: Arc<dyn Store>, prompt: bool) {
    let w = world(store, true, prompt).await;
    let rid = w.create("pat_1", "prac_spec", Some("Echo please.")).await;
    let (status, answer) = w.decide(&the_patient(), &rid, "patient", "reject").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "patient_rejected");
    let both = seen(&[
        ("thr_rp", msg(&rid, "asked")),
        ("thr_rp", msg(&rid, "patient-declined")),
    ]);
    assert_eq!(w.seen_by("prac_ref").await, both);
    assert_eq!(w.seen_by("pat_1").await, both);
    assert_eq!(w.seen_by("prac_spec").await, BTreeSet::new());
    assert_eq!(w.threads_of("prac_spec").await, BTreeSet::new());
    assert_eq!(w.summary(&pair()).await, None);
    assert_eq!(w.get(&specialist(), &rid).await.0, 404);
    assert!(w.list(&specialist(), "specialist").await.is_empty());
    outsiders_see_nothing(&w, &rid).await;
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "patient_rejected");
    // Final: no further step.
    assert_eq!(
        w.decide(&the_patient(), &rid, "patient", "accept").await.0,
        409
    );
    assert_eq!(
        w.decide(&specialist(), &rid, "specialist", "accept")
            .await
            .0,
        409
    );
    let mut actions = w.audit_actions(&rid).await;
    actions.sort();
    assert_eq!(
        actions,
        vec!["referral.created", "referral.patient_rejected"]
    );
}

/// B5, approval on: the patient accepts, the specialist declines: the referrer sees it, the
/// patient does not (their view stays at pending_specialist), no thread is created.
async fn patient_accepts_then_specialist_declines(store: Arc<dyn Store>, prompt: bool) {
    let w = world(store, true, prompt).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    assert_eq!(
        w.decide(&the_patient(), &rid, "patient", "accept").await.0,
        200
    );
    let (status, answer) = w.decide(&specialist(), &rid, "specialist", "reject").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "rejected");
    assert_eq!(
        w.seen_by("prac_ref").await,
        seen(&[
            ("thr_rp", msg(&rid, "asked")),
            ("thr_rp", msg(&rid, "patient-accepted")),
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "declined")),
        ])
    );
    assert_eq!(
        w.seen_by("prac_spec").await,
        seen(&[
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "declined"))
        ])
    );
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[
            ("thr_rp", msg(&rid, "asked")),
            ("thr_rp", msg(&rid, "patient-accepted")),
        ])
    );
    assert_eq!(
        w.threads_of("pat_1").await,
        BTreeSet::from(["thr_rp".to_string()])
    );
    assert_eq!(w.specialist_patient_threads("prac_spec", "pat_1").await, 0);
    outsiders_see_nothing(&w, &rid).await;
    let (_, pview) = w.get(&the_patient(), &rid).await;
    assert_eq!(pview["state"], "pending_specialist");
    assert_eq!(pview["transitions"].as_array().unwrap().len(), 2);
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "rejected");
    assert_eq!(view["transitions"].as_array().unwrap().len(), 3);
}

/// B2 approval off: straight to the specialist, who accepts; the patient sees only the
/// approved referral in the new thread.
async fn no_approval_specialist_accepts(store: Arc<dyn Store>, prompt: bool) {
    let w = world(store, false, prompt).await;
    let rid = w.create("pat_1", "prac_spec", Some("Echo please.")).await;
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "pending_specialist");
    assert_eq!(w.get(&the_patient(), &rid).await.0, 404);
    assert!(w.list(&the_patient(), "patient").await.is_empty());
    assert_eq!(w.seen_by("pat_1").await, BTreeSet::new());
    // Never asked, the patient learns nothing of the referral's state.
    let (status, problem) = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(status, 409);
    assert_eq!(
        problem["detail"],
        "the referral is not awaiting this decision"
    );

    let (status, answer) = w.decide(&specialist(), &rid, "specialist", "accept").await;
    assert_eq!(status, 200, "{answer}");
    let sp = format!("{rid}.thread");
    assert_eq!(
        w.seen_by("prac_ref").await,
        seen(&[
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "request-note")),
            (&pair(), msg(&rid, "accepted"))
        ])
    );
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[(&sp, msg(&rid, "approved"))])
    );
    assert_eq!(
        w.seen_by("prac_spec").await,
        seen(&[
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "request-note")),
            (&pair(), msg(&rid, "accepted")),
            (&sp, msg(&rid, "approved")),
        ])
    );
    outsiders_see_nothing(&w, &rid).await;
    assert_eq!(w.specialist_patient_threads("prac_spec", "pat_1").await, 1);
    let approved = w.text_of(&sp, &msg(&rid, "approved")).await;
    assert_eq!(
        approved.contains(&format!("{BASE_URL}/practitioners/prac_spec")),
        prompt,
        "{approved}"
    );
    let (status, pview) = w.get(&the_patient(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(pview["state"], "accepted");
    assert_eq!(w.list(&the_patient(), "patient").await, vec![rid.clone()]);
    let mut actions = w.audit_actions(&rid).await;
    actions.sort();
    assert_eq!(actions, vec!["referral.accepted", "referral.created"]);
}

/// B5 approval off: the specialist declines: the patient sees nothing at all.
async fn no_approval_specialist_declines(store: Arc<dyn Store>, prompt: bool) {
    let w = world(store, false, prompt).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    let (status, answer) = w.decide(&specialist(), &rid, "specialist", "reject").await;
    assert_eq!(status, 200, "{answer}");
    let both = seen(&[
        (&pair(), msg(&rid, "request")),
        (&pair(), msg(&rid, "declined")),
    ]);
    assert_eq!(w.seen_by("prac_ref").await, both);
    assert_eq!(w.seen_by("prac_spec").await, both);
    assert_eq!(w.seen_by("pat_1").await, BTreeSet::new());
    assert_eq!(
        w.threads_of("pat_1").await,
        BTreeSet::from(["thr_rp".to_string()])
    );
    assert_eq!(w.get(&the_patient(), &rid).await.0, 404);
    assert!(w.list(&the_patient(), "patient").await.is_empty());
    outsiders_see_nothing(&w, &rid).await;
    assert_eq!(
        w.decide(&specialist(), &rid, "specialist", "accept")
            .await
            .0,
        409
    );
}

/// B6: prompts on, but the specialist has no practice in the scheduling portal: no prompt.
async fn no_prompt_without_scheduling_practice(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let rid = w.create("pat_1", "prac_nosched", None).await;
    let nosched = who("prac_nosched", Role::Practitioner);
    assert_eq!(
        w.decide(&nosched, &rid, "specialist", "accept").await.0,
        200
    );
    let text = w
        .text_of(&format!("{rid}.thread"), &msg(&rid, "approved"))
        .await;
    assert!(!text.contains("http"), "{text}");
    let (_, pview) = w.get(&the_patient(), &rid).await;
    assert_eq!(pview["booking_url"], Value::Null);
}

/// B4: an existing thread of the two practitioners is reused, by every later referral.
async fn an_existing_pair_thread_is_reused(store: Arc<dyn Store>) {
    let existing = thread("thr_pp", &[], &["prac_spec", "prac_ref"]);
    ingest_batch(store.as_ref(), t0(), &[existing])
        .await
        .unwrap();
    let w = world(store, false, false).await;
    let first = w.create("pat_1", "prac_spec", None).await;
    let second = w.create("pat_3", "prac_spec", None).await;
    assert_eq!(
        w.get(&referrer(), &first).await.1["pair_thread_id"],
        "thr_pp"
    );
    assert_eq!(
        w.get(&referrer(), &second).await.1["pair_thread_id"],
        "thr_pp"
    );
    assert_eq!(w.summary(&pair()).await, None);
    assert_eq!(
        w.threads_of("prac_spec").await,
        BTreeSet::from(["thr_pp".to_string()])
    );
    assert_eq!(
        w.seen_by("prac_spec").await,
        seen(&[
            ("thr_pp", msg(&first, "request")),
            ("thr_pp", msg(&second, "request")),
        ])
    );
    let mut listed = w.list(&specialist(), "specialist").await;
    listed.sort();
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(listed, both);
}

/// B7: only the named party acts (403 for another party, 404 for anyone else, 401 without a
/// token, 403 for a role the route does not take), and a refusal changes nothing.
async fn only_the_named_party_may_act(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    let version = |w: &World| {
        let store = w.deps.store.clone();
        let rid = rid.clone();
        async move {
            store
                .get(&domain::referrals::model::keys::referral(&rid))
                .await
                .unwrap()
                .unwrap()
                .version
        }
    };
    let before = version(&w).await;
    let pd = format!("/referrals/{rid}/patient-decision");
    let sd = format!("/referrals/{rid}/specialist-decision");
    let body = || Some(json!({ "decision": "accept" }));
    let admin = who("adm", Role::PlatformAdmin);
    let cases: Vec<(Option<Principal>, &str, u16)> = vec![
        (None, &pd, 401),
        (Some(admin.clone()), &pd, 403),
        (Some(referrer()), &pd, 403),
        (Some(who("pat_2", Role::Patient)), &pd, 404),
        (Some(referrer()), &sd, 403),
        (Some(the_patient()), &sd, 403),
        (Some(who("prac_other", Role::Practitioner)), &sd, 404),
        (Some(admin.clone()), &sd, 403),
    ];
    for (caller, path, status) in cases {
        let (got, problem) = w.call(caller.as_ref(), "POST", path, body(), None).await;
        assert_eq!(got, status, "{path} as {caller:?}: {problem}");
    }
    // Decisions on an unknown referral.
    let (got, _) = w
        .call(
            Some(&the_patient()),
            "POST",
            "/referrals/ref-nope/patient-decision",
            body(),
            None,
        )
        .await;
    assert_eq!(got, 404);
    // Reading and listing.
    assert_eq!(
        w.call(None, "GET", &format!("/referrals/{rid}"), None, None)
            .await
            .0,
        401
    );
    assert_eq!(
        w.call(
            Some(&admin),
            "GET",
            &format!("/referrals/{rid}"),
            None,
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        w.call(Some(&admin), "GET", "/referrals?as=referrer", None, None)
            .await
            .0,
        403
    );
    assert_eq!(
        w.call(
            Some(&the_patient()),
            "GET",
            "/referrals/specialists",
            None,
            None
        )
        .await
        .0,
        403
    );
    assert!(w
        .list(&who("prac_other", Role::Practitioner), "referrer")
        .await
        .is_empty());
    assert_eq!(
        w.call(
            Some(&the_patient()),
            "POST",
            "/referrals",
            Some(json!({
            "patient_id": "pat_1", "specialist_id": "prac_spec" })),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(version(&w).await, before);
    assert_eq!(w.audit_actions(&rid).await, vec!["referral.created"]);
}

/// B7: a step out of order answers 409 and changes nothing.
async fn steps_out_of_order_answer_409(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    // Before the patient's approval the specialist may not decide, nor learn the state.
    let (status, problem) = w.decide(&specialist(), &rid, "specialist", "accept").await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["detail"],
        "the referral is not awaiting this decision"
    );
    let first = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(first.0, 200);
    // The same decision again answers the same; another one is out of order.
    assert_eq!(
        w.decide(&the_patient(), &rid, "patient", "accept").await,
        first
    );
    assert_eq!(
        w.decide(&the_patient(), &rid, "patient", "reject").await.0,
        409
    );
    assert_eq!(
        w.decide(&specialist(), &rid, "specialist", "reject")
            .await
            .0,
        200
    );
    let (status, problem) = w.decide(&specialist(), &rid, "specialist", "accept").await;
    assert_eq!(status, 409);
    assert_eq!(
        problem["detail"],
        "the referral is rejected, not awaiting this decision"
    );
    // The patient's decision again answers the same, and the patient is not told of the
    // refusal: to them it is still with the specialist.
    let (status, view) = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(status, 200);
    assert_eq!(view["state"], "pending_specialist", "{view}");
    assert!(!view.to_string().contains("rejected"), "{view}");
    let (status, problem) = w.decide(&the_patient(), &rid, "patient", "reject").await;
    assert_eq!(status, 409);
    assert!(
        !problem["detail"].as_str().unwrap().contains("rejected"),
        "{problem}"
    );
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["transitions"].as_array().unwrap().len(), 3);
}

/// Q1 and B7: bad input answers 400 naming the field, never echoing the value, and writes
/// nothing.
async fn bad_input_is_refused_naming_the_field(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "patient_id": "pat_1", "specialist_id": "prac_ref" }),
            "specialist_id",
        ),
        (
            json!({ "patient_id": "pat_1", "specialist_id": "prac_pending" }),
            "specialist_id",
        ),
        (
            json!({ "patient_id": "pat_1", "specialist_id": "prac_ghost" }),
            "specialist_id",
        ),
        (
            json!({ "patient_id": "pat_ghost", "specialist_id": "prac_spec" }),
            "patient_id",
        ),
        (
            json!({ "patient_id": "pat_nothread", "specialist_id": "prac_spec" }),
            "patient_id",
        ),
        (
            json!({ "patient_id": "pat_2", "specialist_id": "prac_spec" }),
            "patient_id",
        ),
        (
            json!({ "patient_id": "pat 1 secret", "specialist_id": "prac_spec" }),
            "patient_id",
        ),
        (json!({ "specialist_id": "prac_spec" }), "patient_id"),
        (
            json!({ "patient_id": "pat_1", "specialist_id": "prac_spec", "extra": 1 }),
            "extra",
        ),
        (
            json!({ "patient_id": "pat_1", "specialist_id": "prac_spec", "message": "x".repeat(2001) }),
            "message",
        ),
        (
            json!({ "patient_id": "pat_1", "specialist_id": "prac_spec", "message": 42 }),
            "message",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = w
            .call(
                Some(&referrer()),
                "POST",
                "/referrals",
                Some(body.clone()),
                None,
            )
            .await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert!(!problem.to_string().contains("secret"), "{problem}");
    }
    let (status, problem) = w
        .call(Some(&referrer()), "POST", "/referrals", None, None)
        .await;
    assert_eq!((status, problem["field"].clone()), (400, json!("body")));
    let (status, problem) = w
        .call(
            Some(&referrer()),
            "POST",
            "/referrals",
            Some(json!({ "patient_id": "pat_1", "specialist_id": "prac_spec" })),
            Some("bad key with spaces"),
        )
        .await;
    assert_eq!(
        (status, problem["field"].clone()),
        (400, json!("Idempotency-Key"))
    );
    assert!(w.list(&referrer(), "referrer").await.is_empty());
    assert_eq!(w.seen_by("pat_1").await, BTreeSet::new());

    let rid = w.create("pat_1", "prac_spec", None).await;
    for body in [
        json!({ "decision": "maybe secret" }),
        json!({}),
        json!({ "decision": "accept", "x": 1 }),
    ] {
        let (status, problem) = w
            .call(
                Some(&the_patient()),
                "POST",
                &format!("/referrals/{rid}/patient-decision"),
                Some(body.clone()),
                None,
            )
            .await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert!(
            problem["field"] == "decision" || problem["field"] == "x",
            "{problem}"
        );
        assert!(!problem.to_string().contains("secret"), "{problem}");
    }
    for (query, field) in [
        ("/referrals?as=patient", "as"),
        ("/referrals", "as"),
        ("/referrals?as=referrer&limit=0", "limit"),
        ("/referrals?as=referrer&limit=101", "limit"),
        ("/referrals?as=referrer&cursor=zzz", "cursor"),
        ("/referrals/specialists?limit=x", "limit"),
    ] {
        let (status, problem) = w.call(Some(&referrer()), "GET", query, None, None).await;
        assert_eq!(
            (status, problem["field"].clone()),
            (400, json!(field)),
            "{query}"
        );
    }
    let (status, problem) = w
        .call(
            Some(&the_patient()),
            "GET",
            "/referrals?as=referrer",
            None,
            None,
        )
        .await;
    assert_eq!((status, problem["field"].clone()), (400, json!("as")));
    // Cursors of another list, or another search, are refused (never reach the store).
    let foreign = domain::ports::Cursor {
        pk: "REFLIST#REFERRER#prac_other".into(),
        sk: "2026-11-20T09:00:00.000Z#ref-x".into(),
        ipk: None,
        isk: None,
    }
    .encode();
    let (status, problem) = w
        .call(
            Some(&referrer()),
            "GET",
            &format!("/referrals?as=referrer&cursor={foreign}"),
            None,
            None,
        )
        .await;
    assert_eq!((status, problem["field"].clone()), (400, json!("cursor")));
    let (_, page) = w
        .call(
            Some(&referrer()),
            "GET",
            "/referrals/specialists?limit=1",
            None,
            None,
        )
        .await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    for path in [
        format!("/referrals/specialists?q=dr. o&cursor={cursor}"),
        format!("/referrals/specialists?cursor={foreign}"),
    ] {
        let (status, problem) = w.call(Some(&referrer()), "GET", &path, None, None).await;
        assert_eq!(
            (status, problem["field"].clone()),
            (400, json!("cursor")),
            "{path}"
        );
    }
    // An id past 128 characters, or with characters no id has, is refused naming the path
    // parameter; a well-formed id of no referral is not found.
    let long = "r".repeat(300);
    let refused = |(status, problem): (u16, Value)| (status, problem["field"].clone());
    let expected = (400, json!("referral_id"));
    assert_eq!(refused(w.get(&referrer(), &long).await), expected);
    assert_eq!(refused(w.get(&referrer(), "ref%20x").await), expected);
    assert_eq!(
        refused(w.decide(&the_patient(), &long, "patient", "accept").await),
        expected
    );
    assert_eq!(w.get(&referrer(), &"r".repeat(128)).await.0, 404);
}

/// B7: a retried step with the same Idempotency-Key answers the first answer and lands its
/// messages once; the same key with another request is refused.
async fn a_retried_step_answers_the_first_answer(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let body = json!({ "patient_id": "pat_1", "specialist_id": "prac_spec", "message": "Hi" });
    let first = w
        .call(
            Some(&referrer()),
            "POST",
            "/referrals",
            Some(body.clone()),
            Some("create-1"),
        )
        .await;
    assert_eq!(first.0, 201, "{}", first.1);
    w.clock.advance(Duration::minutes(1));
    let again = w
        .call(
            Some(&referrer()),
            "POST",
            "/referrals",
            Some(body.clone()),
            Some("create-1"),
        )
        .await;
    assert_eq!(again, first);
    let rid = first.1["referral_id"].as_str().unwrap().to_string();
    assert_eq!(w.list(&referrer(), "referrer").await, vec![rid.clone()]);
    let other = json!({ "patient_id": "pat_3", "specialist_id": "prac_spec" });
    let (status, problem) = w
        .call(
            Some(&referrer()),
            "POST",
            "/referrals",
            Some(other),
            Some("create-1"),
        )
        .await;
    assert_eq!(
        (status, problem["field"].clone()),
        (422, json!("Idempotency-Key"))
    );

    let pd = format!("/referrals/{rid}/patient-decision");
    let accept = Some(json!({ "decision": "accept" }));
    let first = w
        .call(
            Some(&the_patient()),
            "POST",
            &pd,
            accept.clone(),
            Some("p-1"),
        )
        .await;
    assert_eq!(first.0, 200);
    w.clock.advance(Duration::minutes(1));
    let again = w
        .call(
            Some(&the_patient()),
            "POST",
            &pd,
            accept.clone(),
            Some("p-1"),
        )
        .await;
    assert_eq!(again, first);
    // Without the key, the same step again answers the same.
    assert_eq!(
        w.call(Some(&the_patient()), "POST", &pd, accept.clone(), None)
            .await,
        first
    );
    let reject = Some(json!({ "decision": "reject" }));
    assert_eq!(
        w.call(Some(&the_patient()), "POST", &pd, reject, Some("p-1"))
            .await
            .0,
        422
    );

    let sd = format!("/referrals/{rid}/specialist-decision");
    let first = w
        .call(
            Some(&specialist()),
            "POST",
            &sd,
            accept.clone(),
            Some("s-1"),
        )
        .await;
    assert_eq!(first.0, 200);
    let again = w
        .call(
            Some(&specialist()),
            "POST",
            &sd,
            accept.clone(),
            Some("s-1"),
        )
        .await;
    assert_eq!(again, first);
    // Everything landed once.
    let sp = format!("{rid}.thread");
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[
            ("thr_rp", msg(&rid, "asked")),
            ("thr_rp", msg(&rid, "patient-accepted")),
            (&sp, msg(&rid, "approved")),
        ])
    );
    assert_eq!(w.summary("thr_rp").await.unwrap().message_count, 2);
    assert_eq!(w.summary(&sp).await.unwrap().message_count, 1);
    // The request, the note (B10) and the acceptance.
    assert_eq!(w.summary(&pair()).await.unwrap().message_count, 3);
    assert_eq!(w.audit_actions(&rid).await.len(), 3);
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["transitions"].as_array().unwrap().len(), 3);
}

/// B1: approved practitioners only, never the caller, by word prefixes of the name and/or
/// the specialty.
async fn specialists_are_found_by_name_and_specialty(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let search = |q: &str| {
        let w = &w;
        let path = format!("/referrals/specialists{q}");
        async move {
            let (status, page) = w.call(Some(&referrer()), "GET", &path, None, None).await;
            assert_eq!(status, 200, "{page}");
            let ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["practitioner_id"].as_str().unwrap().to_string())
                .collect();
            (ids, page["next_cursor"].as_str().map(str::to_string))
        }
    };
    // Name order: "dr. elodie specialiste" < "dr. elon nosched" < "dr. omar other".
    assert_eq!(
        search("").await.0,
        vec!["prac_spec", "prac_nosched", "prac_other"]
    );
    assert_eq!(search("?q=DR. ÉLOD").await.0, vec!["prac_spec"]);
    assert_eq!(
        search("?q=dr. el").await.0,
        vec!["prac_spec", "prac_nosched"]
    );
    // A search answers in the order of the matching words, then of the ids.
    assert_eq!(
        search("?specialty=CARDIOLOGY").await.0,
        vec!["prac_nosched", "prac_spec"]
    );
    assert_eq!(
        search("?q=dr. o&specialty=cardiology").await.0,
        Vec::<String>::new()
    );
    assert_eq!(search("?q=dr. elsa").await.0, Vec::<String>::new());
    assert_eq!(search("?q=dr. ana").await.0, Vec::<String>::new());
    let (first, cursor) = search("?specialty=cardiology&limit=1").await;
    assert_eq!(first, vec!["prac_nosched"]);
    let (second, _) = search(&format!(
        "?specialty=cardiology&limit=1&cursor={}",
        cursor.unwrap()
    ))
    .await;
    assert_eq!(second, vec!["prac_spec"]);
}

/// B7, Q6: fifty simultaneous decisions on one referral: exactly one transition wins; the
/// same decision by the same party answers what the winner did (200), a conflicting one 409;
/// exactly one specialist–patient thread exists when it was an acceptance.
async fn fifty_simultaneous_decisions_have_one_winner(store: Arc<TestStore>) {
    let w = Arc::new(world(store, false, true).await);
    // All fifty accept: one transition, one thread, the same answer for all.
    let rid = w.create("pat_1", "prac_spec", None).await;
    let statuses = race(&w, &rid, |_| "accept").await;
    assert_eq!(statuses, vec![200; 50]);
    assert_eq!(w.specialist_patient_threads("prac_spec", "pat_1").await, 1);
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "accepted");
    assert_eq!(view["transitions"].as_array().unwrap().len(), 2);
    assert_eq!(
        sorted_actions(&w, &rid).await,
        vec!["referral.accepted", "referral.created"]
    );
    // Accepts and rejects mixed: one wins; a thread exactly when an acceptance won.
    let rid = w.create("pat_3", "prac_spec", None).await;
    let statuses = race(&w, &rid, |n| if n % 2 == 0 { "accept" } else { "reject" }).await;
    let (_, view) = w.get(&referrer(), &rid).await;
    let accepted = view["state"] == "accepted";
    assert!(accepted || view["state"] == "rejected", "{view}");
    let won = usize::from(!accepted);
    for (n, status) in statuses.iter().enumerate() {
        let want = if n % 2 == won { 200 } else { 409 };
        assert_eq!(*status, want, "decision {n} of {statuses:?}");
    }
    assert_eq!(view["transitions"].as_array().unwrap().len(), 2);
    assert_eq!(
        w.specialist_patient_threads("prac_spec", "pat_3").await,
        usize::from(accepted)
    );
    assert_eq!(sorted_actions(&w, &rid).await.len(), 2);
}

async fn sorted_actions(w: &World, rid: &str) -> Vec<String> {
    let mut a = w.audit_actions(rid).await;
    a.sort();
    a
}

/// Fifty specialist decisions at once, each with its own Idempotency-Key.
async fn race(w: &Arc<World>, rid: &str, decision: fn(usize) -> &'static str) -> Vec<u16> {
    let mut tasks = Vec::new();
    for n in 0..50 {
        let w = Arc::clone(w);
        let path = format!("/referrals/{rid}/specialist-decision");
        tasks.push(tokio::spawn(async move {
            let key = format!("race-{n}");
            w.call(
                Some(&specialist()),
                "POST",
                &path,
                Some(decision_body("specialist", decision(n))),
                Some(&key),
            )
            .await
            .0
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

// ---- both adapters ----

pub(crate) fn embedded() -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::in_memory())
}

pub(crate) async fn moto() -> Arc<dyn Store> {
    Arc::new(dynamo_store().await)
}

/// Declares, for each `test => scenario(args)`, a module `test` with the tests `embedded` and
/// `moto`.
macro_rules! on_both_stores {
    ($($test:ident => $scenario:ident($($arg:expr),*);)+) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$scenario(super::embedded() $(, $arg)*).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn moto() {
                    super::$scenario(super::moto().await $(, $arg)*).await;
                }
            }
        )+
    };
}

pub(crate) use on_both_stores;

on_both_stores! {
    approval_on_prompt_on_accepted => patient_accepts_then_specialist_accepts(true);
    approval_on_prompt_off_accepted => patient_accepts_then_specialist_accepts(false);
    approval_on_prompt_on_patient_declines => patient_declines(true);
    approval_on_prompt_off_patient_declines => patient_declines(false);
    approval_on_prompt_on_specialist_declines => patient_accepts_then_specialist_declines(true);
    approval_on_prompt_off_specialist_declines => patient_accepts_then_specialist_declines(false);
    approval_off_prompt_on_accepted => no_approval_specialist_accepts(true);
    approval_off_prompt_off_accepted => no_approval_specialist_accepts(false);
    approval_off_prompt_on_specialist_declines => no_approval_specialist_declines(true);
    approval_off_prompt_off_specialist_declines => no_approval_specialist_declines(false);
    no_booking_prompt_without_a_scheduling_practice => no_prompt_without_scheduling_practice();
    existing_pair_thread_is_reused => an_existing_pair_thread_is_reused();
    only_the_named_party_acts => only_the_named_party_may_act();
    out_of_order_steps_conflict => steps_out_of_order_answer_409();
    bad_input_names_the_field => bad_input_is_refused_naming_the_field();
    retried_steps_answer_the_first_answer => a_retried_step_answers_the_first_answer();
    specialist_search => specialists_are_found_by_name_and_specialty();
}

/// Declares, for each `test => scenario`, a module `test` with the tests `embedded` (real
/// concurrency, bare store) and `moto` (writes one at a time), each scenario taking a
/// [`TestStore`].
macro_rules! on_both_test_stores {
    ($($test:ident => $scenario:ident;)+) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    let store = super::TestStore::new(super::embedded(), false);
                    super::$scenario(std::sync::Arc::new(store)).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn moto() {
                    let store = super::TestStore::new(super::moto().await, true);
                    super::$scenario(std::sync::Arc::new(store)).await;
                }
            }
        )+
    };
}

on_both_test_stores! {
    fifty_simultaneous_decisions => fifty_simultaneous_decisions_have_one_winner;
    copies_of_one_request_land_once => concurrent_copies_of_one_request_land_once;
    lost_messages_are_delivered_once => messages_lost_after_a_commit_are_delivered_once;
}

/// B7: ten copies of one request (same Idempotency-Key) at once: one referral, one decision,
/// every copy answered the first answer.
async fn concurrent_copies_of_one_request_land_once(store: Arc<TestStore>) {
    let w = Arc::new(world(store, true, true).await);
    let body = json!({ "patient_id": "pat_1", "specialist_id": "prac_spec" });
    let answers = copies(&w, "/referrals", referrer(), body).await;
    assert_eq!(answers[0].0, 201, "{}", answers[0].1);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    let rid = answers[0].1["referral_id"].as_str().unwrap().to_string();
    assert_eq!(w.list(&referrer(), "referrer").await, vec![rid.clone()]);
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[("thr_rp", msg(&rid, "asked"))])
    );
    let path = format!("/referrals/{rid}/patient-decision");
    let answers = copies(&w, &path, the_patient(), json!({ "decision": "accept" })).await;
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(
        sorted_actions(&w, &rid).await,
        vec!["referral.created", "referral.patient_accepted"]
    );
    assert_eq!(w.summary("thr_rp").await.unwrap().message_count, 2);
}

/// Ten copies of one POST with the same Idempotency-Key, at once.
async fn copies(w: &Arc<World>, path: &str, caller: Principal, body: Value) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (w, path, caller, body) = (
            Arc::clone(w),
            path.to_string(),
            caller.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            w.call(Some(&caller), "POST", &path, Some(body), Some("same-key"))
                .await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A failure after a step's commit, at each point of its delivery: the step stands and is
/// answered; its messages land once — by the delivery worker's sweep, or by the same
/// decision retried, with its key (the first answer) or without one (the same answer).
async fn messages_lost_after_a_commit_are_delivered_once(store: Arc<TestStore>) {
    use domain::referrals::delivery::{pending, settle_all};
    use std::sync::atomic::Ordering;
    let w = world(store.clone(), false, true).await;
    let accept = Some(json!({ "decision": "accept" }));

    // Crash before the first message: the worker delivers.
    let rid = w.create("pat_1", "prac_spec", None).await;
    let sd = format!("/referrals/{rid}/specialist-decision");
    store.fail_nth_event.store(1, Ordering::SeqCst);
    let (status, answer) = w
        .call(Some(&specialist()), "POST", &sd, accept.clone(), Some("k"))
        .await;
    assert_eq!((status, answer["state"].clone()), (200, json!("accepted")));
    assert_eq!(w.seen_by("pat_1").await, BTreeSet::new());
    assert_eq!(pending(&*w.store(), 10).await.unwrap(), vec![rid.clone()]);
    // The marker's stream record, as the `referral-delivery` function gets it in AWS.
    let record = json!({"Records": [{"eventID": "1", "eventName": "INSERT", "awsRegion": "local",
        "dynamodb": {"Keys": {"pk": {"S": format!("REFERRAL#{rid}")}, "sk": {"S": "DELIVERY"}},
                     "SequenceNumber": "7", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}}]});
    let delivered = referral_delivery::handle(&w.deps, record).await.unwrap();
    assert_eq!(delivered["batchItemFailures"], json!([]), "{delivered}");
    let sp = format!("{rid}.thread");
    let approved = seen(&[(&sp, msg(&rid, "approved"))]);
    assert_eq!(w.seen_by("pat_1").await, approved);
    assert_eq!(
        pending(&*w.store(), 10).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(settle_all(&*w.store(), t0(), 10).await.unwrap(), 0);
    let (status, again) = w
        .call(Some(&specialist()), "POST", &sd, accept.clone(), Some("k"))
        .await;
    assert_eq!((status, &again), (200, &answer));
    assert_eq!(w.summary(&sp).await.unwrap().message_count, 1);

    // Crash after the first message: the retry without a key answers and delivers the rest.
    let rid = w.create("pat_3", "prac_spec", None).await;
    let sd = format!("/referrals/{rid}/specialist-decision");
    store.fail_nth_event.store(2, Ordering::SeqCst);
    let (status, answer) = w
        .call(Some(&specialist()), "POST", &sd, accept.clone(), None)
        .await;
    assert_eq!((status, answer["state"].clone()), (200, json!("accepted")));
    assert_eq!(pending(&*w.store(), 10).await.unwrap(), vec![rid.clone()]);
    let (status, again) = w
        .call(Some(&specialist()), "POST", &sd, accept.clone(), None)
        .await;
    assert_eq!((status, &again), (200, &answer));
    let sp = format!("{rid}.thread");
    assert_eq!(
        w.seen_by("pat_3").await,
        seen(&[(&sp, msg(&rid, "approved"))])
    );
    assert_eq!(w.summary(&sp).await.unwrap().message_count, 1);
    assert_eq!(
        pending(&*w.store(), 10).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(settle_all(&*w.store(), t0(), 10).await.unwrap(), 0);
    // Crash before the first message, no retry: the sweep delivers.
    let rid = w.create("pat_1", "prac_spec", None).await;
    store.fail_nth_event.store(1, Ordering::SeqCst);
    let (status, _) = w.decide(&specialist(), &rid, "specialist", "reject").await;
    assert_eq!(status, 200);
    assert_eq!(pending(&*w.store(), 10).await.unwrap(), vec![rid.clone()]);
    assert_eq!(settle_all(&*w.store(), t0(), 10).await.unwrap(), 1);
    assert_eq!(
        pending(&*w.store(), 10).await.unwrap(),
        Vec::<String>::new()
    );
    // Another decision than the one taken is still refused.
    let reject = Some(decision_body("specialist", "reject"));
    assert_eq!(
        w.call(Some(&specialist()), "POST", &sd, reject, None)
            .await
            .0,
        409
    );
    assert_eq!(w.summary(&sp).await.unwrap().message_count, 1);
}

/// A store for the harder scenarios: on moto its writes go one at a time, and it can fail the
/// n-th next ingest transaction (an event marker first) once, as a crash between a step's
/// commit and its messages, or between two of its messages, would.
///
/// Why one write at a time on moto: moto (5.2) runs a TransactWriteItems op by op and, when an
/// op fails, restores a copy of the whole table taken when that request began, without a
/// lock: concurrent transactions on one table revert each other's writes, which DynamoDB
/// never does (tests/events.rs found it first). So on moto the writes are serialised; the
/// decisions' reads and their races to commit on a stale version stay concurrent. The
/// embedded store runs bare.
pub(crate) struct TestStore {
    inner: Arc<dyn Store>,
    one_write_at_a_time: Option<tokio::sync::Mutex<()>>,
    /// 0: no failure; n: the n-th next event transaction fails.
    fail_nth_event: std::sync::atomic::AtomicUsize,
}

impl TestStore {
    pub(crate) fn new(inner: Arc<dyn Store>, one_write_at_a_time: bool) -> Self {
        Self {
            inner,
            one_write_at_a_time: one_write_at_a_time.then(|| tokio::sync::Mutex::new(())),
            fail_nth_event: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    async fn write<T>(
        &self,
        f: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match &self.one_write_at_a_time {
            Some(lock) => {
                let _one = lock.lock().await;
                f.await
            }
            None => f.await,
        }
    }
}

type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

// `Store` is an `async_trait`; this is what the macro would write.
impl Store for TestStore {
    fn get<'s, 'k, 'f>(&'s self, key: &'k Key) -> StoreFuture<'f, Option<Item>>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        self.inner.get(key)
    }

    fn put<'s, 'f>(&'s self, item: Item, condition: Condition) -> StoreFuture<'f, ()>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(self.write(self.inner.put(item, condition)))
    }

    fn delete<'s, 'k, 'f>(&'s self, key: &'k Key, condition: Condition) -> StoreFuture<'f, ()>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        Box::pin(self.write(self.inner.delete(key, condition)))
    }

    fn transact<'s, 'f>(&'s self, ops: Vec<TxOp>) -> StoreFuture<'f, ()>
    where
        's: 'f,
        Self: 'f,
    {
        use std::sync::atomic::Ordering;
        let event = ops
            .first()
            .is_some_and(|op| op.key().pk.starts_with("EVENT#"));
        let fail = event
            && self
                .fail_nth_event
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                == Ok(1);
        if fail {
            return Box::pin(async { Err(StoreError::Unavailable("injected failure".into())) });
        }
        Box::pin(self.write(self.inner.transact(ops)))
    }

    fn add<'s, 'k, 'f>(&'s self, key: &'k Key, delta: i64) -> StoreFuture<'f, i64>
    where
        's: 'f,
        'k: 'f,
        Self: 'f,
    {
        Box::pin(self.write(self.inner.add(key, delta)))
    }

    fn query<'s, 'q, 'f>(&'s self, query: &'q Query) -> StoreFuture<'f, Page>
    where
        's: 'f,
        'q: 'f,
        Self: 'f,
    {
        self.inner.query(query)
    }

    fn put_many<'s, 'f>(&'s self, items: Vec<Item>) -> StoreFuture<'f, ()>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(self.write(self.inner.put_many(items)))
    }
}
