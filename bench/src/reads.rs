//! Read efficiency of the organisation reports (SPEC Q4 item 4): the store items each report
//! reads per row it outputs, and what the summary tiles read, counted by a store wrapper that
//! adds up the `read` of every page and one per `GetItem` (the same count the admin pages
//! return in `x-items-read`).

use async_trait::async_trait;
use shared::org_reports::config::ReportConfig;
use shared::org_reports::data::load_report_data;
use shared::org_reports::download::{build_report, ReportType};
use shared::org_reports::params::ReportParams;
use shared::org_reports::ReportScope;
use shared::ports::{Condition, Item, Key, LazyPage, Page, Query, Store, StoreError, TxOp};
use std::sync::atomic::{AtomicU64, Ordering};

/// A store that counts the items its reads touched.
pub struct Counting<'a> {
    inner: &'a dyn Store,
    read: AtomicU64,
}

impl<'a> Counting<'a> {
    pub fn new(inner: &'a dyn Store) -> Self {
        Self {
            inner,
            read: AtomicU64::new(0),
        }
    }

    /// Items read since the last call.
    pub fn take(&self) -> u64 {
        self.read.swap(0, Ordering::Relaxed)
    }

    fn add(&self, n: usize) {
        self.read.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[async_trait]
impl Store for Counting<'_> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.add(1);
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.inner.transact(ops).await
    }

    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError> {
        self.inner.add(key, delta).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let page = self.inner.query(query).await?;
        self.add(page.read);
        Ok(page)
    }

    async fn query_lazy(&self, query: &Query) -> Result<LazyPage, StoreError> {
        let page = self.inner.query_lazy(query).await?;
        self.add(page.read);
        Ok(page)
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.inner.put_many(items).await
    }
}

/// What one report read.
#[derive(Debug, Clone)]
pub struct ReportReads {
    pub report: &'static str,
    pub rows: u64,
    pub read: u64,
}

impl ReportReads {
    pub fn per_row(&self) -> f64 {
        self.read as f64 / self.rows.max(1) as f64
    }
}

/// Every report type built whole (as the download builds it) on `store`, and the tiles.
pub async fn measure(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
    config: &ReportConfig,
) -> Result<(Vec<ReportReads>, u64), String> {
    let counting = Counting::new(store);
    let mut out = Vec::new();
    for report in ReportType::ALL {
        counting.take();
        let rows = build_report(&counting, scope, report, params, config)
            .await
            .map_err(|e| format!("{}: {e}", report.as_str()))?;
        out.push(ReportReads {
            report: report.as_str(),
            rows: rows.len() as u64,
            read: counting.take(),
        });
    }
    load_report_data(&counting, scope, params)
        .await
        .map_err(|e| format!("tiles: {e}"))?;
    let tiles = counting.take();
    Ok((out, tiles))
}
