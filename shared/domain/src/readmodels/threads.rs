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
}

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
                ..full
            }
        );
    }
}
