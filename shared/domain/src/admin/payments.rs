//! A7 Payments: per practitioner over the period, per currency: the number of consultations
//! (payments that open one), the number of payment items, and the totals paid, to the
//! specialist and in commission (integer minor units; refunds count negative, fees as they
//! come, so the totals reconcile with A8). Search `q` on the practitioner's name.
//! Practitioners without a payment in the period are left out; a practitioner paid in two
//! currencies has one CSV line per currency.
//!
//! Without a period (all time) a row is one item: the practitioner's payment totals per
//! currency, which ingest moves with each payment (`PRAC#<id>`/`PAY_TOTALS`, totals named
//! `<currency>#<total>`, listed in `gsi1` `PAY_TOTALS` by the copied name, folded). With a
//! period they are summed at read time: `gsi1` `PRACTITIONERS` (name order), then per
//! practitioner `gsi2`, `PRAC#<id>#PAYMENTS` with the period on the payment time.

use super::params::ListParams;
use super::tab::{Party, Reader, Tab};
use crate::export::cells::Cell;
use crate::ports::{Index, LazyItem, Query, SkRange, StoreError};
use crate::readmodels::{lists, Payment, Practitioner, PractitionerTotals};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;

/// The totals of one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CurrencyTotals {
    pub currency: String,
    pub consultations: u64,
    pub payments: u64,
    pub total_minor: i64,
    pub specialist_minor: i64,
    pub commission_minor: i64,
}

/// One practitioner's payments in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentsRow {
    pub practitioner: Party,
    /// One entry per currency, in currency order.
    pub totals: Vec<CurrencyTotals>,
}

/// Sums payments per currency (the pure part of the tab).
pub fn totals_per_currency<'a>(
    payments: impl IntoIterator<Item = &'a Payment>,
) -> Vec<CurrencyTotals> {
    let mut by: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
    for p in payments {
        let c = p.total.currency.as_str().to_string();
        let t = by.entry(c.clone()).or_insert_with(|| CurrencyTotals {
            currency: c,
            ..CurrencyTotals::default()
        });
        t.payments += 1;
        if p.payment_type.opens_consultation() {
            t.consultations += 1;
        }
        t.total_minor += p.total.amount_minor;
        t.specialist_minor += p.specialist_minor;
        t.commission_minor += p.commission_minor;
    }
    by.into_values().collect()
}

/// The per-currency totals of a totals item (`<currency>#<total>` names), in currency order;
/// a currency without a payment is left out.
pub fn totals_from_items(totals: &crate::readmodels::Totals) -> Vec<CurrencyTotals> {
    let mut by: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
    for (name, n) in totals {
        let Some((currency, field)) = name.split_once('#') else {
            continue;
        };
        let t = by
            .entry(currency.to_string())
            .or_insert_with(|| CurrencyTotals {
                currency: currency.to_string(),
                ..CurrencyTotals::default()
            });
        let count = u64::try_from(*n).unwrap_or(0);
        match field {
            "payments" => t.payments = count,
            "consultations" => t.consultations = count,
            "total_minor" => t.total_minor = *n,
            "specialist_minor" => t.specialist_minor = *n,
            "commission_minor" => t.commission_minor = *n,
            _ => {}
        }
    }
    by.into_values().filter(|t| t.payments > 0).collect()
}

/// The Payments tab.
#[derive(Debug, Clone, Default)]
pub struct PaymentsTab;

#[async_trait]
impl Tab for PaymentsTab {
    type Row = PaymentsRow;

    fn name(&self) -> &'static str {
        "payments"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "practitioner_id",
            "practitioner",
            "currency",
            "consultations",
            "payments",
            "total_minor",
            "specialist_minor",
            "commission_minor",
        ]
    }

    fn cells(&self, r: &PaymentsRow) -> Vec<Vec<Cell>> {
        let n = |v: u64| Cell::Int(i64::try_from(v).unwrap_or(i64::MAX));
        r.totals
            .iter()
            .map(|t| {
                vec![
                    Cell::text(&r.practitioner.id),
                    Cell::opt_text(r.practitioner.name.clone()),
                    Cell::text(&t.currency),
                    n(t.consultations),
                    n(t.payments),
                    Cell::Int(t.total_minor),
                    Cell::Int(t.specialist_minor),
                    Cell::Int(t.commission_minor),
                ]
            })
            .collect()
    }

    fn query(&self, params: &ListParams) -> Query {
        match params.period {
            None => Query::partition(Index::Gsi1, lists::PAYMENT_TOTALS),
            Some(_) => Query::partition(Index::Gsi1, lists::PRACTITIONERS),
        }
    }

    async fn row(
        &self,
        reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<PaymentsRow>, StoreError> {
        if item.sk() == "PAY_TOTALS" {
            let t: PractitionerTotals = item.decode()?;
            let name = t.names.get(&t.practitioner_id).cloned();
            if !params.matches(name.as_deref()) {
                return Ok(None);
            }
            let totals = totals_from_items(&t.totals);
            if totals.is_empty() {
                return Ok(None);
            }
            return Ok(Some(PaymentsRow {
                practitioner: Party {
                    id: t.practitioner_id,
                    name,
                },
                totals,
            }));
        }
        let p: Practitioner = item.decode()?;
        if !params.matches(p.name.as_deref()) {
            return Ok(None);
        }
        let mut query = Query::partition(
            Index::Gsi2,
            lists::practitioner_payments(&p.practitioner_id),
        );
        if let Some(period) = params.period {
            let (a, b) = period.sk_bounds();
            query = query.range(SkRange::Between(a, b));
        }
        let mut payments = Vec::new();
        loop {
            let page = reader.query(&query).await?;
            for item in &page.items {
                payments.push(item.decode::<Payment>()?);
            }
            match page.next {
                Some(c) => query.after = Some(c),
                None => break,
            }
        }
        if payments.is_empty() {
            return Ok(None);
        }
        Ok(Some(PaymentsRow {
            practitioner: Party {
                id: p.practitioner_id,
                name: p.name,
            },
            totals: totals_per_currency(&payments),
        }))
    }
}
