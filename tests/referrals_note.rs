//! The referrer's note in the practitioner pair thread (SPEC B10), through the function
//! handlers, on both store adapters: once the request reaches the specialist, the note is the
//! referrer's own message in the pair thread, right after the request; the admin thread details
//! show that a practitioner message was sent, never its body (A2); the patient, not in that
//! thread, never has it; delivered again, it lands once. The world and its helpers are
//! `tests/referrals.rs`'s.

#![allow(clippy::unwrap_used)]

use crate::referrals::{
    embedded, moto, msg, on_both_stores, pair, seen, the_patient, who, world, World,
};
use domain::auth::Role;
use domain::ports::{Clock, Store};
use domain::referrals::delivery::settle_pending;
use domain::referrals::model::{keys, Referral};
use domain::referrals::threads::deliver;
use serde_json::json;
use std::sync::Arc;

const NOTE: &str = "Echo please — palpitations since June.";
/// [`NOTE`]'s UTF-8 in base64, as the message's ciphertext carries it.
const NOTE_BASE64: &str = "RWNobyBwbGVhc2Ug4oCUIHBhbHBpdGF0aW9ucyBzaW5jZSBKdW5lLg==";

impl World {
    /// The admin's thread details of `thread` (A2).
    async fn admin_thread(&self, thread: &str) -> serde_json::Value {
        let admin = who("adm", Role::PlatformAdmin);
        let (status, details) = self
            .call(
                Some(&admin),
                "GET",
                &format!("/admin/threads/{thread}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{details}");
        details
    }
}

/// B10, approval on: nothing before the patient's approval; then the request and the note, in
/// that order, in the pair thread; the note's body only in its ciphertext.
async fn the_note_follows_the_request_in_the_pair_thread(store: Arc<dyn Store>) {
    let w = world(store, true, true).await;
    let rid = w.create("pat_1", "prac_spec", Some(NOTE)).await;
    assert!(w.messages(&pair()).await.is_empty());
    let (status, _) = w.decide(&the_patient(), &rid, "patient", "accept").await;
    assert_eq!(status, 200);

    let messages = w.messages(&pair()).await;
    let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, vec![msg(&rid, "request"), msg(&rid, "request-note")]);
    let note = &messages[1];
    assert_eq!(note.sender_id, "prac_ref");
    assert_eq!(
        serde_json::to_value(note.sender_role).unwrap(),
        json!("practitioner")
    );
    assert_eq!(serde_json::to_value(note.kind).unwrap(), json!("text"));
    assert_eq!(note.system_text, None);
    assert_eq!(note.ciphertext.as_deref(), Some(NOTE_BASE64));
    assert_eq!(
        w.text_of(&pair(), &msg(&rid, "request")).await,
        "Referral request: Dr. Ana Referrer refers Zoë Patient to you. The referring \
         practitioner's note follows."
    );
    assert!(w
        .seen_by("prac_spec")
        .await
        .contains(&(pair(), msg(&rid, "request-note"))));
    assert!(!w
        .seen_by("pat_1")
        .await
        .iter()
        .any(|(_, m)| m.ends_with("request-note")));

    // The admin sees a practitioner's message, never its body.
    let details = w.admin_thread(&pair()).await;
    let shown = details["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == msg(&rid, "request-note"))
        .cloned()
        .unwrap_or_else(|| panic!("{details}"));
    assert_eq!(shown["sender_role"], "practitioner");
    assert_eq!(shown["kind"], "text");
    assert!(shown.get("text").is_none_or(|t| t.is_null()), "{shown}");
    let text = details.to_string();
    assert!(
        !text.contains("palpitations") && !text.contains(NOTE_BASE64),
        "{text}"
    );

    // Delivered again (a retry, the worker): still one note.
    let now = w.clock.now();
    settle_pending(w.store(), now, &rid).await.unwrap();
    let stored: Referral = w
        .store()
        .get(&keys::referral(&rid))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    deliver(w.store(), now, &stored).await.unwrap();
    assert_eq!(w.messages(&pair()).await.len(), 2);
}

/// B10: without a note, the request alone; its text says nothing of a note.
async fn no_note_no_message(store: Arc<dyn Store>) {
    let w = world(store, false, true).await;
    let rid = w.create("pat_1", "prac_spec", None).await;
    assert_eq!(
        w.seen_by("prac_spec").await,
        seen(&[(&pair(), msg(&rid, "request"))])
    );
    assert_eq!(
        w.text_of(&pair(), &msg(&rid, "request")).await,
        "Referral request: Dr. Ana Referrer refers Zoë Patient to you."
    );
}

on_both_stores! {
    note_follows_the_request => the_note_follows_the_request_in_the_pair_thread();
    no_note_without_one => no_note_no_message();
}
