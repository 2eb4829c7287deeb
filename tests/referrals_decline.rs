//! Decline reasons (SPEC B8) through the function handlers, on both store adapters: the
//! closed list and its bounds (400 naming the field), the reason kept with the decline and
//! shown to the referrer and the specialist, never to the patient on any of their routes, at
//! most its code where admins read (system messages, audit trail), and retries compared by
//! their reason (the first answer, 409, 422). The world and its helpers are
//! `tests/referrals.rs`'s.

#![allow(clippy::unwrap_used)]

use crate::referrals::{
    embedded, moto, msg, on_both_stores, pair, referrer, specialist, the_patient, world, World,
};
use chrono::Duration;
use domain::ports::store::query_all;
use domain::ports::{Index, Key, Query, Store};
use serde_json::{json, Value};
use std::sync::Arc;

const REASON_TEXT: &str = "Best seen by a paediatric cardiologist.";

impl World {
    async fn specialist_decides(&self, rid: &str, body: Value, key: Option<&str>) -> (u16, Value) {
        self.call(
            Some(&specialist()),
            "POST",
            &format!("/referrals/{rid}/specialist-decision"),
            Some(body),
            key,
        )
        .await
    }

    async fn stored(&self, rid: &str) -> Value {
        self.store()
            .get(&Key::new(format!("REFERRAL#{rid}"), "REFERRAL"))
            .await
            .unwrap()
            .unwrap()
            .body
    }
}

