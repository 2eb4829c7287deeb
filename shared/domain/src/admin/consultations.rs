//! A3 Consultations: one row per consultation (opened by a completed payment), newest start
//! first; period on the start, `tag` filters (repeatable: a row holds every tag given), search
//! `q` on the practitioner's name; each row names its thread (the details open it). Query:
//! `gsi1`, `gsi1pk = CONSULTS`, backward. The tags are the ones ingest derived and keeps on
//! the consultation ([`crate::readmodels::tags::consultation_tags`]).
//!
//! # 14-day counts per tag
//! Ingest keeps, per UTC day of a consultation's start, one item holding a count per tag (and
//! `all`), moved whenever a consultation's tags change (`pk = CONSULT_TAGS#<YYYY-MM>`,
//! `sk = <YYYY-MM-DD>`, body `totals`). The counts of "the past 14 days" are the consultations
//! **started on the 14 UTC days ending with today** (today and the 13 days before), counted by
//! the tags they hold now. Reading them is 14 GetItems, whatever the data: the cost does not
//! grow with the volume.

use super::feed::tags_text;
use super::params::ListParams;
use super::tab::{search_hits_named, Party, Reader, Tab};
use crate::error::Error;
use crate::events::types::{PartyRole, PaymentType};
use crate::export::cells::Cell;
use crate::ports::{LazyItem, Query, Store, StoreError};
use crate::readmodels::tags::ConsultationTag;
use crate::readmodels::{keys, lists, Consultation, Totals};
use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The tab's own parameters.
pub const PARAMS: &[&str] = &["tag"];

/// Days the counts cover.
pub const COUNT_DAYS: u64 = 14;

/// One consultation row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationRow {
    pub consultation_id: String,
    pub thread_id: Option<String>,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub started_at: Option<DateTime<Utc>>,
    pub practitioner: Option<Party>,
    pub patient: Option<Party>,
    pub payment_id: Option<String>,
    pub payment_type: Option<PaymentType>,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<PartyRole>,
    pub tags: BTreeSet<ConsultationTag>,
}

/// Consultations with their tag filter.
#[derive(Debug, Clone, Default)]
pub struct ConsultationsTab {
    pub tags: BTreeSet<ConsultationTag>,
}

impl ConsultationsTab {
    pub fn from_params(params: &ListParams) -> Result<Self, Error> {
        let tags = params
            .extra_values("tag")
            .map(|t| {
                ConsultationTag::parse(t).ok_or_else(|| {
                    Error::invalid("tag", "must be a consultation tag such as waiting_answer")
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { tags })
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[async_trait]
impl Tab for ConsultationsTab {
    type Row = ConsultationRow;

    fn name(&self) -> &'static str {
        "consultations"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "consultation_id",
            "started_at",
            "practitioner_id",
            "practitioner",
            "patient_id",
            "patient",
            "payment_id",
            "payment_type",
            "cancelled_at",
            "thread_id",
            "tags",
        ]
    }

    fn cells(&self, r: &ConsultationRow) -> Vec<Vec<Cell>> {
        let party = |p: &Option<Party>| {
            (
                Cell::opt_text(p.as_ref().map(|p| p.id.clone())),
                Cell::opt_text(p.as_ref().and_then(|p| p.name.clone())),
            )
        };
        let (prac_id, prac) = party(&r.practitioner);
        let (pat_id, pat) = party(&r.patient);
        vec![vec![
            Cell::text(&r.consultation_id),
            Cell::opt_time(r.started_at),
            prac_id,
            prac,
            pat_id,
            pat,
            Cell::opt_text(r.payment_id.clone()),
            Cell::opt_text(r.payment_type.as_ref().map(snake)),
            Cell::opt_time(r.cancelled_at),
            Cell::opt_text(r.thread_id.clone()),
            Cell::text(tags_text(r.tags.iter().map(|t| t.as_str()))),
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        super::tab::newest_first(lists::CONSULTATIONS, params)
    }

    async fn row(
        &self,
        _reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<ConsultationRow>, StoreError> {
        let c: Consultation = item.decode()?;
        if !self.tags.is_subset(&c.tags) {
            return Ok(None);
        }
        if !search_hits_named(params, &c.names, c.practitioner_id.iter()) {
            return Ok(None);
        }
        let practitioner = c
            .practitioner_id
            .as_deref()
            .map(|id| Party::named(&c.names, id));
        let patient = c.patient_id.as_deref().map(|id| Party::named(&c.names, id));
        Ok(Some(ConsultationRow {
            consultation_id: c.consultation_id,
            thread_id: c.thread_id,
            started_at: c.started_at,
            practitioner,
            patient,
            payment_id: c.payment_id,
            payment_type: c.payment_type,
            cancelled_at: c.cancelled_at,
            cancelled_by: c.cancelled_by,
            tags: c.tags,
        }))
    }
}

/// The 14-day counts per tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagCounts {
    /// First and last UTC day of the window.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Consultations started in the window.
    pub total: i64,
    /// Per tag (every tag, zero included).
    pub counts: BTreeMap<ConsultationTag, i64>,
    pub read: usize,
}

/// Reads the counts of the 14 UTC days ending with `now`'s day: one GetItem per day, found
/// or not, so always [`COUNT_DAYS`] items whatever the volume.
pub async fn tag_counts(store: &dyn Store, now: DateTime<Utc>) -> Result<TagCounts, StoreError> {
    let to = now.date_naive();
    let from = to.checked_sub_days(Days::new(COUNT_DAYS - 1)).unwrap_or(to);
    let mut reader = Reader::new(store);
    let mut counts: BTreeMap<ConsultationTag, i64> =
        ConsultationTag::ALL.iter().map(|t| (*t, 0)).collect();
    let mut total = 0;
    let mut day = from;
    while day <= to {
        let key = keys::consultation_day_counts(&day.format("%Y-%m-%d").to_string());
        if let Some(item) = reader.get(&key).await? {
            /// The day's counts item: tag → count under `totals` (absent: none).
            #[derive(serde::Deserialize)]
            struct DayCounts {
                #[serde(default)]
                totals: Totals,
            }
            let DayCounts { totals } = item.decode()?;
            for (tag, n) in totals {
                if tag == "all" {
                    total += n;
                } else if let Some(t) = ConsultationTag::parse(&tag) {
                    *counts.entry(t).or_default() += n;
                }
            }
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(TagCounts {
        from,
        to,
        total,
        counts,
        read: reader.read,
    })
}
