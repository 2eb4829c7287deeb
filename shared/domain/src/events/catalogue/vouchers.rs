//! Events of vouchers (SPEC §3, §4): a voucher created, a voucher redeemed.

use super::Validate;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The first instant a voucher's expiry may not reach: 2100-01-01T00:00:00Z.
const LATEST_EXPIRY_SECS: i64 = 4_102_444_800;

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
        // An expiry is a deadline, not something that happened: it may lie in the future, up
        // to the end of the century.
        if let Some(at) = self.expires_at {
            let latest = DateTime::from_timestamp(LATEST_EXPIRY_SECS, 0);
            if at < super::earliest_instant() || latest.is_none_or(|l| at >= l) {
                return Err((
                    "expires_at",
                    "must lie between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z".into(),
                ));
            }
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
