//! Messaging: threads, their messages and clinical notes, and the thread summary the Feed and
//! the consultation tags read.

use super::effects::{ik, merge, no_index, s, Effect, Indexes};
use crate::events::catalogue::{ClinicalNoteSent, MessageSent, ThreadCreated, ThreadOpened};
use crate::events::types::{DevicePlatform, PartyRole};
use crate::ports::Key;
use crate::readmodels::{self as rm, keys, lists, max_time, min_time, sort_time};
use chrono::{DateTime, Utc};

/// `thread.created`: the summary, and a link from each party to the thread.
pub(super) fn created(e: &ThreadCreated, at: DateTime<Utc>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for party in e.patient_ids.iter().chain(&e.practitioner_ids) {
        let thread_id = s(&e.thread_id);
        effects.push(merge(
            keys::party_thread(party.as_str(), e.thread_id.as_str()),
            move |v: &mut serde_json::Value| {
                *v = serde_json::json!({ "thread_id": thread_id });
            },
            no_index,
        ));
    }
    let e = e.clone();
    effects.push(merge(
        keys::thread(e.thread_id.as_str()),
        move |t: &mut rm::ThreadSummary| {
            t.thread_id = s(&e.thread_id);
            t.patient_ids.extend(e.patient_ids.iter().map(s));
            t.practitioner_ids.extend(e.practitioner_ids.iter().map(s));
            t.created_at = min_time(t.created_at, at);
        },
        thread_index,
    ));
    effects
}

/// `message.sent`: the message, and the summary's message times, count and devices.
pub(super) fn message_sent(e: &MessageSent, at: DateTime<Utc>) -> Vec<Effect> {
    let summary = e.clone();
    let msg = e.clone();
    let sort = format!("MSG#{}#{}", sort_time(at), e.message_id);
    vec![
        merge(
            keys::thread(e.thread_id.as_str()),
            move |t: &mut rm::ThreadSummary| {
                t.thread_id = s(&summary.thread_id);
                t.last_message_at = max_time(t.last_message_at, at);
                t.message_count += 1;
                match summary.sender_role {
                    PartyRole::Patient => {
                        t.patient_ids.insert(s(&summary.sender_id));
                        t.first_patient_message_at = min_time(t.first_patient_message_at, at);
                        t.last_patient_message_at = max_time(t.last_patient_message_at, at);
                        t.patient_wrote(at);
                    }
                    PartyRole::Practitioner => {
                        t.practitioner_ids.insert(s(&summary.sender_id));
                        t.first_practitioner_message_at =
                            min_time(t.first_practitioner_message_at, at);
                        t.last_practitioner_message_at =
                            max_time(t.last_practitioner_message_at, at);
                        t.settle_wait();
                    }
                    PartyRole::System => {}
                }
                if let Some(d) = &summary.device {
                    let name = match &d.model {
                        Some(m) => format!("{}/{}", platform_name(d.platform), m.as_str()),
                        None => platform_name(d.platform).to_string(),
                    };
                    t.devices
                        .entry(s(&summary.sender_id))
                        .or_default()
                        .insert(name);
                }
            },
            thread_index,
        ),
        merge(
            Key::new(keys::thread_pk(e.thread_id.as_str()), sort),
            move |m: &mut rm::StoredMessage| {
                *m = rm::StoredMessage {
                    message_id: s(&msg.message_id),
                    thread_id: s(&msg.thread_id),
                    sender_id: s(&msg.sender_id),
                    sender_role: Some(msg.sender_role),
                    kind: Some(msg.kind),
                    device: msg.device.clone(),
                    sent_at: Some(at),
                    system_text: msg.system_text.as_ref().map(|t| t.as_str().to_string()),
                    ciphertext: msg.ciphertext.clone(),
                };
            },
            no_index,
        ),
    ]
}

/// `thread.opened`: the newest opening by each side, on the summary.
pub(super) fn opened(e: &ThreadOpened, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::thread(e.thread_id.as_str()),
        move |t: &mut rm::ThreadSummary| {
            t.thread_id = s(&e.thread_id);
            match e.reader_role {
                PartyRole::Practitioner => {
                    t.practitioner_ids.insert(s(&e.reader_id));
                    t.practitioner_opened_at = max_time(t.practitioner_opened_at, at);
                }
                PartyRole::Patient => {
                    t.patient_ids.insert(s(&e.reader_id));
                    t.patient_opened_at = max_time(t.patient_opened_at, at);
                }
                PartyRole::System => {}
            }
        },
        thread_index,
    )]
}

/// `clinical_note.sent`: the note, and the newest note of its type on the summary.
pub(super) fn note_sent(e: &ClinicalNoteSent, at: DateTime<Utc>) -> Vec<Effect> {
    let note = rm::ClinicalNote {
        note_id: s(&e.note_id),
        thread_id: s(&e.thread_id),
        practitioner_id: s(&e.practitioner_id),
        note_type: e.note_type,
        sent_at: at,
    };
    let thread_id = s(&e.thread_id);
    let note_type = e.note_type;
    vec![
        merge(
            Key::new(
                keys::thread_pk(e.thread_id.as_str()),
                format!("NOTE#{}#{}", sort_time(at), e.note_id),
            ),
            move |n: &mut Option<rm::ClinicalNote>| *n = Some(note.clone()),
            no_index,
        ),
        merge(
            keys::thread(e.thread_id.as_str()),
            move |t: &mut rm::ThreadSummary| {
                t.thread_id = thread_id.clone();
                let last = t.last_notes.get(&note_type).copied();
                if let Some(newest) = max_time(last, at) {
                    t.last_notes.insert(note_type, newest);
                }
            },
            thread_index,
        ),
    ]
}

/// The Feed: every thread by last activity (A1); and on `gsi2` either the practitioner pair
/// threads by last activity (A13) or the patient threads waiting answer by the start of their
/// wait (A11) — a pair thread has no patient, so never waits.
pub(super) fn thread_index(t: &rm::ThreadSummary) -> Indexes {
    let Some(at) = t.activity_at() else {
        return (None, None);
    };
    let sk = format!("{}#{}", sort_time(at), t.thread_id);
    let second = match (t.kind(), t.waiting_since) {
        (rm::ThreadKind::PractitionerPractitioner, _) => {
            ik(lists::feed_by_kind(t.kind()), sk.clone())
        }
        (rm::ThreadKind::PatientPractitioner, Some(since)) => ik(
            lists::WAITING,
            format!("{}#{}", sort_time(since), t.thread_id),
        ),
        (rm::ThreadKind::PatientPractitioner, None) => None,
    };
    (ik(lists::FEED, sk), second)
}

fn platform_name(p: DevicePlatform) -> &'static str {
    match p {
        DevicePlatform::Ios => "ios",
        DevicePlatform::Android => "android",
        DevicePlatform::Web => "web",
    }
}
