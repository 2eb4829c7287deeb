//! A1 Feed: one row per message thread, newest activity first; period on the last activity,
//! `tag` filters (repeatable: a row holds every tag given), search `q` on the specialists'
//! names; each row says its kind (A13: patient–practitioner or practitioner–practitioner),
//! filtered by `kind`. Query: `gsi1`, `gsi1pk = FEED`, backward; with `kind`, the kind's own
//! list, `gsi2`, `gsi2pk = FEED#<kind>`, backward, so a page of one kind reads only its rows.

use super::params::ListParams;
use super::tab::{parties_text, search_hits_named, Party, Reader, Tab};
use crate::error::Error;
use crate::export::cells::Cell;
use crate::ports::{LazyItem, Query, StoreError};
use crate::readmodels::tags::{feed_tags, FeedTag};
use crate::readmodels::{lists, ThreadFeedView, ThreadKind, ThreadSummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// The tab's own parameters.
pub const PARAMS: &[&str] = &["tag", "kind"];

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
}

/// The Feed with its tag filter.
#[derive(Debug, Clone, Default)]
pub struct FeedTab {
    pub tags: BTreeSet<FeedTag>,
    /// Only threads of this kind (`kind`, at most once).
    pub kind: Option<ThreadKind>,
}

impl FeedTab {
    pub fn from_params(params: &ListParams) -> Result<Self, Error> {
        let tags = params
            .extra_values("tag")
            .map(|t| {
                FeedTag::parse(t).ok_or_else(|| {
                    Error::invalid("tag", "must be conversation, not_seen or waiting_answer")
                })
            })
            .collect::<Result<_, _>>()?;
        let kind = thread_kind_param(params)?;
        Ok(Self { tags, kind })
    }
}

/// The `kind` parameter: at most once, one of [`ThreadKind::ALL`].
fn thread_kind_param(params: &ListParams) -> Result<Option<ThreadKind>, Error> {
    let mut kinds = params.extra_values("kind");
    let kind = kinds
        .next()
        .map(|k| {
            ThreadKind::parse(k).ok_or_else(|| {
                Error::invalid(
                    "kind",
                    "must be patient_practitioner or practitioner_practitioner",
                )
            })
        })
        .transpose()?;
    if kinds.next().is_some() {
        return Err(Error::invalid("kind", "must be given at most once"));
    }
    Ok(kind)
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
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        match self.kind {
            Some(kind) => super::tab::newest_first_in(
                crate::ports::Index::Gsi2,
                &lists::feed_by_kind(kind),
                params,
            ),
            None => super::tab::newest_first(lists::FEED, params),
        }
    }

    async fn row(
        &self,
        _reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<FeedRow>, StoreError> {
        let t = ThreadSummary::from(item.decode::<ThreadFeedView>()?);
        if self.kind.is_some_and(|k| k != t.kind()) {
            return Ok(None);
        }
        if !self.tags.is_subset(&feed_tags(&t)) {
            return Ok(None);
        }
        if !search_hits_named(params, &t.names, &t.practitioner_ids) {
            return Ok(None);
        }
        Ok(Some(feed_row(&t)))
    }
}
