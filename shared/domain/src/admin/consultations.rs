//! A3 Consultations: one row per consultation (opened by a completed payment), newest start
//! first; period on the start, `tag` filters (repeatable: a row holds every tag given), search
//! `q` on the practitioner's name; each row names its thread (the details open it). Query:
//! `gsi1`, `gsi1pk = CONSULTS`, backward. The tags are the ones ingest derived and keeps on
//! the consultation ([`crate::readmodels::tags::consultation_tags`]).
//!
//! # 14-day counts per tag
//! "The past 14 days" (SPEC A3, clarified) is the 14 × 24 hours up to now, to the minute, or
//! with `tz` the 14 local days ending with today in that zone (DST-correct: 335, 336 or 337
//! hours); the consultations started in it are counted by the tags they hold now. Ingest
//! keeps, per UTC day of a consultation's start, one item holding a count per tag (and `all`)
//! for the day and for each of its hours (`pk = CONSULT_TAGS#<YYYY-MM>`, `sk = <YYYY-MM-DD>`,
//! body `totals`: `<tag>` and `HH/<tag>`), and per UTC hour one item holding the count per
//! minute (`sk = <YYYY-MM-DD>T<HH>`, `MM/<tag>`), moved whenever a consultation's tags change.
//! Whole hours of the window are read from their day's item, the minutes of a partial edge
//! hour (now's minute, or a zone offset such as +05:30) from the hour's item: at most
//! [`MAX_COUNT_READS`] GetItems, whatever the data.

use super::feed::tags_text;
use super::params::local_midnight;
use super::params::ListParams;
use super::tab::{search_hits_named, Party, Reader, Tab};
use crate::error::Error;
use crate::events::types::{PartyRole, PaymentType};
use crate::export::cells::Cell;
use crate::ports::Key;
use crate::ports::{LazyItem, Query, Store, StoreError};
use crate::readmodels::tags::ConsultationTag;
use crate::readmodels::{keys, lists, Consultation, Totals};
use async_trait::async_trait;
use chrono::{DateTime, Days, Duration, DurationRound, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::btree_map::Entry;
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

/// The 14-day counts per tag, and beside them the threads overdue now (A11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountsAnswer {
    #[serde(flatten)]
    pub tags: TagCounts,
    pub overdue: super::feed::OverdueCount,
}

/// The 14-day counts per tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagCounts {
    /// The window, `[from, to)` in UTC, to the minute.
    #[serde(serialize_with = "crate::time::ser")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::ser")]
    pub to: DateTime<Utc>,
    /// The zone whose 14 local days the window is, when one was asked.
    pub tz: Option<String>,
    /// Consultations started in the window.
    pub total: i64,
    /// Per tag (every tag, zero included).
    pub counts: BTreeMap<ConsultationTag, i64>,
    pub read: usize,
}

/// Items the counts read at most: the day items of the UTC days the window touches (at most
/// 16: 14 local days with a DST hour more, starting late in a UTC day) and the hour items of
/// its two edges when they do not fall on whole hours.
pub const MAX_COUNT_READS: usize = 18;

/// The window of "the past 14 days" (SPEC A3): without a zone, the 14 × 24 hours up to now,
/// to the minute (from the minute 14 × 24 hours before `now`'s to the end of `now`'s
/// minute); with one, the 14 local days ending with today in that zone, DST-correct.
pub fn count_window(now: DateTime<Utc>, tz: Option<Tz>) -> (DateTime<Utc>, DateTime<Utc>) {
    let minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let rolling = (
        minute - Duration::days(COUNT_DAYS as i64),
        minute + Duration::minutes(1),
    );
    let Some(tz) = tz else {
        return rolling;
    };
    let today = now.with_timezone(&tz).date_naive();
    let from = today.checked_sub_days(Days::new(COUNT_DAYS - 1));
    let end = today.succ_opt();
    match (
        from.and_then(|d| local_midnight(tz, d)),
        end.and_then(|d| local_midnight(tz, d)),
    ) {
        (Some(a), Some(b)) => (a, b),
        _ => rolling,
    }
}

/// The counts' only parameter, `tz` (at most once, an IANA zone): anything else answers 400
/// naming it.
pub fn count_zone(query: &[(String, String)]) -> Result<Option<Tz>, Error> {
    let mut zone = None;
    for (name, value) in query {
        if name != "tz" {
            return Err(Error::invalid(name, "the counts take only tz"));
        }
        if zone.is_some() {
            return Err(Error::invalid("tz", "must be given at most once"));
        }
        zone =
            Some(value.parse::<Tz>().map_err(|_| {
                Error::invalid("tz", "must be an IANA time zone such as Europe/Paris")
            })?);
    }
    Ok(zone)
}

/// Reads the counts of [`count_window`]: whole UTC hours from their day's item (`HH/<tag>`),
/// the minutes of a partial edge hour from that hour's item (`MM/<tag>`). Each item is read
/// once, found or not, so at most [`MAX_COUNT_READS`] whatever the volume.
pub async fn tag_counts(
    store: &dyn Store,
    now: DateTime<Utc>,
    tz: Option<Tz>,
) -> Result<TagCounts, StoreError> {
    let (from, to) = count_window(now, tz);
    let mut reader = Reader::new(store);
    let mut counts: BTreeMap<ConsultationTag, i64> =
        ConsultationTag::ALL.iter().map(|t| (*t, 0)).collect();
    let mut total = 0;
    let mut add = |tag: &str, n: i64| {
        if tag == "all" {
            total += n;
        } else if let Some(t) = ConsultationTag::parse(tag) {
            *counts.entry(t).or_default() += n;
        }
    };
    let mut day_items: BTreeMap<NaiveDate, Totals> = BTreeMap::new();
    let mut hour = from.duration_trunc(Duration::hours(1)).unwrap_or(from);
    while hour < to {
        let next = hour + Duration::hours(1);
        if hour >= from && next <= to {
            let day = hour.date_naive();
            if let Entry::Vacant(slot) = day_items.entry(day) {
                let key = keys::consultation_day_counts(&day.format("%Y-%m-%d").to_string());
                slot.insert(stored_totals(&mut reader, &key).await?);
            }
            let prefix = hour.format("%H/").to_string();
            for (name, n) in day_items.get(&day).into_iter().flatten() {
                if let Some(tag) = name.strip_prefix(&prefix) {
                    add(tag, *n);
                }
            }
        } else {
            let key = keys::consultation_hour_counts(&hour.format("%Y-%m-%dT%H").to_string());
            for (name, n) in stored_totals(&mut reader, &key).await? {
                let Some((mm, tag)) = name.split_once('/') else {
                    continue;
                };
                let Ok(mm) = mm.parse::<i64>() else { continue };
                let at = hour + Duration::minutes(mm);
                if at >= from && at < to {
                    add(tag, n);
                }
            }
        }
        hour = next;
    }
    Ok(TagCounts {
        from,
        to,
        tz: tz.map(|z| z.name().to_string()),
        total,
        counts,
        read: reader.read,
    })
}

/// The `totals` of a counts item (absent: none).
async fn stored_totals(reader: &mut Reader<'_>, key: &Key) -> Result<Totals, StoreError> {
    /// A counts item: name → count under `totals`.
    #[derive(serde::Deserialize)]
    struct Counts {
        #[serde(default)]
        totals: Totals,
    }
    match reader.get(key).await? {
        Some(item) => Ok(item.decode::<Counts>()?.totals),
        None => Ok(Totals::default()),
    }
}
