//! Withdrawal and expiry (SPEC B9) through the function handlers and the scheduled sweep, on
//! both store adapters: the referrer withdraws while the patient or the specialist is asked;
//! nobody else may (403/404), nor in a final state (409); a pending referral expires once its
//! time has come, read from the expiry index; both are transitions with history, audit record
//! and messages, each party seeing what its role should; and a decision racing an expiry has
//! exactly one winner. The world and its helpers are `tests/referrals.rs`'s.

#![allow(clippy::unwrap_used)]

use crate::referrals::{
    embedded, moto, msg, on_both_stores, pair, referrer, seen, specialist, t0, the_patient, who,
    world, World,
};
use chrono::Duration;
use domain::auth::Role;
use domain::ports::{Index, Query, Store};
use domain::referrals::flow::expire_due;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

impl World {
    async fn withdraw(&self, caller: &domain::auth::Principal, rid: &str) -> (u16, Value) {
        self.clock.advance(Duration::minutes(5));
        self.call(
            Some(caller),
            "POST",
            &format!("/referrals/{rid}/withdraw"),
            None,
            None,
        )
        .await
    }

    /// The referral ids in the expiry index, in expiry order.
    async fn expiring(&self) -> Vec<String> {
        let q = Query::partition(Index::Gsi1, "REFEXPIRY");
        self.store()
            .query(&q)
            .await
            .unwrap()
            .items
            .iter()
            .map(|i| i.pk.trim_start_matches("REFERRAL#").to_string())
            .collect()
    }
}

fn steps(view: &Value) -> Vec<(Value, Value, Value, Value)> {
    view["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["from"].clone(),
                t["to"].clone(),
                t["by"].clone(),
                t["by_role"].clone(),
            )
        })
        .collect()
}

/// B9, approval on: withdrawn while the patient is asked. The patient sees it withdrawn (never
/// the note), the specialist never sees it; the patient can no longer decide; a withdrawal
/// again answers the same.
async fn withdrawn_while_the_patient_is_asked(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let rid = w.create("pat_1", "prac_spec", Some("Echo please.")).await;
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(
        view["expires_at"],
        json!((t0() + Duration::days(14)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    );
    assert_eq!(w.expiring().await, vec![rid.clone()]);

    let (status, answer) = w.withdraw(&referrer(), &rid).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "withdrawn");
    assert_eq!(answer["message"], "Echo please.");
    assert!(answer.get("expires_at").is_none(), "{answer}");
    assert_eq!(
        steps(&answer),
        vec![
            (
                json!(null),
                json!("pending_patient"),
                json!("prac_ref"),
                json!("practitioner")
            ),
            (
                json!("pending_patient"),
                json!("withdrawn"),
                json!("prac_ref"),
                json!("practitioner")
            ),
        ]
    );
    assert_eq!(
        w.audit_actions(&rid).await.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            &"referral.created".to_string(),
            &"referral.withdrawn".to_string()
        ])
    );
    assert_eq!(w.expiring().await, Vec::<String>::new());

    let (status, pview) = w.get(&the_patient(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(pview["state"], "withdrawn");
    assert!(pview.get("message").is_none(), "{pview}");
    assert_eq!(w.get(&specialist(), &rid).await.0, 404);
    assert_eq!(
        w.seen_by("pat_1").await,
        seen(&[
            ("thr_rp", msg(&rid, "asked")),
            ("thr_rp", msg(&rid, "withdrawn-patient"))
        ])
    );
    assert_eq!(w.seen_by("prac_spec").await, BTreeSet::new());
    assert_eq!(
        w.text_of("thr_rp", &msg(&rid, "withdrawn-patient")).await,
        "Dr. Ana Referrer withdrew the referral to Dr. Élodie Spécialiste."
    );

    let (status, refused) = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(status, 409, "{refused}");
    let (status, again) = w.withdraw(&referrer(), &rid).await;
    assert_eq!((status, &again), (200, &answer));
    assert_eq!(w.audit_actions(&rid).await.len(), 2);
}

/// B9, approval off: withdrawn while the specialist is asked. The specialist still sees it,
/// withdrawn and no longer to be decided; the pair thread says so; the patient never knew.
async fn withdrawn_while_the_specialist_is_asked(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let rid = w.create("pat_1", "prac_spec", Some("Echo please.")).await;
    let (status, answer) = w.withdraw(&referrer(), &rid).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["state"], "withdrawn");
    let (status, sview) = w.get(&specialist(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(sview["state"], "withdrawn");
    let listed = w.list_items(&specialist(), "specialist").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "withdrawn");
    let (status, refused) = w.decide(&specialist(), &rid, "specialist", "accept").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        w.seen_by("prac_spec").await,
        seen(&[
            (&pair(), msg(&rid, "request")),
            (&pair(), msg(&rid, "request-note")),
            (&pair(), msg(&rid, "withdrawn"))
        ])
    );
    assert_eq!(
        w.text_of(&pair(), &msg(&rid, "withdrawn")).await,
        "Dr. Ana Referrer withdrew the referral: Zoë Patient to you."
    );
    assert_eq!(w.get(&the_patient(), &rid).await.0, 404);
    assert!(w.list_items(&the_patient(), "patient").await.is_empty());
}

