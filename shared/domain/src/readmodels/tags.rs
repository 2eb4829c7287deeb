//! The tag rules of the Feed (SPEC A1) and of Consultations (SPEC A3), as pure functions of
//! what ingest keeps of a thread's history ([`ThreadSummary`]) and of a consultation. They sit
//! with the read models because ingest applies them: it derives a consultation's tags as it
//! writes the consultation (and counts them per day); the Feed derives a thread's at read time.
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

use super::{Consultation, ThreadSummary};
use crate::events::types::{NoteType, RequestAnswer};
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::readmodels::RequestState;
    use ConsultationTag as C;
    use FeedTag as F;

    /// 2026-03-02T09:00Z plus `m` minutes.
    fn t(m: i64) -> Option<DateTime<Utc>> {
        Some(
            "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(m),
        )
    }

    fn thread(patient: &[i64], practitioner: &[i64], opened: Option<i64>) -> ThreadSummary {
        ThreadSummary {
            first_patient_message_at: patient.iter().min().and_then(|m| t(*m)),
            last_patient_message_at: patient.iter().max().and_then(|m| t(*m)),
            first_practitioner_message_at: practitioner.iter().min().and_then(|m| t(*m)),
            last_practitioner_message_at: practitioner.iter().max().and_then(|m| t(*m)),
            practitioner_opened_at: opened.and_then(t),
            ..ThreadSummary::default()
        }
    }

    fn set<T: Ord + Copy>(tags: &[T]) -> BTreeSet<T> {
        tags.iter().copied().collect()
    }

    #[test]
    fn feed_each_tag_alone_and_together() {
        assert_eq!(feed_tags(&thread(&[], &[], None)), set(&[]));
        // A patient message nobody opened or answered: waiting and not seen.
        assert_eq!(
            feed_tags(&thread(&[1], &[], None)),
            set(&[F::NotSeen, F::WaitingAnswer])
        );
        // Opened, not answered: waiting only.
        assert_eq!(
            feed_tags(&thread(&[1], &[], Some(2))),
            set(&[F::WaitingAnswer])
        );
        // A practitioner wrote first, the patient has not: nothing but... no conversation.
        assert_eq!(feed_tags(&thread(&[], &[1], None)), set(&[]));
        // Both wrote, the practitioner last: conversation only.
        assert_eq!(
            feed_tags(&thread(&[1], &[2], None)),
            set(&[F::Conversation])
        );
        // All three.
        assert_eq!(
            feed_tags(&thread(&[1, 3], &[2], Some(2))),
            set(&[F::Conversation, F::NotSeen, F::WaitingAnswer])
        );
    }

    #[test]
    fn feed_transitions_and_ties() {
        // A practitioner reply clears Waiting answer (and Not seen: writing shows the thread).
        let before = thread(&[1], &[], None);
        let after = thread(&[1], &[5], None);
        assert!(feed_tags(&before).contains(&F::WaitingAnswer));
        assert_eq!(feed_tags(&after), set(&[F::Conversation]));
        // Opening clears Not seen only.
        assert_eq!(
            feed_tags(&thread(&[1], &[], Some(1))),
            set(&[F::WaitingAnswer])
        );
        // Opened a minute before the message: still not seen.
        assert_eq!(
            feed_tags(&thread(&[1], &[], Some(0))),
            set(&[F::NotSeen, F::WaitingAnswer])
        );
        // A reply at the same instant as the patient's message counts as an answer.
        assert_eq!(
            feed_tags(&thread(&[1], &[1], None)),
            set(&[F::Conversation])
        );
        // A new patient message after the reply sets both again.
        assert_eq!(
            feed_tags(&thread(&[1, 6], &[5], None)),
            set(&[F::Conversation, F::NotSeen, F::WaitingAnswer])
        );
    }

    fn consultation(start: i64, cancelled: Option<i64>) -> Consultation {
        Consultation {
            consultation_id: "c1".into(),
            started_at: t(start),
            cancelled_at: cancelled.and_then(t),
            ..Consultation::default()
        }
    }

    fn with_notes(mut th: ThreadSummary, notes: &[(NoteType, i64)]) -> ThreadSummary {
        for (n, m) in notes {
            th.last_notes.insert(*n, t(*m).unwrap());
        }
        th
    }

    fn with_requests(
        mut th: ThreadSummary,
        reqs: &[(&str, i64, Option<RequestAnswer>)],
    ) -> ThreadSummary {
        for (id, sent, answer) in reqs {
            th.requests.insert(
                id.to_string(),
                RequestState {
                    sent_at: t(*sent),
                    answer: *answer,
                    answered_at: answer.and(t(*sent + 1)),
                },
            );
        }
        th
    }

    #[test]
    fn consultation_each_tag_alone() {
        let c = consultation(10, None);
        let empty = ThreadSummary::default();
        assert_eq!(consultation_tags(&c, &empty), set(&[]));
        assert_eq!(
            consultation_tags(&consultation(10, Some(20)), &empty),
            set(&[C::Cancelled])
        );
        assert_eq!(
            consultation_tags(&c, &thread(&[11], &[12], Some(12))),
            set(&[C::Conversation])
        );
        assert_eq!(
            consultation_tags(&c, &thread(&[11], &[], None)),
            set(&[C::WaitingAnswer])
        );
        for (note, tag) in [
            (NoteType::Diagnosis, C::Diagnosis),
            (NoteType::MedicalAdvice, C::MedicalAdvice),
            (NoteType::Prescription, C::Prescription),
        ] {
            assert_eq!(
                consultation_tags(&c, &with_notes(empty.clone(), &[(note, 15)])),
                set(&[tag, C::Concluded])
            );
        }
        assert_eq!(
            consultation_tags(
                &c,
                &with_notes(empty.clone(), &[(NoteType::InPersonRecommendation, 15)])
            ),
            set(&[C::InPersonVisit])
        );
        assert_eq!(
            consultation_tags(&c, &with_requests(empty.clone(), &[("r2", 15, None)])),
            set(&[C::Request])
        );
        assert_eq!(
            consultation_tags(
                &c,
                &with_requests(empty.clone(), &[("r2", 15, Some(RequestAnswer::Rejected))])
            ),
            set(&[C::Rejected])
        );
        // An accepted further request opens its own consultation: no tag here.
        assert_eq!(
            consultation_tags(
                &c,
                &with_requests(empty, &[("r2", 15, Some(RequestAnswer::Accepted))])
            ),
            set(&[])
        );
    }

    #[test]
    fn consultation_history_before_the_start_does_not_count() {
        let c = consultation(10, None);
        let th = with_requests(
            with_notes(thread(&[1], &[2], Some(2)), &[(NoteType::Diagnosis, 9)]),
            // The request that opened the consultation, accepted before the start.
            &[("r1", 5, Some(RequestAnswer::Accepted)), ("r0", 3, None)],
        );
        assert_eq!(consultation_tags(&c, &th), set(&[]));
        // A note exactly at the start counts.
        let th = with_notes(ThreadSummary::default(), &[(NoteType::Prescription, 10)]);
        assert_eq!(
            consultation_tags(&c, &th),
            set(&[C::Prescription, C::Concluded])
        );
        // No start (the cancellation came first): only Cancelled.
        let mut early = consultation(10, Some(12));
        early.started_at = None;
        assert_eq!(
            consultation_tags(&early, &thread(&[11], &[], None)),
            set(&[C::Cancelled])
        );
    }

    #[test]
    fn consultation_transitions_and_tags_together() {
        let c = consultation(10, None);
        // A practitioner reply clears Waiting answer and makes a Conversation.
        assert_eq!(
            consultation_tags(&c, &thread(&[11], &[], None)),
            set(&[C::WaitingAnswer])
        );
        assert_eq!(
            consultation_tags(&c, &thread(&[11], &[12], None)),
            set(&[C::Conversation])
        );
        // A rejected request, then re-sent: Rejected becomes Request.
        let rejected = with_requests(
            ThreadSummary::default(),
            &[("r2", 15, Some(RequestAnswer::Rejected))],
        );
        assert_eq!(consultation_tags(&c, &rejected), set(&[C::Rejected]));
        let resent = with_requests(rejected, &[("r3", 20, None)]);
        assert_eq!(consultation_tags(&c, &resent), set(&[C::Request]));
        // A cancellation after a diagnosis keeps both.
        let diagnosed = with_notes(ThreadSummary::default(), &[(NoteType::Diagnosis, 15)]);
        assert_eq!(
            consultation_tags(&consultation(10, Some(30)), &diagnosed),
            set(&[C::Cancelled, C::Diagnosis, C::Concluded])
        );
        // Everything at once.
        let all = with_requests(
            with_notes(
                thread(&[11, 40], &[12], None),
                &[
                    (NoteType::Diagnosis, 13),
                    (NoteType::MedicalAdvice, 14),
                    (NoteType::Prescription, 15),
                    (NoteType::InPersonRecommendation, 16),
                ],
            ),
            &[("r2", 17, None)],
        );
        assert_eq!(
            consultation_tags(&consultation(10, Some(50)), &all),
            set(&[
                C::Cancelled,
                C::Conversation,
                C::Concluded,
                C::Diagnosis,
                C::MedicalAdvice,
                C::Prescription,
                C::InPersonVisit,
                C::Request,
                C::WaitingAnswer,
            ])
        );
        // Names round-trip.
        for tag in ConsultationTag::ALL {
            assert_eq!(ConsultationTag::parse(tag.as_str()), Some(tag));
        }
        for tag in FeedTag::ALL {
            assert_eq!(FeedTag::parse(tag.as_str()), Some(tag));
        }
    }
}
