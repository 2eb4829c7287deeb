//! Vouchers (A9) and their redemptions.

use super::Totals;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Voucher {
    pub code: String,
    pub usage_limit: Option<u32>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// `uses`: distinct redemptions (A9).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub totals: Totals,
}

/// One use of a voucher code. Each distinct redemption counts once towards the code's uses
/// (the `USES` counter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoucherRedemption {
    pub code: String,
    pub redemption_id: String,
    pub patient_id: String,
    pub payment_id: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub redeemed_at: DateTime<Utc>,
}
