//! Threads: the summary the Feed and the tag rules read, its Feed view, the messages and
//! the clinical notes.

use super::Names;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the Feed and the tag rules read of a thread (SPEC A1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThreadSummary {
    pub thread_id: String,
    pub patient_ids: BTreeSet<String>,
    pub practitioner_ids: BTreeSet<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub first_patient_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub last_patient_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub first_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub last_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    /// The newest time any practitioner of the thread opened it.
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub practitioner_opened_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub patient_opened_at: Option<DateTime<Utc>>,
    pub message_count: u64,
    /// Devices each participant sent from (`platform` or `platform/model`).
    pub devices: BTreeMap<String, BTreeSet<String>>,
    /// The newest clinical note of each type (consultation tags, A3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub last_notes: BTreeMap<NoteType, DateTime<Utc>>,
    /// Every payment request of the thread, by request id (consultation tags, A3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, RequestState>,
    /// The participants' names (Feed, thread details).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
    /// Since when a patient has waited for an answer (A11): the first patient message newer
    /// than the newest practitioner message, while the thread is waiting answer.
    #[serde(
        default,
        deserialize_with = "crate::time::de_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub waiting_since: Option<DateTime<Utc>>,
    /// The earliest [`MAX_UNANSWERED`] patient messages newer than the newest practitioner
    /// message: what `waiting_since` becomes when a practitioner message arrives late.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub unanswered: BTreeSet<DateTime<Utc>>,
}

/// Patient message times a summary keeps to find the start of a wait when a reply arrives
/// out of order (beyond them, the wait starts at the newest patient message).
pub const MAX_UNANSWERED: usize = 16;

/// What the consultation tags read of one payment request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestState {
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub answer: Option<RequestAnswer>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub answered_at: Option<DateTime<Utc>>,
}

/// What the Feed reads of a [`ThreadSummary`] item: everything but the devices, the clinical
/// notes and the payment requests, which serde skips without building them (the Feed decodes
/// one summary per row, and building those maps would be a third of its allocations).
/// [`ThreadSummary::from`] fills the rest with their defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ThreadFeedView {
    pub thread_id: String,
    pub patient_ids: BTreeSet<String>,
    pub practitioner_ids: BTreeSet<String>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub first_patient_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub last_patient_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub first_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub last_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub practitioner_opened_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub patient_opened_at: Option<DateTime<Utc>>,
    pub message_count: u64,
    pub names: Names,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub waiting_since: Option<DateTime<Utc>>,
}

impl From<ThreadFeedView> for ThreadSummary {
    fn from(v: ThreadFeedView) -> Self {
        ThreadSummary {
            thread_id: v.thread_id,
            patient_ids: v.patient_ids,
            practitioner_ids: v.practitioner_ids,
            created_at: v.created_at,
            first_patient_message_at: v.first_patient_message_at,
            last_patient_message_at: v.last_patient_message_at,
            first_practitioner_message_at: v.first_practitioner_message_at,
            last_practitioner_message_at: v.last_practitioner_message_at,
            last_message_at: v.last_message_at,
            practitioner_opened_at: v.practitioner_opened_at,
            patient_opened_at: v.patient_opened_at,
            message_count: v.message_count,
            names: v.names,
            waiting_since: v.waiting_since,
            unanswered: BTreeSet::new(),
            devices: BTreeMap::new(),
            last_notes: BTreeMap::new(),
            requests: BTreeMap::new(),
        }
    }
}

impl ThreadSummary {
    /// When the thread last saw activity (its Feed order).
    pub fn activity_at(&self) -> Option<DateTime<Utc>> {
        self.last_message_at.or(self.created_at)
    }

    /// Records a patient message at `at` and settles the wait (A11).
    pub fn patient_wrote(&mut self, at: DateTime<Utc>) {
        self.unanswered.insert(at);
        self.settle_wait();
    }

    /// Settles the wait after the message times moved: the patient messages a practitioner
    /// message at or after answered leave, and the wait starts at the earliest left (ties
    /// count for the practitioner, as the Waiting answer tag does).
    pub fn settle_wait(&mut self) {
        let reply = self.last_practitioner_message_at;
        self.unanswered.retain(|m| reply.is_none_or(|r| *m > r));
        while self.unanswered.len() > MAX_UNANSWERED {
            self.unanswered.pop_last();
        }
        let waiting = match (self.last_patient_message_at, reply) {
            (Some(p), Some(r)) => p > r,
            (Some(_), None) => true,
            (None, _) => false,
        };
        self.waiting_since = if waiting {
            self.unanswered
                .first()
                .copied()
                .or(self.last_patient_message_at)
        } else {
            None
        };
    }

    /// The thread's kind (SPEC A13): practitioner–practitioner when it has practitioners and
    /// no patient (a referral pair thread), else patient–practitioner. Derived from the
    /// participants known so far: a thread known only by a practitioner's message is
    /// practitioner–practitioner until its `thread.created` or a patient's message names a
    /// patient; one with no participant known yet is patient–practitioner.
    pub fn kind(&self) -> ThreadKind {
        if self.patient_ids.is_empty() && !self.practitioner_ids.is_empty() {
            ThreadKind::PractitionerPractitioner
        } else {
            ThreadKind::PatientPractitioner
        }
    }
}

/// Who a thread is between (SPEC A13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKind {
    /// A patient and their practitioners.
    PatientPractitioner,
    /// Practitioners only: the referral pair threads.
    PractitionerPractitioner,
}

impl ThreadKind {
    pub const ALL: [ThreadKind; 2] = [
        ThreadKind::PatientPractitioner,
        ThreadKind::PractitionerPractitioner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ThreadKind::PatientPractitioner => "patient_practitioner",
            ThreadKind::PractitionerPractitioner => "practitioner_practitioner",
        }
    }

    pub fn parse(s: &str) -> Option<ThreadKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One message. Participant messages keep only the opaque ciphertext, which no admin
