//! A1 Feed: one row per message thread, newest activity first; period on the last activity,
//! `tag` filters (repeatable: a row holds every tag given), search `q` on the specialists'
//! names; each row says its kind (A13: patient–practitioner or practitioner–practitioner),
//! filtered by `kind`. Query: `gsi1`, `gsi1pk = FEED`, backward; the pair threads have their
//! own list, `gsi2`, `gsi2pk = FEED#practitioner_practitioner`, backward, so a page of them
//! reads only its rows (the patient threads, most of the Feed, filter `FEED`).
//!
//! # Waiting answer with a clock (A11)
//! Each row carries `waiting_since` (the first patient message a practitioner has not
//! answered yet, kept by ingest on the thread summary). A waiting thread's row also carries its
//! `clock`: the commitment that applies — the shortest response time any of its
//! practitioners' profiles commits to (`response_time_hours` on `practitioner.upserted`), else
//! the platform default (setting `DEFAULT_RESPONSE_TIME_HOURS`) — the time the answer is due,
//! and whether it is overdue now (due at or before now). `sort=waiting` lists the waiting
//! threads, longest waiting first, from their own list (`gsi2`, `gsi2pk = WAITING`, sort key
//! the start of the wait, forward); `overdue=true` lists the overdue ones from the same list,
//! read only up to waits of at least [`MIN_RESPONSE_TIME_HOURS`] hour, as no thread waiting
//! less can be overdue. With either, the period is on the start of the wait. Commitments come
//! from one item holding every practitioner's (`RESPONSE_TIMES`), read once per page.

use super::params::ListParams;
use super::tab::{parties_text, search_hits_named, Party, Reader, Tab};
use crate::error::Error;
use crate::events::catalogue::MIN_RESPONSE_TIME_HOURS;
use crate::export::cells::Cell;
use crate::ports::{LazyItem, Query, StoreError};
use crate::readmodels::tags::{feed_tags, FeedTag};
use crate::readmodels::{
    lists, sort_time, ResponseTimes, ThreadFeedView, ThreadKind, ThreadSummary,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// The tab's own parameters.
pub const PARAMS: &[&str] = &["tag", "kind", "overdue", "sort"];

/// One Feed row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedRow {
    pub thread_id: String,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub last_activity_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    pub patients: Vec<Party>,
    pub practitioners: Vec<Party>,
    pub message_count: u64,
    pub tags: BTreeSet<FeedTag>,
    pub kind: ThreadKind,
    /// Since when a patient has waited for an answer (none when nobody waits).
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub waiting_since: Option<DateTime<Utc>>,
    /// The clock of a waiting thread (Feed rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<WaitClock>,
}

/// A waiting thread's clock (A11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitClock {
    /// The commitment that applies: the shortest of the thread's practitioners', else the
    /// platform default.
    pub response_time_hours: u32,
    #[serde(serialize_with = "crate::time::ser")]
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

impl WaitClock {
    /// The clock of a wait that started at `since`, at `now`.
    pub fn of(since: DateTime<Utc>, hours: u32, now: DateTime<Utc>) -> WaitClock {
        let due_at = since + chrono::Duration::hours(i64::from(hours));
        WaitClock {
            response_time_hours: hours,
            due_at,
            overdue: due_at <= now,
        }
    }
}

/// How the Feed is ordered (`sort`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FeedSort {
    /// Newest activity first, every thread.
    #[default]
    Activity,
    /// Longest waiting first, the waiting threads only.
    Waiting,
}

/// The Feed with its tag filter.
#[derive(Debug, Clone, Default)]
pub struct FeedTab {
    pub tags: BTreeSet<FeedTag>,
    /// Only threads of this kind (`kind`, at most once).
    pub kind: Option<ThreadKind>,
    /// Only overdue threads (`overdue=true`).
    pub overdue: bool,
    pub sort: FeedSort,
    /// The time the clocks are read at.
    pub now: DateTime<Utc>,
    /// The platform's response-time commitment, in hours.
    pub default_response_hours: u32,
}

