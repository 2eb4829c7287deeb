//! The tag rules of the Feed (SPEC A1) and of Consultations (SPEC A3), as pure functions of
//! what ingest keeps of a thread's history ([`ThreadSummary`]) and of a consultation.
//!
//! # Feed tags (one thread)
//! - **Conversation**: both sides have messaged (at least one patient message and at least one
//!   practitioner message, ever).
//! - **Waiting answer**: the newest patient message is newer than the newest practitioner
//!   message (or no practitioner has written). A practitioner reply at or after it clears it.
//! - **Not seen**: the newest patient message is newer than the last time a practitioner saw
//!   the thread, which is the later of their last opening and their last message (writing in a
//!   thread shows it). Opening it at or after the message clears it; so does a reply.
//!
//! Ties count in the practitioner's favour: a reply or opening at the very instant of the
//! patient's message clears the tag. System messages never set or clear a tag.
//!
//! # Consultation tags (one consultation, started at `S` by its payment)
//! A consultation's tags describe what has happened in its thread since it began, so every
//! rule below looks only at events at or after `S`; several tags can hold at once.
//! - **Cancelled**: the consultation was cancelled (by anyone, at any time).
//! - **Conversation**: since `S`, both a patient and a practitioner message.
//! - **Waiting answer**: since `S`, a patient message newer than any practitioner message
//!   since `S` (same reply rule as the Feed).
//! - **Diagnosis**, **Medical advice**, **Prescription**, **Recommendation for in-person
//!   visit**: a clinical note of that type since `S`.
//! - **Concluded**: a diagnosis, medical advice or prescription since `S` (an in-person
//!   recommendation alone does not conclude).
//! - **Request** / **Rejected**: the state of the newest payment request sent since `S` (the
//!   request that opened the consultation was sent before `S`): awaiting the patient →
//!   Request; rejected → Rejected; accepted → neither (it opens a consultation of its own).
//!   So a rejected request re-sent turns Rejected into Request, and its rejection back.
//!
//! A consultation with no start yet (its cancellation arrived before its payment) has only
//! Cancelled, if cancelled.

use crate::events::types::{NoteType, RequestAnswer};
use crate::readmodels::{Consultation, ThreadSummary};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A Feed tag (SPEC A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedTag {
    Conversation,
    NotSeen,
    WaitingAnswer,
}

impl FeedTag {
    pub const ALL: [FeedTag; 3] = [
        FeedTag::Conversation,
        FeedTag::NotSeen,
        FeedTag::WaitingAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedTag::Conversation => "conversation",
            FeedTag::NotSeen => "not_seen",
            FeedTag::WaitingAnswer => "waiting_answer",
        }
    }

    pub fn parse(text: &str) -> Option<FeedTag> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// A consultation tag (SPEC A3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationTag {
    Cancelled,
    Conversation,
    Concluded,
    Diagnosis,
    MedicalAdvice,
    Prescription,
    InPersonVisit,
    Rejected,
    Request,
    WaitingAnswer,
}

impl ConsultationTag {
    pub const ALL: [ConsultationTag; 10] = [
        ConsultationTag::Cancelled,
        ConsultationTag::Conversation,
        ConsultationTag::Concluded,
        ConsultationTag::Diagnosis,
        ConsultationTag::MedicalAdvice,
        ConsultationTag::Prescription,
        ConsultationTag::InPersonVisit,
        ConsultationTag::Rejected,
        ConsultationTag::Request,
        ConsultationTag::WaitingAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationTag::Cancelled => "cancelled",
            ConsultationTag::Conversation => "conversation",
            ConsultationTag::Concluded => "concluded",
            ConsultationTag::Diagnosis => "diagnosis",
            ConsultationTag::MedicalAdvice => "medical_advice",
            ConsultationTag::Prescription => "prescription",
            ConsultationTag::InPersonVisit => "in_person_visit",
            ConsultationTag::Rejected => "rejected",
            ConsultationTag::Request => "request",
            ConsultationTag::WaitingAnswer => "waiting_answer",
        }
    }

    pub fn parse(text: &str) -> Option<ConsultationTag> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Whether `patient` (the newest patient message) is still unanswered by `practitioner`.
fn after(patient: Option<DateTime<Utc>>, practitioner: Option<DateTime<Utc>>) -> bool {
    match (patient, practitioner) {
        (Some(p), Some(r)) => p > r,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The Feed tags of a thread (rules in the module header).
pub fn feed_tags(t: &ThreadSummary) -> BTreeSet<FeedTag> {
    let mut tags = BTreeSet::new();
    if t.first_patient_message_at.is_some() && t.first_practitioner_message_at.is_some() {
        tags.insert(FeedTag::Conversation);
    }
    if after(t.last_patient_message_at, t.last_practitioner_message_at) {
        tags.insert(FeedTag::WaitingAnswer);
    }
    let seen = t.practitioner_opened_at.max(t.last_practitioner_message_at);
    if after(t.last_patient_message_at, seen) {
        tags.insert(FeedTag::NotSeen);
    }
    tags
}

/// The tags of a consultation, from its own record and its thread's (rules in the module
/// header). `thread` is the summary of `c.thread_id` (a default one when unknown).
pub fn consultation_tags(c: &Consultation, thread: &ThreadSummary) -> BTreeSet<ConsultationTag> {
    use ConsultationTag as T;
    let mut tags = BTreeSet::new();
    if c.cancelled_at.is_some() {
        tags.insert(T::Cancelled);
    }
    let Some(start) = c.started_at else {
        return tags;
    };
    let since = |t: Option<DateTime<Utc>>| t.filter(|t| *t >= start);
    let patient = since(thread.last_patient_message_at);
    let practitioner = since(thread.last_practitioner_message_at);
    if patient.is_some() && practitioner.is_some() {
        tags.insert(T::Conversation);
    }
    if after(patient, practitioner) {
        tags.insert(T::WaitingAnswer);
    }
    for (note, tag) in [
        (NoteType::Diagnosis, T::Diagnosis),
        (NoteType::MedicalAdvice, T::MedicalAdvice),
        (NoteType::Prescription, T::Prescription),
        (NoteType::InPersonRecommendation, T::InPersonVisit),
    ] {
        if since(thread.last_notes.get(&note).copied()).is_some() {
            tags.insert(tag);
            if note != NoteType::InPersonRecommendation {
                tags.insert(T::Concluded);
            }
        }
    }
    let newest = thread
        .requests
        .iter()
        .filter_map(|(id, r)| r.sent_at.filter(|t| *t >= start).map(|t| (t, id, r)))
        .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    if let Some((_, _, r)) = newest {
        match r.answer {
            None => {
                tags.insert(T::Request);
            }
            Some(RequestAnswer::Rejected) => {
                tags.insert(T::Rejected);
            }
            Some(RequestAnswer::Accepted) => {}
        }
    }
    tags
}