/// B9: only the referrer withdraws (the specialist 403, a patient's role 403, anyone else
/// 404); never a final referral (409); a body holds nothing (400 naming the field); the same
/// Idempotency-Key answers the first answer.
async fn only_the_referrer_withdraws_a_pending_referral(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    let path = format!("/referrals/{rid}/withdraw");
    assert_eq!(w.withdraw(&specialist(), &rid).await.0, 403);
    assert_eq!(w.withdraw(&the_patient(), &rid).await.0, 403);
    assert_eq!(
        w.withdraw(&who("prac_other", Role::Practitioner), &rid)
            .await
            .0,
        404
    );
    assert_eq!(w.withdraw(&referrer(), "ref-unknown").await.0, 404);
    let (status, problem) = w
        .call(
            Some(&referrer()),
            "POST",
            &path,
            Some(json!({"why": "x"})),
            None,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "why");
    for not_an_object in [json!([]), json!(null), json!("withdraw")] {
        let (status, problem) = w
            .call(Some(&referrer()), "POST", &path, Some(not_an_object), None)
            .await;
        assert_eq!(
            (status, problem["field"].clone()),
            (400, json!("body")),
            "{problem}"
        );
    }
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "pending_specialist");

    let (status, first) = w
        .call(
            Some(&referrer()),
            "POST",
            &path,
            Some(json!({})),
            Some("w-1"),
        )
        .await;
    assert_eq!((status, first["state"].clone()), (200, json!("withdrawn")));
    let (status, replayed) = w
        .call(Some(&referrer()), "POST", &path, None, Some("w-1"))
        .await;
    assert_eq!((status, &replayed), (200, &first));

    let accepted = w.create("pat_3", "prac_spec", None).await;
    let (status, _) = w
        .decide(&specialist(), &accepted, "specialist", "accept")
        .await;
    assert_eq!(status, 200);
    let (status, refused) = w.withdraw(&referrer(), &accepted).await;
    assert_eq!(status, 409, "{refused}");
    let (_, view) = w.get(&referrer(), &accepted).await;
    assert_eq!(view["state"], "accepted");
}