impl FeedTab {
    pub fn from_params(
        params: &ListParams,
        now: DateTime<Utc>,
        default_response_hours: u32,
    ) -> Result<Self, Error> {
        let tags = params
            .extra_values("tag")
            .map(|t| {
                FeedTag::parse(t).ok_or_else(|| {
                    Error::invalid("tag", "must be conversation, not_seen or waiting_answer")
                })
            })
            .collect::<Result<_, _>>()?;
        let kind = thread_kind_param(params)?;
        let overdue = match single(params, "overdue")? {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(Error::invalid("overdue", "must be true or false")),
        };
        let sort = match single(params, "sort")? {
            None | Some("activity") => FeedSort::Activity,
            Some("waiting") => FeedSort::Waiting,
            Some(_) => return Err(Error::invalid("sort", "must be activity or waiting")),
        };
        if overdue && kind == Some(ThreadKind::PractitionerPractitioner) {
            return Err(Error::invalid(
                "overdue",
                "practitioner_practitioner threads never wait for a patient's answer",
            ));
        }
        if sort == FeedSort::Waiting && kind == Some(ThreadKind::PractitionerPractitioner) {
            return Err(Error::invalid(
                "sort",
                "practitioner_practitioner threads never wait for a patient's answer",
            ));
        }
        Ok(Self {
            tags,
            kind,
            overdue,
            sort,
            now,
            default_response_hours,
        })
    }

    /// Whether the rows come from the waiting threads' list.
    fn reads_waiting(&self) -> bool {
        self.overdue || self.sort == FeedSort::Waiting
    }
}

/// A tab parameter given at most once.
fn single<'a>(params: &'a ListParams, name: &'static str) -> Result<Option<&'a str>, Error> {
    let mut values = params.extra_values(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(Error::invalid(name, "must be given at most once"));
    }
    Ok(first)
}

/// The `kind` parameter: at most once, one of [`ThreadKind::ALL`].
fn thread_kind_param(params: &ListParams) -> Result<Option<ThreadKind>, Error> {
    single(params, "kind")?
        .map(|k| {
            ThreadKind::parse(k).ok_or_else(|| {
                Error::invalid(
                    "kind",
                    "must be patient_practitioner or practitioner_practitioner",
                )
            })
        })
        .transpose()
}

/// The Feed row of a thread summary, with the names ingest copied into it (no read).
pub fn feed_row(t: &ThreadSummary) -> FeedRow {
    let patients = t
        .patient_ids
        .iter()
        .map(|id| Party::named(&t.names, id))
        .collect();
    let practitioners = t
        .practitioner_ids
        .iter()
        .map(|id| Party::named(&t.names, id))
        .collect();
    FeedRow {
        thread_id: t.thread_id.clone(),
        last_activity_at: t.activity_at(),
        last_message_at: t.last_message_at,
        patients,
        practitioners,
        message_count: t.message_count,
        tags: feed_tags(t),
        kind: t.kind(),
        waiting_since: t.waiting_since,
        clock: None,
    }
}