/// The patient's JSON holds no trace of a decline reason: no `reason` or `decline_reason`
/// key anywhere, no code, not the text.
fn assert_no_reason(patient_json: &Value) {
    fn keys_of(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys_of(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| keys_of(v, out)),
            _ => {}
        }
    }
    let mut keys = Vec::new();
    keys_of(patient_json, &mut keys);
    assert!(!keys.iter().any(|k| k.contains("reason")), "{patient_json}");
    let text = patient_json.to_string();
    for secret in [
        "paediatric",
        "outside_specialty",
        "no_capacity",
        "\"other\"",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

/// B8: a decline names a code of the closed list (text required for `other`, at most 500
/// characters); bad reasons are refused naming the field and change nothing.
async fn decline_reasons_are_checked_naming_the_field(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "decision": "reject" }), "reason"),
        (json!({ "decision": "reject", "reason": null }), "reason"),
        (
            json!({ "decision": "reject", "reason": { "code": "too_busy" } }),
            "reason.code",
        ),
        (
            json!({ "decision": "reject", "reason": { "code": "other" } }),
            "reason.text",
        ),
        (
            json!({ "decision": "reject", "reason": { "code": "other", "text": "  \n " } }),
            "reason.text",
        ),
        (
            json!({ "decision": "reject", "reason": { "code": "no_capacity", "text": "x".repeat(501) } }),
            "reason.text",
        ),
        (
            json!({ "decision": "reject", "reason": { "code": "other", "text": "a\u{0}b" } }),
            "reason.text",
        ),
        (
            json!({ "decision": "reject", "reason": { "code": "other", "text": 5 } }),
            "reason.text",
        ),
        (
            json!({ "decision": "reject", "reason": "no_capacity" }),
            "reason",
        ),
        (
            json!({ "decision": "reject", "reason": { "code": "other", "text": "x", "extra": 1 } }),
            "reason.extra",
        ),
        (
            json!({ "decision": "reject", "reason": { "text": "x" } }),
            "reason.code",
        ),
        (
            json!({ "decision": "accept", "reason": { "code": "no_capacity" } }),
            "reason",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = w.specialist_decides(&rid, body.clone(), None).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["status"], 400, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert!(
            problem["type"].as_str().unwrap().ends_with("invalid-input"),
            "{problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // 500 characters are taken (the longest text).
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["state"], "pending_specialist");
    assert_eq!(view["transitions"].as_array().unwrap().len(), 1);
    assert_eq!(w.audit_actions(&rid).await, vec!["referral.created"]);
    let longest = "é".repeat(500);
    let (status, answer) = w
        .specialist_decides(
            &rid,
            json!({ "decision": "reject", "reason": { "code": "other", "text": longest } }),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["decline_reason"]["text"], json!("é".repeat(500)));

    // The patient's decision takes no reason.
    let w = world(embedded(), true, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    for decision in ["accept", "reject"] {
        let (status, problem) = w
            .call(
                Some(&the_patient()),
                "POST",
                &format!("/referrals/{rid}/patient-decision"),
                Some(json!({ "decision": decision, "reason": { "code": "no_capacity" } })),
                None,
            )
            .await;
        assert_eq!((status, problem["field"].clone()), (400, json!("reason")));
    }
    assert_eq!(w.get(&referrer(), &rid).await.1["state"], "pending_patient");
}

/// B8, B5: the reason is kept with the decline's transition and shown to the referrer (and
/// the specialist), in the referral and in their lists; the patient sees none of it, on any
/// route; admins' system messages and the audit trail carry at most the code.
async fn the_referrer_sees_the_decline_reason_and_the_patient_never_does(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let rid = w.create("pat_1", "prac_spec", Some("Chest pain")).await;
    let (status, _) = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(status, 200);
    w.clock.advance(Duration::minutes(5));
    let body = json!({
        "decision": "reject",
        "reason": { "code": "other", "text": format!("  {REASON_TEXT}\n") },
    });
    let (status, answer) = w.specialist_decides(&rid, body, None).await;
    assert_eq!(status, 200, "{answer}");
    let reason = json!({ "code": "other", "text": REASON_TEXT });
    assert_eq!(answer["state"], "rejected");
    assert_eq!(answer["decline_reason"], reason);

    // Stored with the transition to `rejected`.
    let stored = w.stored(&rid).await;
    let last = stored["transitions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["from"].clone(), last["to"].clone(), last["by"].clone()),
        (
            json!("pending_specialist"),
            json!("rejected"),
            json!("prac_spec")
        )
    );
    assert_eq!(last["reason"], reason);

    // The referrer: in the referral, its history and the list.
    let (status, view) = w.get(&referrer(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(view["state"], "rejected");
    assert_eq!(view["decline_reason"], reason);
    assert_eq!(view["transitions"][2]["reason"], reason);
    for t in &view["transitions"].as_array().unwrap()[..2] {
        assert!(t.get("reason").is_none(), "{t}");
    }
    let listed = w.list_items(&referrer(), "referrer").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["decline_reason"], reason);
    // The specialist sees what they answered.
    assert_eq!(w.get(&specialist(), &rid).await.1["decline_reason"], reason);
    assert_eq!(
        w.list_items(&specialist(), "specialist").await[0]["decline_reason"],
        reason
    );

    // The patient: the referral, the list, and every answer of their own decision route.
    let (status, mine) = w.get(&the_patient(), &rid).await;
    assert_eq!(status, 200);
    assert_eq!(mine["state"], "pending_specialist");
    assert_no_reason(&mine);
    let listed = w.list_items(&the_patient(), "patient").await;
    assert_eq!(listed.len(), 1);
    assert_no_reason(&Value::Array(listed));
    let pd = format!("/referrals/{rid}/patient-decision");
    let (status, again) = w
        .call(
            Some(&the_patient()),
            "POST",
            &pd,
            Some(json!({ "decision": "accept" })),
            None,
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_no_reason(&again);
    let (status, problem) = w
        .call(
            Some(&the_patient()),
            "POST",
            &pd,
            Some(json!({ "decision": "reject" })),
            None,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_no_reason(&problem);
    assert!(!problem.to_string().contains("rejected"), "{problem}");

    // No free text where admins read: the system messages and the audit trail.
    assert_eq!(
        w.text_of(&pair(), &msg(&rid, "declined")).await,
        "Dr. Élodie Spécialiste declined the referral of Zoë Patient."
    );
    for thread in ["thr_rp".to_string(), pair()] {
        for m in w.messages(&thread).await {
            let text = m.system_text.unwrap_or_default();
            assert!(!text.contains("paediatric"), "{text}");
        }
    }
    let q = Query::partition(Index::Primary, format!("AUDIT#REFERRAL#{rid}"));
    let audit = query_all(w.store(), &q).await.unwrap();
    let rejected = audit
        .iter()
        .find(|i| i.body["action"] == "referral.rejected")
        .unwrap();
    assert_eq!(rejected.body["params"]["reason_code"], "other");
    for record in &audit {
        assert!(
            !record.body.to_string().contains("paediatric"),
            "{:?}",
            record.body
        );
    }
}

/// B8, Q6: the same decline with the same reason again answers the first answer (with a key or
/// without; the text compared as taken, trimmed); with another reason it is a conflict (409),
/// or, with the same key, a reused key (422); nothing changes.
async fn a_retried_decline_answers_by_its_reason(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    let body = json!({ "decision": "reject", "reason": { "code": "other", "text": REASON_TEXT } });
    let first = w.specialist_decides(&rid, body.clone(), None).await;
    assert_eq!(first.0, 200, "{}", first.1);
    w.clock.advance(Duration::minutes(1));
    assert_eq!(w.specialist_decides(&rid, body.clone(), None).await, first);
    let padded = json!({ "decision": "reject", "reason": { "code": "other", "text": format!(" {REASON_TEXT} ") } });
    assert_eq!(w.specialist_decides(&rid, padded, None).await, first);
    for other in [
        json!({ "decision": "reject", "reason": { "code": "other", "text": "Another reason." } }),
        json!({ "decision": "reject", "reason": { "code": "no_capacity" } }),
        json!({ "decision": "reject", "reason": { "code": "no_capacity", "text": REASON_TEXT } }),
    ] {
        let (status, problem) = w.specialist_decides(&rid, other.clone(), None).await;
        assert_eq!(status, 409, "{other}: {problem}");
        assert_eq!(problem["status"], 409, "{problem}");
        assert!(!problem.to_string().contains("paediatric"), "{problem}");
    }
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(view["transitions"].as_array().unwrap().len(), 2);
    assert_eq!(view["decline_reason"]["text"], REASON_TEXT);
    assert_eq!(w.audit_actions(&rid).await.len(), 2);

    // With an Idempotency-Key.
    let rid = w.create("pat_3", "prac_spec", None).await;
    let body = json!({ "decision": "reject", "reason": { "code": "outside_specialty" } });
    let first = w.specialist_decides(&rid, body.clone(), Some("d-1")).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(
        first.1["decline_reason"],
        json!({ "code": "outside_specialty" })
    );
    assert_eq!(
        w.specialist_decides(&rid, body.clone(), Some("d-1")).await,
        first
    );
    assert_eq!(w.specialist_decides(&rid, body, None).await, first);
    let other = json!({ "decision": "reject", "reason": { "code": "better_served_elsewhere" } });
    let (status, problem) = w.specialist_decides(&rid, other.clone(), Some("d-1")).await;
    assert_eq!(
        (status, problem["field"].clone()),
        (422, json!("Idempotency-Key"))
    );
    assert_eq!(
        w.specialist_decides(&rid, other.clone(), Some("d-2"))
            .await
            .0,
        409
    );
    assert_eq!(w.specialist_decides(&rid, other, None).await.0, 409);
    let (_, view) = w.get(&referrer(), &rid).await;
    assert_eq!(
        view["decline_reason"],
        json!({ "code": "outside_specialty" })
    );
    assert_eq!(view["transitions"].as_array().unwrap().len(), 2);
}

on_both_stores! {
    reasons_name_the_field => decline_reasons_are_checked_naming_the_field();
    seen_by_the_referrer_never_the_patient => the_referrer_sees_the_decline_reason_and_the_patient_never_does();
    retried_decline_answers_by_its_reason => a_retried_decline_answers_by_its_reason();
}
