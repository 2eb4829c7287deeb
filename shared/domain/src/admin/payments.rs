//! A7 Payments: per practitioner over the period, per currency: the number of consultations
//! (payments that open one), the number of payment items, and the totals paid, to the
//! specialist and in commission (integer minor units; refunds count negative, fees as they
//! come, so the totals reconcile with A8). Search `q` on the practitioner's name (word
//! prefixes, through the practitioners' word index, [`crate::readmodels::search`]).
//! Practitioners without a payment in the period are left out; a practitioner paid in two
//! currencies has one CSV line per currency.
//!
//! Without a period (all time) a row is one item: the practitioner's payment totals per
//! currency, which ingest moves with each payment (`PRAC#<id>`/`PAY_TOTALS`, totals named
//! `<currency>#<total>`, listed in `gsi1` `PAY_TOTALS` by the copied name, folded). With a
//! period they are summed at read time: `gsi1` `PRACTITIONERS` (name order), then per
//! practitioner `gsi2`, `PRAC#<id>#PAYMENTS` with the period on the payment time.

use super::params::ListParams;
use super::tab::{listed_item, Party, Reader, Tab};
use crate::export::cells::Cell;
use crate::ports::{Index, LazyItem, Query, SkRange, StoreError};
use crate::readmodels::{keys, lists, Payment, Practitioner, PractitionerTotals};
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

/// Sums payments per currency (the pure part of the tab), in checked arithmetic: a sum past
/// the range of `i64` is an error, never a wrapped or saturated figure.
pub fn totals_per_currency<'a>(
    payments: impl IntoIterator<Item = &'a Payment>,
) -> Result<Vec<CurrencyTotals>, StoreError> {
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
        let add = |sum: i64, amount: i64| {
            sum.checked_add(amount).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "payment totals of practitioner {} out of range",
                    p.practitioner_id
                ))
            })
        };
        t.total_minor = add(t.total_minor, p.total.amount_minor)?;
        t.specialist_minor = add(t.specialist_minor, p.specialist_minor)?;
        t.commission_minor = add(t.commission_minor, p.commission_minor)?;
    }
    Ok(by.into_values().collect())
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
        if let Some(search) = params.people_search() {
            return search.query();
        }
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
        let Some(item) = listed_item(reader, params, item, keys::payment_totals).await? else {
            return Ok(None);
        };
        let item: &LazyItem = &item;
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
            totals: totals_per_currency(&payments)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::types::{Currency, Money, PaymentType};

    fn payment(id: &str, amount_minor: i64) -> Payment {
        Payment {
            payment_id: id.into(),
            payment_type: PaymentType::BookedAppointment,
            consultation_id: Some(format!("c-{id}")),
            thread_id: "thr".into(),
            patient_id: "pat".into(),
            practitioner_id: "prac".into(),
            total: Money {
                amount_minor,
                currency: Currency::parse("EUR").expect("a currency"),
            },
            commission_minor: 0,
            specialist_minor: amount_minor,
            request_id: None,
            voucher_code: None,
            paid_at: chrono::DateTime::from_timestamp(1_772_452_800, 0).expect("an instant"),
            names: Default::default(),
        }
    }

    /// Totals are summed with checks: a sum past `i64` is an error, never a wrapped figure.
    #[test]
    fn sums_past_the_range_are_an_error() {
        let sums = totals_per_currency(&[payment("a", 4), payment("b", 5)]).expect("summed");
        assert_eq!((sums[0].total_minor, sums[0].payments), (9, 2));
        let near = [payment("a", i64::MAX - 1), payment("b", 2)];
        assert!(matches!(
            totals_per_currency(&near),
            Err(StoreError::Invalid(_))
        ));
    }
}
