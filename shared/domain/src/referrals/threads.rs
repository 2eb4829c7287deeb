//! The threads and system messages of a referral (B3–B6), in the thread model the Feed reads.
//!
//! Nothing here writes a thread or message item by hand: every thread and message is a
//! platform event (`thread.created`, `message.sent` with `sender_role: system`), validated by
//! the catalogue's own parser and landed by [`ingest_event`]. The events are a pure function
//! of the stored referral ([`events_for`]): their ids derive from the referral id and the step
//! (`evt.<referral id>.<step>`), their times are the transitions' times, their text comes from
//! the names the referral recorded. So [`deliver`] can run again after any failure (an
//! idempotent retry does) and lands each event once.
//!
//! Who sees what follows from which thread a message is in:
//!
//! | step | thread | seen by |
//! |---|---|---|
//! | asked (approval on) | referrer–patient | referrer, patient |
//! | patient accepted / declined | referrer–patient | referrer, patient |
//! | request reaches the specialist | practitioner pair | referrer, specialist |
//! | specialist accepted / declined | practitioner pair | referrer, specialist |
//! | approved referral (+ booking prompt) | new specialist–patient | specialist, patient |
//! | withdrawn / expired while with the specialist | practitioner pair | referrer, specialist |
//! | withdrawn / expired, approval on | referrer–patient | referrer, patient |
//!
//! The referrer's note (B10) follows the request in the practitioner pair thread as the
//! referrer's own message ([`note_message`]): the specialist reads it there; admins see that a
//! practitioner message was sent, never its body; the patient is not in that thread.
//!
//! The specialist's refusal is only ever in the practitioner pair thread: the patient sees
//! nothing of it, and no thread is created.

use super::model::{Referral, State};
use crate::events::ingest::{ingest_event, EventStatus};
use crate::events::parse_event;
use crate::ports::store::query_all;
use crate::ports::{Condition, Index, Item, Query, Store, StoreError};
use crate::readmodels::{keys as rm_keys, sort_time, ThreadSummary};
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Sender id of the system messages referrals post.
pub const SYSTEM_SENDER: &str = "system";

/// The id of the thread a new specialist–patient thread gets (one per accepted referral).
pub fn specialist_thread_id(referral_id: &str) -> String {
    format!("{referral_id}.thread")
}

/// The id the practitioner pair thread gets when referrals create it (the same for both orders
/// of the pair, so two referrals racing to create it create one thread).
pub fn new_pair_thread_id(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::digest(format!("{lo}\n{hi}").as_bytes());
    format!("pair-{}", &hex::encode(digest)[..32])
}

fn name_or(name: &Option<String>, id: &str) -> String {
    name.clone().unwrap_or_else(|| id.to_string())
}

fn thread_created(
    event_id: String,
    at: DateTime<Utc>,
    thread_id: &str,
    patients: &[&str],
    practitioners: &[&str],
) -> serde_json::Value {
    json!({
        "id": event_id,
        "type": "thread.created",
        "occurred_at": sort_time(at),
        "data": { "thread_id": thread_id, "patient_ids": patients, "practitioner_ids": practitioners },
    })
}

fn system_message(
    r: &Referral,
    step: &str,
    at: DateTime<Utc>,
    thread_id: &str,
    text: String,
) -> serde_json::Value {
    let sender = (SYSTEM_SENDER, "system", "system");
    message_sent(r, step, at, thread_id, sender, ("system_text", text))
}

/// The `message.sent` event of a referral's step: sender id, role and kind, and its body
/// field (`system_text` or `ciphertext`).
fn message_sent(
    r: &Referral,
    step: &str,
    at: DateTime<Utc>,
    thread_id: &str,
    (sender_id, sender_role, kind): (&str, &str, &str),
    (body_field, body): (&str, String),
) -> serde_json::Value {
    let mut event = json!({
        "id": format!("evt.{}.{step}", r.referral_id),
        "type": "message.sent",
        "occurred_at": sort_time(at),
        "data": {
            "thread_id": thread_id,
            "message_id": format!("{}.{step}", r.referral_id),
            "sender_id": sender_id,
            "sender_role": sender_role,
            "kind": kind,
        },
    });
    event["data"][body_field] = json!(body);
    event
}