/// Tags as one CSV cell, space-separated.
pub fn tags_text<'a>(tags: impl IntoIterator<Item = &'a str>) -> String {
    tags.into_iter().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl Tab for FeedTab {
    type Row = FeedRow;

    fn name(&self) -> &'static str {
        "feed"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "thread_id",
            "last_activity_at",
            "patients",
            "practitioners",
            "messages",
            "tags",
            "kind",
            "waiting_since",
            "response_time_hours",
            "due_at",
            "overdue",
        ]
    }

    fn cells(&self, r: &FeedRow) -> Vec<Vec<Cell>> {
        vec![vec![
            Cell::text(&r.thread_id),
            Cell::opt_time(r.last_activity_at),
            Cell::text(parties_text(&r.patients)),
            Cell::text(parties_text(&r.practitioners)),
            Cell::Int(i64::try_from(r.message_count).unwrap_or(i64::MAX)),
            Cell::text(tags_text(r.tags.iter().map(|t| t.as_str()))),
            Cell::text(r.kind.as_str()),
            Cell::opt_time(r.waiting_since),
            Cell::opt_text(r.clock.as_ref().map(|c| c.response_time_hours.to_string())),
            Cell::opt_time(r.clock.as_ref().map(|c| c.due_at)),
            Cell::opt_text(r.clock.as_ref().map(|c| c.overdue.to_string())),
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        if self.reads_waiting() {
            return self.waiting_query(params);
        }
        match self.kind {
            Some(ThreadKind::PractitionerPractitioner) => super::tab::newest_first_in(
                crate::ports::Index::Gsi2,
                &lists::feed_by_kind(ThreadKind::PractitionerPractitioner),
                params,
            ),
            _ => super::tab::newest_first(lists::FEED, params),
        }
    }

    async fn row(
        &self,
        reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<FeedRow>, StoreError> {
        let t = ThreadSummary::from(item.decode::<ThreadFeedView>()?);
        if self.kind.is_some_and(|k| k != t.kind()) {
            return Ok(None);
        }
        let clock = match t.waiting_since {
            Some(since) => {
                let times = reader.response_times().await?;
                Some(self.clock(times, &t, since))
            }
            None => None,
        };
        if self.reads_waiting() && clock.is_none() {
            return Ok(None);
        }
        if self.overdue && !clock.as_ref().is_some_and(|c| c.overdue) {
            return Ok(None);
        }
        if !self.tags.is_subset(&feed_tags(&t)) {
            return Ok(None);
        }
        if !search_hits_named(params, &t.names, &t.practitioner_ids) {
            return Ok(None);
        }
        Ok(Some(FeedRow {
            clock,
            ..feed_row(&t)
        }))
    }
}

impl FeedTab {
    /// The clock of a thread waiting since `since`.
    fn clock(&self, times: &ResponseTimes, t: &ThreadSummary, since: DateTime<Utc>) -> WaitClock {
        let hours = times.thread_hours(&t.practitioner_ids, self.default_response_hours);
        WaitClock::of(since, hours, self.now)
    }

    /// The waiting threads, longest waiting first, within the period (on the start of the
    /// wait); for `overdue`, only waits of at least the shortest commitment there can be.
    fn waiting_query(&self, params: &ListParams) -> Query {
        let q = Query::partition(crate::ports::Index::Gsi2, lists::WAITING);
        let mut end = params.period.map(|p| p.end);
        if self.overdue {
            let latest = self.now - chrono::Duration::hours(i64::from(MIN_RESPONSE_TIME_HOURS))
                + chrono::Duration::milliseconds(1);
            end = Some(end.map_or(latest, |e| e.min(latest)));
        }
        let start = params.period.map(|p| sort_time(p.start));
        match (start, end.map(sort_time)) {
            (Some(a), Some(b)) => q.range(crate::ports::SkRange::Between(a, b)),
            (None, Some(b)) => q.range(crate::ports::SkRange::AtMost(b)),
            (Some(a), None) => q.range(crate::ports::SkRange::AtLeast(a)),
            (None, None) => q,
        }
    }
}

/// Items the overdue count reads at most: past them it says how many it found so far.
pub const MAX_OVERDUE_READS: usize = 2000;

/// How many threads are overdue now (A11, beside the 14-day counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueCount {
    pub count: u64,
    /// False when [`MAX_OVERDUE_READS`] items were read before the end of the list: then
    /// `count` is a lower bound.
    pub complete: bool,
    pub read: usize,
}

/// Counts the overdue threads: the waiting threads' list up to waits of at least the
/// shortest commitment there can be, each checked against its commitment, at most
/// [`MAX_OVERDUE_READS`] items (plus the commitments item).
pub async fn overdue_count(
    store: &dyn crate::ports::Store,
    now: DateTime<Utc>,
    default_response_hours: u32,
) -> Result<OverdueCount, StoreError> {
    let tab = FeedTab {
        overdue: true,
        now,
        default_response_hours,
        ..FeedTab::default()
    };
    let params = ListParams::default();
    let mut reader = Reader::new(store);
    let mut query = tab.query(&params);
    let mut count = 0;
    loop {
        // The commitments item is read with the first waiting row, outside the cap.
        let left = MAX_OVERDUE_READS.saturating_sub(reader.read).clamp(1, 500);
        query.limit = Some(left);
        let page = reader.query(&query).await?;
        for item in &page.items {
            if tab.row(&mut reader, &params, item).await?.is_some() {
                count += 1;
            }
        }
        match page.next {
            Some(c) if reader.read < MAX_OVERDUE_READS + 1 => query.after = Some(c),
            Some(_) => {
                return Ok(OverdueCount {
                    count,
                    complete: false,
                    read: reader.read,
                })
            }
            None => {
                return Ok(OverdueCount {
                    count,
                    complete: true,
                    read: reader.read,
                })
            }
        }
    }
}
