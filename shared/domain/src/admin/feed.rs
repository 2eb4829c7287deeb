//! A1 Feed: one row per message thread, newest activity first; period on the last activity,
//! `tag` filters (repeatable: a row holds every tag given), search `q` on the specialists'
//! names. Query: `gsi1`, `gsi1pk = FEED`, backward.

use super::params::ListParams;
use super::tab::{parties_text, search_hits_named, Party, Reader, Tab};
use crate::error::Error;
use crate::export::cells::Cell;
use crate::ports::{LazyItem, Query, StoreError};
use crate::readmodels::tags::{feed_tags, FeedTag};
use crate::readmodels::{lists, ThreadFeedView, ThreadSummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// The tab's own parameters.
pub const PARAMS: &[&str] = &["tag"];

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
}

/// The Feed with its tag filter.
#[derive(Debug, Clone, Default)]
pub struct FeedTab {
    pub tags: BTreeSet<FeedTag>,
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
        Ok(Self { tags })
    }
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
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        super::tab::newest_first(lists::FEED, params)
    }

    async fn row(
        &self,
        _reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<FeedRow>, StoreError> {
        let t = ThreadSummary::from(item.decode::<ThreadFeedView>()?);
        if !self.tags.is_subset(&feed_tags(&t)) {
            return Ok(None);
        }
        if !search_hits_named(params, &t.names, &t.practitioner_ids) {
            return Ok(None);
        }
        Ok(Some(feed_row(&t)))
    }
}
