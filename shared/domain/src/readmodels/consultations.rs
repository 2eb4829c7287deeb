//! Consultations (A3): opened by a payment, with the tags ingest derives for them.

use super::Names;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Consultation {
    pub consultation_id: String,
    pub thread_id: Option<String>,
    pub practitioner_id: Option<String>,
    pub patient_id: Option<String>,
    pub payment_id: Option<String>,
    pub payment_type: Option<PaymentType>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<PartyRole>,
    /// The tags as ingest last derived them ([`super::tags::consultation_tags`]); they
    /// feed the per-day tag counters.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<super::tags::ConsultationTag>,
    /// The practitioner's and patient's names (A3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}
