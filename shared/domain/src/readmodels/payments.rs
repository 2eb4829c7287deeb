//! Payment requests and payments (A8).

use super::Names;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentRequest {
    pub request_id: String,
    pub thread_id: String,
    pub practitioner_id: Option<String>,
    pub patient_id: Option<String>,
    pub amount: Option<Money>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub answer: Option<RequestAnswer>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: String,
    pub payment_type: PaymentType,
    pub consultation_id: Option<String>,
    pub thread_id: String,
    pub patient_id: String,
    pub practitioner_id: String,
    pub total: Money,
    pub commission_minor: i64,
    /// total - commission: what reaches the specialist.
    pub specialist_minor: i64,
    pub request_id: Option<String>,
    pub voucher_code: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub paid_at: DateTime<Utc>,
    /// The patient's and practitioner's names (A8).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}
