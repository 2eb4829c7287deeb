//! A8 Payment items: every payment, newest first: type (booked appointment, in-thread request,
//! voucher, refund — negative —, late-cancellation or no-show fee), patient, practitioner,
//! total paid, amount to the specialist, commission (integer minor units and currency; in
//! every item total = specialist + commission, by construction at ingest), date. Period on
//! the payment time, `type` filter (repeatable: any of), search `q` on the practitioner's or
//! the patient's name. Query: `gsi1`, `gsi1pk = PAYMENTS`, backward.

use super::params::ListParams;
use super::tab::{search_hits_named, Party, Reader, Tab};
use crate::error::Error;
use crate::events::types::PaymentType;
use crate::export::cells::Cell;
use crate::ports::{LazyItem, Query, StoreError};
use crate::readmodels::{lists, Payment};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// The tab's own parameters.
pub const PARAMS: &[&str] = &["type"];

/// One payment item row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentItemRow {
    pub payment_id: String,
    #[serde(serialize_with = "crate::time::ser")]
    pub paid_at: DateTime<Utc>,
    pub payment_type: PaymentType,
    pub patient: Party,
    pub practitioner: Party,
    pub currency: String,
    pub total_minor: i64,
    pub specialist_minor: i64,
    pub commission_minor: i64,
    pub consultation_id: Option<String>,
    pub thread_id: String,
    pub voucher_code: Option<String>,
}

/// The Payment items tab with its type filter.
#[derive(Debug, Clone, Default)]
pub struct PaymentItemsTab {
    pub types: BTreeSet<PaymentType>,
}

fn payment_type_name(t: PaymentType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl PaymentItemsTab {
    pub fn from_params(params: &ListParams) -> Result<Self, Error> {
        let types = params
            .extra_values("type")
            .map(|t| {
                serde_json::from_value::<PaymentType>(serde_json::Value::String(t.to_string()))
                    .map_err(|_| Error::invalid("type", "must be a payment type such as refund"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { types })
    }
}

#[async_trait]
impl Tab for PaymentItemsTab {
    type Row = PaymentItemRow;

    fn name(&self) -> &'static str {
        "payment-items"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "payment_id",
            "paid_at",
            "type",
            "patient_id",
            "patient",
            "practitioner_id",
            "practitioner",
            "currency",
            "total_minor",
            "specialist_minor",
            "commission_minor",
            "consultation_id",
            "thread_id",
            "voucher_code",
        ]
    }

    fn cells(&self, r: &PaymentItemRow) -> Vec<Vec<Cell>> {
        vec![vec![
            Cell::text(&r.payment_id),
            Cell::Time(r.paid_at),
            Cell::text(payment_type_name(r.payment_type)),
            Cell::text(&r.patient.id),
            Cell::opt_text(r.patient.name.clone()),
            Cell::text(&r.practitioner.id),
            Cell::opt_text(r.practitioner.name.clone()),
            Cell::text(&r.currency),
            Cell::Int(r.total_minor),
            Cell::Int(r.specialist_minor),
            Cell::Int(r.commission_minor),
            Cell::opt_text(r.consultation_id.clone()),
            Cell::text(&r.thread_id),
            Cell::opt_text(r.voucher_code.clone()),
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        super::tab::newest_first(lists::PAYMENTS, params)
    }

    async fn row(
        &self,
        _reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<PaymentItemRow>, StoreError> {
        let p: Payment = item.decode()?;
        if !self.types.is_empty() && !self.types.contains(&p.payment_type) {
            return Ok(None);
        }
        let patient = Party::named(&p.names, &p.patient_id);
        if !search_hits_named(params, &p.names, [&p.patient_id, &p.practitioner_id]) {
            return Ok(None);
        }
        Ok(Some(PaymentItemRow {
            practitioner: Party::named(&p.names, &p.practitioner_id),
            patient,
            payment_id: p.payment_id,
            paid_at: p.paid_at,
            payment_type: p.payment_type,
            currency: p.total.currency.as_str().to_string(),
            total_minor: p.total.amount_minor,
            specialist_minor: p.specialist_minor,
            commission_minor: p.commission_minor,
            consultation_id: p.consultation_id,
            thread_id: p.thread_id,
            voucher_code: p.voucher_code,
        }))
    }
}