/// B10: the referrer's note as their own message in the practitioner pair thread, where the
/// specialist reads it. A practitioner's message: its body travels as the message's opaque
/// `ciphertext` (the note's UTF-8, base64), which ingest stores and no admin answer ever
/// carries (A2); the patient is not in the pair thread. Its id sorts after the request's
/// (`<referral id>.request-note`), at the same time.
fn note_message(r: &Referral, at: DateTime<Utc>, thread_id: &str, text: &str) -> serde_json::Value {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let sender = (r.referrer_id.as_str(), "practitioner", "text");
    message_sent(
        r,
        "request-note",
        at,
        thread_id,
        sender,
        ("ciphertext", body),
    )
}

/// Every platform event the referral's history implies so far, in order.
pub fn events_for(r: &Referral) -> Vec<serde_json::Value> {
    let referrer = name_or(&r.names.referrer, &r.referrer_id);
    let specialist = name_or(&r.names.specialist, &r.specialist_id);
    let patient = name_or(&r.names.patient, &r.patient_id);
    let mut out = Vec::new();
    for t in &r.transitions {
        match (t.from, t.to) {
            (None, State::PendingPatient) => out.push(system_message(
                r,
                "asked",
                t.at,
                &r.patient_thread_id,
                format!(
                    "{referrer} proposes to refer you to {specialist}. Please accept or decline \
                     the referral."
                ),
            )),
            (Some(State::PendingPatient), State::PatientRejected) => out.push(system_message(
                r,
                "patient-declined",
                t.at,
                &r.patient_thread_id,
                format!("{patient} declined the referral to {specialist}."),
            )),
            (Some(State::PendingSpecialist), State::Accepted) => {
                if let Some(pair) = &r.pair_thread_id {
                    out.push(system_message(
                        r,
                        "accepted",
                        t.at,
                        pair,
                        format!("{specialist} accepted the referral of {patient}."),
                    ));
                }
                if let Some(thread) = &r.specialist_thread_id {
                    out.push(thread_created(
                        format!("evt.{}.thread", r.referral_id),
                        t.at,
                        thread,
                        &[&r.patient_id],
                        &[&r.specialist_id],
                    ));
                    let mut text = format!(
                        "Approved referral: {referrer} referred you to {specialist}, who \
                         accepted."
                    );
                    if let Some(url) = &r.booking_url {
                        text.push_str(&format!(
                            " Book an appointment from {specialist}'s profile and calendar: {url}"
                        ));
                    }
                    out.push(system_message(r, "approved", t.at, thread, text));
                }
            }
            (Some(State::PendingSpecialist), State::Rejected) => {
                if let Some(pair) = &r.pair_thread_id {
                    out.push(system_message(
                        r,
                        "declined",
                        t.at,
                        pair,
                        format!("{specialist} declined the referral of {patient}."),
                    ));
                }
            }
            (Some(from), to @ (State::Withdrawn | State::Expired)) => {
                let (step, what) = if to == State::Withdrawn {
                    ("withdrawn", format!("{referrer} withdrew the referral"))
                } else {
                    (
                        "expired",
                        "The referral expired without an answer".to_string(),
                    )
                };
                // The specialist hears of it where the request reached them.
                if let (State::PendingSpecialist, Some(pair)) = (from, &r.pair_thread_id) {
                    out.push(system_message(
                        r,
                        step,
                        t.at,
                        pair,
                        format!("{what}: {patient} to you."),
                    ));
                }
                // The patient hears of it when they were asked.
                if r.patient_approval {
                    out.push(system_message(
                        r,
                        &format!("{step}-patient"),
                        t.at,
                        &r.patient_thread_id,
                        format!("{what} to {specialist}."),
                    ));
                }
            }
            (from, State::PendingSpecialist) => {
                if from == Some(State::PendingPatient) {
                    out.push(system_message(
                        r,
                        "patient-accepted",
                        t.at,
                        &r.patient_thread_id,
                        format!("{patient} accepted the referral; it was sent to {specialist}."),
                    ));
                }
                if let Some(pair) = &r.pair_thread_id {
                    if r.pair_thread_new {
                        out.push(thread_created(
                            format!("evt.{pair}.created"),
                            t.at,
                            pair,
                            &[],
                            &[&r.referrer_id, &r.specialist_id],
                        ));
                    }
                    let note = if r.message.is_some() {
                        " The referring practitioner's note follows."
                    } else {
                        ""
                    };
                    out.push(system_message(
                        r,
                        "request",
                        t.at,
                        pair,
                        format!("Referral request: {referrer} refers {patient} to you.{note}"),
                    ));
                    if let Some(text) = &r.message {
                        out.push(note_message(r, t.at, pair, text));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Lands every event of [`events_for`] through ingest. An event already landed is a
/// duplicate; the pair thread's creation may have been landed by another referral of the same
/// pair at another time (same id, other content): that counts as landed too.
pub async fn deliver(
    store: &dyn Store,
    now: DateTime<Utc>,
    r: &Referral,
) -> Result<(), StoreError> {
    for raw in events_for(r) {
        let event = parse_event(&raw, now).map_err(|(_, rejection)| {
            StoreError::Invalid(format!(
                "referral event refused on {}: {}",
                rejection.field, rejection.reason
            ))
        })?;
        match ingest_event(store, now, &event).await? {
            EventStatus::Accepted | EventStatus::Duplicate => {}
            EventStatus::Rejected { field, .. } if field == "id" => {}
            EventStatus::Rejected { field, reason } => {
                return Err(StoreError::Invalid(format!(
                    "referral event refused on {field}: {reason}"
                )))
            }
        }
    }
    Ok(())
}

/// The thread ids a party takes part in (`PARTY#<id>` partition).
async fn threads_of(store: &dyn Store, party: &str) -> Result<BTreeSet<String>, StoreError> {
    let q = Query::partition(Index::Primary, format!("PARTY#{party}"))
        .range(crate::ports::SkRange::BeginsWith("THREAD#".into()));
    Ok(query_all(store, &q)
        .await?
        .into_iter()
        .filter_map(|i| i.sk.strip_prefix("THREAD#").map(str::to_string))
        .collect())
}

/// A thread the practitioner and the patient both take part in (B1: the referrer refers a
/// patient they have a thread with), the first by id.
pub async fn shared_thread(
    store: &dyn Store,
    practitioner: &str,
    patient: &str,
) -> Result<Option<String>, StoreError> {
    let mine = threads_of(store, practitioner).await?;
    let theirs = threads_of(store, patient).await?;
    Ok(mine.intersection(&theirs).next().cloned())
}

/// Most thread summaries looked at when searching an existing pair thread.
const MAX_PAIR_CANDIDATES: usize = 50;

/// The practitioner-to-practitioner thread of `a` and `b` (B4): the one referrals already use;
/// else an existing thread of exactly these two practitioners and no patient; else a new one.
/// The choice is claimed with a conditional put of the pair item, so two referrals racing
/// agree on one thread. Answers the thread id and whether referrals create it.
pub async fn pair_thread(
    store: &dyn Store,
    now: DateTime<Utc>,
    a: &str,
    b: &str,
) -> Result<(String, bool), StoreError> {
    let key = super::model::keys::pair(a, b);
    for _ in 0..3 {
        if let Some(item) = store.get(&key).await? {
            return decode_pair(&item);
        }
        let mut found = None;
        let common: Vec<String> = threads_of(store, a)
            .await?
            .intersection(&threads_of(store, b).await?)
            .take(MAX_PAIR_CANDIDATES)
            .cloned()
            .collect();
        for thread_id in common {
            if let Some(item) = store.get(&rm_keys::thread(&thread_id)).await? {
                let t: ThreadSummary = item.decode()?;
                let pair: BTreeSet<String> = [a.to_string(), b.to_string()].into();
                if t.patient_ids.is_empty() && t.practitioner_ids == pair {
                    found = Some(thread_id);
                    break;
                }
            }
        }
        let (thread_id, new) = match found {
            Some(t) => (t, false),
            None => (new_pair_thread_id(a, b), true),
        };
        let body = json!({ "thread_id": thread_id, "created_by_referrals": new, "at": now });
        match store
            .put(
                Item::new(key.pk.clone(), key.sk.clone(), body),
                Condition::NotExists,
            )
            .await
        {
            Ok(()) => return Ok((thread_id, new)),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

fn decode_pair(item: &Item) -> Result<(String, bool), StoreError> {
    let thread = item.body.get("thread_id").and_then(|v| v.as_str());
    let new = item
        .body
        .get("created_by_referrals")
        .and_then(|v| v.as_bool());
    match (thread, new) {
        (Some(t), Some(n)) => Ok((t.to_string(), n)),
        _ => Err(StoreError::Corrupt(format!("pair item {}", item.pk))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::model::tests::referral;

    fn ids(r: &Referral) -> Vec<(String, String)> {
        let now = r
            .transitions
            .iter()
            .map(|t| t.at)
            .max()
            .expect("a transition");
        events_for(r)
            .iter()
            .map(|e| {
                let event = parse_event(e, now).expect("every referral event is a valid event");
                (event.id.to_string(), event.body.type_name().to_string())
            })
            .collect()
    }

    #[test]
    fn each_path_implies_its_events_with_stable_ids() {
        let accepted = referral(true, &[State::PendingSpecialist, State::Accepted]);
        assert_eq!(
            ids(&accepted),
            vec![
                ("evt.ref-1.asked".to_string(), "message.sent".to_string()),
                ("evt.ref-1.patient-accepted".into(), "message.sent".into()),
                ("evt.pair-x.created".into(), "thread.created".into()),
                ("evt.ref-1.request".into(), "message.sent".into()),
                ("evt.ref-1.request-note".into(), "message.sent".into()),
                ("evt.ref-1.accepted".into(), "message.sent".into()),
                ("evt.ref-1.thread".into(), "thread.created".into()),
                ("evt.ref-1.approved".into(), "message.sent".into()),
            ]
        );
        assert_eq!(events_for(&accepted), events_for(&accepted.clone()));
        let declined = referral(true, &[State::PatientRejected]);
        assert_eq!(
            ids(&declined),
            vec![
                ("evt.ref-1.asked".to_string(), "message.sent".to_string()),
                ("evt.ref-1.patient-declined".into(), "message.sent".into()),
            ]
        );
        let rejected = referral(false, &[State::Rejected]);
        assert_eq!(
            ids(&rejected),
            vec![
                (
                    "evt.pair-x.created".to_string(),
                    "thread.created".to_string()
                ),
                ("evt.ref-1.request".into(), "message.sent".into()),
                ("evt.ref-1.request-note".into(), "message.sent".into()),
                ("evt.ref-1.declined".into(), "message.sent".into()),
            ]
        );
    }

    #[test]
    fn the_booking_prompt_is_in_the_approved_message_only_with_a_link() {
        let mut r = referral(false, &[State::Accepted]);
        let approved = |r: &Referral| {
            events_for(r)
                .into_iter()
                .find(|e| e["id"] == "evt.ref-1.approved")
                .map(|e| {
                    e["data"]["system_text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .unwrap_or_default()
        };
        assert!(approved(&r).contains("https://x/practitioners/prac_b"));
        r.booking_url = None;
        assert!(!approved(&r).contains("http"));
    }

    #[test]
    fn pair_thread_ids_are_one_per_pair_and_valid() {
        let id = new_pair_thread_id("prac_b", "prac_a");
        assert_eq!(id, new_pair_thread_id("prac_a", "prac_b"));
        assert_ne!(id, new_pair_thread_id("prac_a", "prac_c"));
        assert!(crate::events::types::Id::parse(&id).is_ok());
    }
}
