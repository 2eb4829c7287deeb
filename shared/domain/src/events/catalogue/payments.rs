//! Events of the marketplace's payments (SPEC §3, §4): a payment request sent and answered, a
//! completed payment item (which may open a consultation), a consultation cancelled.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequestSent {
    pub request_id: Id,
    pub thread_id: Id,
    pub practitioner_id: Id,
    pub patient_id: Id,
    pub amount: Money,
}
impl Validate for PaymentRequestSent {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        check_amount_minor(self.amount.amount_minor).map_err(|r| ("amount.amount_minor", r))?;
        if self.amount.amount_minor <= 0 {
            return Err(("amount.amount_minor", "must be positive".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequestAnswered {
    pub request_id: Id,
    pub thread_id: Id,
    pub answer: RequestAnswer,
}
impl Validate for PaymentRequestAnswered {}

/// A completed payment item. Booked appointments, accepted thread requests and voucher payments
/// open a consultation (`consultation_id` required); refunds (negative) and fees are items of
/// their own that may point at the consultation they concern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentCompleted {
    pub payment_id: Id,
    pub payment_type: PaymentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultation_id: Option<Id>,
    pub thread_id: Id,
    pub patient_id: Id,
    pub practitioner_id: Id,
    /// What the patient paid (negative for a refund).
    pub total: Money,
    /// The platform's commission in the same currency; the specialist receives total - commission.
    pub commission_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_code: Option<Id>,
}
impl Validate for PaymentCompleted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let t = self.total.amount_minor;
        check_amount_minor(t).map_err(|r| ("total.amount_minor", r))?;
        check_amount_minor(self.commission_minor).map_err(|r| ("commission_minor", r))?;
        match self.payment_type {
            PaymentType::Refund if t >= 0 => {
                return Err(("total.amount_minor", "a refund is negative".into()))
            }
            PaymentType::Refund => {}
            _ if t < 0 => return Err(("total.amount_minor", "only a refund is negative".into())),
            _ => {}
        }
        if self.commission_minor.signum() * t.signum() < 0 || self.commission_minor.abs() > t.abs()
        {
            return Err((
                "commission_minor",
                "must have the total's sign and not exceed it".into(),
            ));
        }
        if self.payment_type.opens_consultation() && self.consultation_id.is_none() {
            return Err((
                "consultation_id",
                "required for a payment that opens a consultation".into(),
            ));
        }
        if self.payment_type == PaymentType::ThreadRequest && self.request_id.is_none() {
            return Err((
                "request_id",
                "required for an in-thread request payment".into(),
            ));
        }
        if self.payment_type == PaymentType::Voucher && self.voucher_code.is_none() {
            return Err(("voucher_code", "required for a voucher payment".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultationCancelled {
    pub consultation_id: Id,
    pub cancelled_by: PartyRole,
}
impl Validate for ConsultationCancelled {}
