//! Events of vouchers (SPEC §3, §4): a voucher created, a voucher redeemed.

use super::Validate;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherCreated {
    pub code: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}
impl Validate for VoucherCreated {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.usage_limit == Some(0) {
            return Err(("usage_limit", "must be at least 1 when set".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherRedeemed {
    pub code: Id,
    pub redemption_id: Id,
    pub patient_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Id>,
}
impl Validate for VoucherRedeemed {}