/// B9: a pending referral expires when its time has come, not a second before, through the
/// scheduled sweep; by the system, with its audit record and messages; once.
async fn a_pending_referral_expires_through_the_sweep(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let asked = w.create("pat_1", "prac_spec", Some("Echo please.")).await;
    w.clock.advance(Duration::hours(1));
    let with_specialist = w.create("pat_3", "prac_spec", None).await;
    let (status, _) = w
        .decide(
            &who("pat_3", Role::Patient),
            &with_specialist,
            "patient",
            "accept",
        )
        .await;
    assert_eq!(status, 200);
    let due = t0() + Duration::days(14);
    assert_eq!(
        expire_due(w.store(), due - Duration::seconds(1), 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        w.expiring().await,
        vec![asked.clone(), with_specialist.clone()]
    );

    // The scheduled invocation of `referral-delivery`, as EventBridge sends it.
    w.clock.set(due);
    let swept = referral_delivery::handle(&w.deps, json!({"source": "aws.scheduler"}))
        .await
        .unwrap();
    assert_eq!(swept, json!({"expired": 1, "settled": 0}));
    let (_, view) = w.get(&referrer(), &asked).await;
    assert_eq!(view["state"], "expired");
    assert_eq!(
        steps(&view)[1],
        (
            json!("pending_patient"),
            json!("expired"),
            json!("system"),
            json!("service")
        )
    );
    assert_eq!(
        w.audit_actions(&asked)
            .await
            .iter()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([
            &"referral.created".to_string(),
            &"referral.expired".to_string()
        ])
    );
    let (_, pview) = w.get(&the_patient(), &asked).await;
    assert_eq!(pview["state"], "expired");
    assert!(pview.get("message").is_none(), "{pview}");
    assert_eq!(
        w.text_of("thr_rp", &msg(&asked, "expired-patient")).await,
        "The referral expired without an answer to Dr. Élodie Spécialiste."
    );
    let (status, _) = w.decide(&the_patient(), &asked, "patient", "accept").await;
    assert_eq!(status, 409);
    assert_eq!(w.expiring().await, vec![with_specialist.clone()]);

    w.clock.set(due + Duration::hours(1));
    assert_eq!(
        expire_due(w.store(), due + Duration::hours(1), 10)
            .await
            .unwrap(),
        1
    );
    let (_, sview) = w.get(&specialist(), &with_specialist).await;
    assert_eq!(sview["state"], "expired");
    assert!(w
        .seen_by("prac_spec")
        .await
        .contains(&(pair(), msg(&with_specialist, "expired"))));
    let (status, _) = w
        .decide(&specialist(), &with_specialist, "specialist", "accept")
        .await;
    assert_eq!(status, 409);
    assert_eq!(w.expiring().await, Vec::<String>::new());
    assert_eq!(
        expire_due(w.store(), due + Duration::days(30), 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(w.audit_actions(&with_specialist).await.len(), 3);
}

/// B9: the sweep reads the due referrals in rounds of its batch, and a decided referral is
/// out of the index: twelve due with a batch of five, two of them decided first.
async fn the_sweep_reads_due_referrals_in_rounds(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let patient = if n % 2 == 0 { "pat_1" } else { "pat_3" };
        ids.push(w.create(patient, "prac_spec", None).await);
        w.clock.advance(Duration::minutes(1));
    }
    let (status, _) = w
        .decide(&specialist(), &ids[0], "specialist", "accept")
        .await;
    assert_eq!(status, 200);
    let (status, _) = w.withdraw(&referrer(), &ids[1]).await;
    assert_eq!(status, 200);
    assert_eq!(w.expiring().await, ids[2..].to_vec());
    let later = t0() + Duration::days(15);
    assert_eq!(expire_due(w.store(), later, 5).await.unwrap(), 10);
    assert_eq!(w.expiring().await, Vec::<String>::new());
    let (_, accepted) = w.get(&referrer(), &ids[0]).await;
    assert_eq!(accepted["state"], "accepted");
    let (_, withdrawn) = w.get(&referrer(), &ids[1]).await;
    assert_eq!(withdrawn["state"], "withdrawn");
}

/// B9: a decision racing the expiry: exactly one wins; the decision answers 200 when it won
/// and 409 when the expiry did, and the referral holds exactly one transition after its
/// creation.
async fn a_decision_racing_the_expiry_has_one_winner(store: Arc<dyn Store>) {
    let w = Arc::new(world(store, false, true).await);
    let mut ids = Vec::new();
    for n in 0..8 {
        let patient = if n % 2 == 0 { "pat_1" } else { "pat_3" };
        ids.push(w.create(patient, "prac_spec", None).await);
    }
    w.clock.set(t0() + Duration::days(14));
    let sweeper = {
        let w = Arc::clone(&w);
        tokio::spawn(async move {
            expire_due(w.store(), t0() + Duration::days(14), 2)
                .await
                .unwrap()
        })
    };
    let mut decisions = Vec::new();
    for rid in &ids {
        let w = Arc::clone(&w);
        let path = format!("/referrals/{rid}/specialist-decision");
        decisions.push(tokio::spawn(async move {
            w.call(
                Some(&specialist()),
                "POST",
                &path,
                Some(json!({"decision": "accept"})),
                None,
            )
            .await
            .0
        }));
    }
    let expired = sweeper.await.unwrap();
    let mut accepted = 0;
    for (rid, decision) in ids.iter().zip(decisions) {
        let status = decision.await.unwrap();
        let (_, view) = w.get(&referrer(), rid).await;
        let want = if status == 200 {
            accepted += 1;
            "accepted"
        } else {
            assert_eq!(status, 409, "{rid}");
            "expired"
        };
        assert_eq!(view["state"], want, "{rid}");
        assert_eq!(view["transitions"].as_array().unwrap().len(), 2, "{view}");
        assert_eq!(w.audit_actions(rid).await.len(), 2);
    }
    assert_eq!(accepted + expired, ids.len());
    assert_eq!(w.expiring().await, Vec::<String>::new());
}

on_both_stores! {
    withdrawn_while_asked_of_the_patient => withdrawn_while_the_patient_is_asked();
    withdrawn_while_asked_of_the_specialist => withdrawn_while_the_specialist_is_asked();
    only_the_referrer_withdraws => only_the_referrer_withdraws_a_pending_referral();
    pending_referrals_expire => a_pending_referral_expires_through_the_sweep();
    the_sweep_reads_in_rounds => the_sweep_reads_due_referrals_in_rounds();
}

/// The race on a [`TestStore`]: real concurrency on the embedded store, writes one at a time
/// on moto (whose failed transactions restore the whole table, see `TestStore`).
mod decision_racing_expiry {
    use crate::referrals::TestStore;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        let store = TestStore::new(crate::referrals::embedded(), false);
        super::a_decision_racing_the_expiry_has_one_winner(Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn moto() {
        let store = TestStore::new(crate::referrals::moto().await, true);
        super::a_decision_racing_the_expiry_has_one_winner(Arc::new(store)).await;
    }
}
