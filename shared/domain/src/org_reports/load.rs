//! Loads what the report builders read, with indexed Queries only (no scans):
//!
//! - the organisation (`GetItem ORG#<org>`), its clinics and accounts (`gsi1 ORG#<org>#CLINICS`,
//!   `gsi1 ORG#<org>#ACCOUNTS`);
//! - the segments that started in the period: `gsi2 ORG#<org>#SEGMENTS` (or, for one clinic,
//!   `gsi1 CLINIC#<clinic>#SEGMENTS`) between the period's UTC bounds;
//!   each segment item carries its participants and its session's waiting-area entry (copied
//!   there by ingest), so nothing is read per session.

use super::consultations::{ConsultationInput, SegmentView};
use super::ReportScope;
use crate::ports::store::{query_all, query_all_lazy};
use crate::ports::{Index, Item, LazyItem, Query, SkRange, Store, StoreError};
use crate::readmodels::{keys, lists, sort_time, Account, Clinic, Organisation, Segment};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

fn decode_all<T: serde::de::DeserializeOwned>(items: &[Item]) -> Result<Vec<T>, StoreError> {
    items.iter().map(Item::decode).collect()
}

/// The organisation's read model (empty name when it is not stored).
pub async fn organisation(store: &dyn Store, org_id: &str) -> Result<Organisation, StoreError> {
    match store.get(&keys::organisation(org_id)).await? {
        Some(item) => item.decode(),
        None => Ok(Organisation {
            org_id: org_id.to_string(),
            ..Organisation::default()
        }),
    }
}

/// The organisation's clinics by id.
pub async fn clinics(
    store: &dyn Store,
    org_id: &str,
) -> Result<HashMap<String, Clinic>, StoreError> {
    let items = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::org_clinics(org_id)),
    )
    .await?;
    Ok(decode_all::<Clinic>(&items)?
        .into_iter()
        .map(|c| (c.clinic_id.clone(), c))
        .collect())
}

/// The organisation's accounts by id.
pub async fn accounts(
    store: &dyn Store,
    org_id: &str,
) -> Result<HashMap<String, Account>, StoreError> {
    let items = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::org_accounts(org_id)),
    )
    .await?;
    Ok(decode_all::<Account>(&items)?
        .into_iter()
        .map(|a| (a.account_id.clone(), a))
        .collect())
}

/// The lookups of the Consultations rows: the organisation, its clinics and accounts (no
/// segments).
async fn lookups(store: &dyn Store, org_id: &str) -> Result<ConsultationInput, StoreError> {
    Ok(ConsultationInput {
        organisation: organisation(store, org_id).await?,
        clinics: clinics(store, org_id).await?,
        accounts: accounts(store, org_id).await?,
        segments: Vec::new(),
    })
}

/// The segments of `scope` that started in `[start, end)`: the organisation's segment index,
/// or the clinic's.
fn segment_query(scope: &ReportScope, start: DateTime<Utc>, end: DateTime<Utc>) -> Query {
    let range = SkRange::Between(sort_time(start), sort_time(end));
    match scope.clinic_id() {
        Some(clinic) => Query::partition(Index::Gsi1, lists::clinic_segments(clinic)),
        None => Query::partition(Index::Gsi2, lists::org_segments(scope.org_id())),
    }
    .range(range)
}

/// What the Consultations report reads for `scope` and the period `[start, end)`.
pub async fn consultation_input(
    store: &dyn Store,
    scope: &ReportScope,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<ConsultationInput, StoreError> {
    let segments = query_all_lazy(store, &segment_query(scope, start, end))
        .await?
        .iter()
        .map(LazyItem::decode::<Segment>)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ConsultationInput {
        segments,
        ..lookups(store, scope.org_id()).await?
    })
}

/// Segments read per page when the Consultations report is streamed.
pub const STREAM_PAGE: usize = 500;

/// Streams the Consultations rows of `scope` and `[start, end)` page by page: one page of the
/// segment index (`page_size` segments), their rows sent as one batch (a segment item holds
/// everything its rows show). Memory holds one page, whatever the period's size; the rows equal
/// [`super::consultations::build_rows`] on the whole period. Stops early (without error) when
/// the receiver is gone.
pub async fn stream_consultation_rows(
    store: &dyn Store,
    scope: &ReportScope,
    filter: &super::consultations::ConsultationFilter,
    page_size: usize,
    sink: &tokio::sync::mpsc::Sender<Vec<Vec<crate::export::cells::Cell>>>,
) -> Result<(), StoreError> {
    stream_consultation_rows_with(store, scope, filter, page_size, |rows| rows, sink).await
}

/// [`stream_consultation_rows`] with each batch passed through `prepare` before it is sent
/// (the XLSX export converts its cells there, on the reading side).
pub async fn stream_consultation_rows_with<T: Send>(
    store: &dyn Store,
    scope: &ReportScope,
    filter: &super::consultations::ConsultationFilter,
    page_size: usize,
    mut prepare: impl FnMut(Vec<Vec<crate::export::cells::Cell>>) -> T + Send,
    sink: &tokio::sync::mpsc::Sender<T>,
) -> Result<(), StoreError> {
    let lookups = lookups(store, scope.org_id()).await?;
    let mut query = segment_query(scope, filter.start, filter.end).limit(page_size.max(1));
    loop {
        let page = store.query_lazy(&query).await?;
        // Each item decoded as a borrowing view and made into rows at once (about two rows
        // an item).
        let mut batch = Vec::with_capacity(page.items.len() * 2);
        for item in &page.items {
            let seg: SegmentView = item.decode()?;
            super::consultations::view_rows(&lookups, &seg, filter, &mut batch);
        }
        if !batch.is_empty() && sink.send(prepare(batch)).await.is_err() {
            return Ok(());
        }
        match page.next {
            Some(c) => query.after = Some(c),
            None => return Ok(()),
        }
    }
}

/// The Consultations rows of `scope` and the filter's period as CSV, into `csv` (SPEC Q2, Q4):
/// the segment index read page by page on this task, and each page's items decoded, made into
/// rows and formatted on the stream's worker threads (one page per core at once), the pages in
/// order. The rows equal [`stream_consultation_rows`]'s; memory holds a few pages.
pub async fn stream_consultation_csv(
    store: &dyn Store,
    scope: &ReportScope,
    filter: &super::consultations::ConsultationFilter,
    page_size: usize,
    csv: &mut crate::export::csv::CsvStream,
) -> Result<(), CsvExportError> {
    let lookups = std::sync::Arc::new(lookups(store, scope.org_id()).await?);
    let mut query = segment_query(scope, filter.start, filter.end).limit(page_size.max(1));
    loop {
        let page = store.query_lazy(&query).await?;
        let lookups = std::sync::Arc::clone(&lookups);
        let filter = filter.clone();
        csv.write_chunk(move |chunk| {
            let mut rows = Vec::with_capacity(4);
            for item in &page.items {
                let seg: SegmentView = item.decode().map_err(|e| e.to_string())?;
                super::consultations::view_rows(&lookups, &seg, &filter, &mut rows);
                for row in rows.drain(..) {
                    chunk.write_row(&row).map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        })
        .await?;
        match page.next {
            Some(c) => query.after = Some(c),
            None => return Ok(()),
        }
    }
}

/// Why [`stream_consultation_csv`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum CsvExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] crate::ports::BlobError),
}