/// response ever carries (SPEC A2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredMessage {
    pub message_id: String,
    pub thread_id: String,
    pub sender_id: String,
    pub sender_role: Option<PartyRole>,
    pub kind: Option<MessageKind>,
    pub device: Option<Device>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub system_text: Option<String>,
    pub ciphertext: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClinicalNote {
    pub note_id: String,
    pub thread_id: String,
    pub practitioner_id: String,
    pub note_type: NoteType,
    #[serde(deserialize_with = "crate::time::de")]
    pub sent_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wait starts at the first unanswered patient message, whatever order the messages
    /// arrive in; a reply at or after the newest patient message ends it.
    #[test]
    fn the_wait_starts_at_the_first_unanswered_patient_message() {
        let t = |m: i64| {
            "2026-11-01T08:00:00Z".parse::<DateTime<Utc>>().expect("v")
                + chrono::Duration::minutes(m)
        };
        let patient = |s: &mut ThreadSummary, m: i64| {
            s.last_patient_message_at = s.last_patient_message_at.max(Some(t(m)));
            s.patient_wrote(t(m));
        };
        let practitioner = |s: &mut ThreadSummary, m: i64| {
            s.last_practitioner_message_at = s.last_practitioner_message_at.max(Some(t(m)));
            s.settle_wait();
        };
        let mut s = ThreadSummary::default();
        patient(&mut s, 1);
        patient(&mut s, 5);
        assert_eq!(s.waiting_since, Some(t(1)));
        // A reply between them arrives late: the wait starts at the message after it.
        practitioner(&mut s, 3);
        assert_eq!(s.waiting_since, Some(t(5)));
        // A reply at the very instant of the newest patient message ends the wait.
        practitioner(&mut s, 5);
        assert_eq!(s.waiting_since, None);
        assert!(s.unanswered.is_empty());
        patient(&mut s, 9);
        assert_eq!(s.waiting_since, Some(t(9)));
        // Past the kept messages, a late reply starts the wait at the newest patient message.
        let mut s = ThreadSummary::default();
        for m in 10..(10 + MAX_UNANSWERED as i64 + 4) {
            patient(&mut s, m);
        }
        assert_eq!(s.unanswered.len(), MAX_UNANSWERED);
        practitioner(&mut s, 10 + MAX_UNANSWERED as i64);
        assert_eq!(s.waiting_since, Some(t(10 + MAX_UNANSWERED as i64 + 3)));
    }

    /// A thread without a patient but with practitioners is a practitioner pair's; any
    /// patient, or no participant known yet, makes it a patient thread.
    #[test]
    fn a_thread_without_a_patient_is_practitioner_practitioner() {
        let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        let kind = |patients: &[&str], practitioners: &[&str]| {
            ThreadSummary {
                patient_ids: ids(patients),
                practitioner_ids: ids(practitioners),
                ..ThreadSummary::default()
            }
            .kind()
        };
        assert_eq!(
            kind(&[], &["pr-1", "pr-2"]),
            ThreadKind::PractitionerPractitioner
        );
        assert_eq!(kind(&["pat-1"], &["pr-1"]), ThreadKind::PatientPractitioner);
        assert_eq!(kind(&["pat-1"], &[]), ThreadKind::PatientPractitioner);
        assert_eq!(kind(&[], &[]), ThreadKind::PatientPractitioner);
        for k in ThreadKind::ALL {
            assert_eq!(ThreadKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).expect("test value"), k.as_str());
        }
        assert_eq!(ThreadKind::parse("patient"), None);
    }

    /// The Feed's view of a summary item is the summary without its devices, notes and
    /// requests: every other field survives the round trip.
    #[test]
    fn the_feed_view_keeps_every_field_but_devices_notes_and_requests() {
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().expect("test value"));
        let full = ThreadSummary {
            thread_id: "thr-1".into(),
            patient_ids: ["pat-1".to_string()].into(),
            practitioner_ids: ["pr-1".to_string(), "pr-2".to_string()].into(),
            created_at: t("2026-11-01T08:00:00Z"),
            first_patient_message_at: t("2026-11-01T08:01:00Z"),
            last_patient_message_at: t("2026-11-02T08:01:00.5Z"),
            first_practitioner_message_at: t("2026-11-01T09:00:00Z"),
            last_practitioner_message_at: t("2026-11-02T07:00:00Z"),
            last_message_at: t("2026-11-02T08:01:00.5Z"),
            practitioner_opened_at: t("2026-11-02T07:30:00Z"),
            patient_opened_at: t("2026-11-02T07:45:00Z"),
            message_count: 42,
            devices: [("pat-1".to_string(), ["ios/iPhone".to_string()].into())].into(),
            last_notes: [(
                NoteType::Diagnosis,
                "2026-11-01T10:00:00Z".parse().expect("v"),
            )]
            .into(),
            requests: [("req-1".to_string(), RequestState::default())].into(),
            names: [("pr-1".to_string(), "Dr A".to_string())].into(),
            waiting_since: t("2026-11-02T08:01:00.5Z"),
            unanswered: [t("2026-11-02T08:01:00.5Z").expect("v")].into(),
        };
        let json = serde_json::to_string(&full).expect("test value");
        let view: ThreadFeedView = serde_json::from_str(&json).expect("test value");
        let back = ThreadSummary::from(view);
        assert_eq!(
            back,
            ThreadSummary {
                devices: BTreeMap::new(),
                last_notes: BTreeMap::new(),
                requests: BTreeMap::new(),
                unanswered: BTreeSet::new(),
                ..full
            }
        );
    }
}
