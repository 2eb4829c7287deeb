//! A4 Call durations: per practitioner, the number of in-thread calls in the period and their
//! total audio and video call time; search `q` on the practitioner's name (word prefixes,
//! through the practitioners' word index, [`crate::readmodels::search`]: one index item and
//! one GetItem per row). Practitioners without a call in the period are left out.
//!
//! Without a period (all time) a row is one item: the practitioner's call totals, which ingest
//! moves as each call's joins and leaves arrive (`PRAC#<id>`/`CALL_TOTALS`, listed in `gsi1`
//! `CALL_TOTALS` by the copied name, folded). With a period the totals are summed at read
//! time: `gsi1` `PRACTITIONERS` (name order), then per practitioner `gsi2`,
//! `PRAC#<id>#CALLS` with the period on the call's first join.
//!
//! A call's time follows the call-time rule of the read models ([`call_seconds`]); a call
//! counts in the period of its first join.

use super::params::ListParams;
use super::tab::{listed_item, Party, Reader, Tab};
use crate::events::types::Media;
use crate::export::cells::Cell;
use crate::ports::{Index, LazyItem, Query, SkRange, StoreError};
use crate::readmodels::calls::call_seconds;
use crate::readmodels::{keys, lists, Call, Practitioner, PractitionerTotals};
use async_trait::async_trait;
use serde::Serialize;

/// One practitioner's calls in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallDurationRow {
    pub practitioner: Party,
    pub calls: u64,
    pub audio_calls: u64,
    pub video_calls: u64,
    pub audio_seconds: i64,
    pub video_seconds: i64,
    pub total_seconds: i64,
}

/// The Call durations tab.
#[derive(Debug, Clone, Default)]
pub struct CallsTab;

#[async_trait]
impl Tab for CallsTab {
    type Row = CallDurationRow;

    fn name(&self) -> &'static str {
        "calls"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "practitioner_id",
            "practitioner",
            "calls",
            "audio_calls",
            "video_calls",
            "audio_seconds",
            "video_seconds",
            "total_seconds",
        ]
    }

    fn cells(&self, r: &CallDurationRow) -> Vec<Vec<Cell>> {
        let n = |v: u64| Cell::Int(i64::try_from(v).unwrap_or(i64::MAX));
        vec![vec![
            Cell::text(&r.practitioner.id),
            Cell::opt_text(r.practitioner.name.clone()),
            n(r.calls),
            n(r.audio_calls),
            n(r.video_calls),
            Cell::Seconds(r.audio_seconds),
            Cell::Seconds(r.video_seconds),
            Cell::Seconds(r.total_seconds),
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        if let Some(search) = params.people_search() {
            return search.query();
        }
        match params.period {
            None => Query::partition(Index::Gsi1, lists::CALL_TOTALS),
            Some(_) => Query::partition(Index::Gsi1, lists::PRACTITIONERS),
        }
    }

    async fn row(
        &self,
        reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<CallDurationRow>, StoreError> {
        let Some(item) = listed_item(reader, params, item, keys::call_totals).await? else {
            return Ok(None);
        };
        let item: &LazyItem = &item;
        if item.sk() == "CALL_TOTALS" {
            let t: PractitionerTotals = item.decode()?;
            let name = t.names.get(&t.practitioner_id).cloned();
            if !params.matches(name.as_deref()) {
                return Ok(None);
            }
            let n = |k: &str| t.totals.get(k).copied().unwrap_or(0);
            let u = |k: &str| u64::try_from(n(k)).unwrap_or(0);
            let row = CallDurationRow {
                practitioner: Party {
                    id: t.practitioner_id.clone(),
                    name,
                },
                calls: u("calls"),
                audio_calls: u("audio_calls"),
                video_calls: u("video_calls"),
                audio_seconds: n("audio_seconds"),
                video_seconds: n("video_seconds"),
                total_seconds: n("total_seconds"),
            };
            return Ok((row.calls > 0).then_some(row));
        }
        let p: Practitioner = item.decode()?;
        if !params.matches(p.name.as_deref()) {
            return Ok(None);
        }
        let mut query =
            Query::partition(Index::Gsi2, lists::practitioner_calls(&p.practitioner_id));
        if let Some(period) = params.period {
            let (a, b) = period.sk_bounds();
            query = query.range(SkRange::Between(a, b));
        }
        let mut row = CallDurationRow {
            practitioner: Party {
                id: p.practitioner_id.clone(),
                name: p.name.clone(),
            },
            calls: 0,
            audio_calls: 0,
            video_calls: 0,
            audio_seconds: 0,
            video_seconds: 0,
            total_seconds: 0,
        };
        loop {
            let page = reader.query(&query).await?;
            for item in &page.items {
                let call: Call = item.decode()?;
                let secs = call_seconds(&call.moves);
                row.calls += 1;
                match call.media {
                    Some(Media::Audio) => {
                        row.audio_calls += 1;
                        row.audio_seconds += secs;
                    }
                    Some(Media::Video) => {
                        row.video_calls += 1;
                        row.video_seconds += secs;
                    }
                    None => {}
                }
                row.total_seconds += secs;
            }
            match page.next {
                Some(c) => query.after = Some(c),
                None => break,
            }
        }
        Ok((row.calls > 0).then_some(row))
    }
}
