//! Read efficiency of the organisation reports (SPEC Q4 item 4): the store items each report
//! reads per row it outputs, and what the summary tiles read, counted by a store wrapper that
//! adds up the `read` of every page and one per `GetItem` (the same count the admin pages
//! return in `x-items-read`). The tiles are measured as the summary endpoint loads them
//! (`load_tiles`: the organisation's size and the statistics items of each bucket of the
//! period, a whole day's 8 shards included); the reports built from the same statistics
//! (`ReportType::from_statistics`: Organisation and Service provider summary read what the
//! tiles read; Clinics each clinic's statistics items and a bounded look back; Service
//! providers each clinic's statistics items and two items per account) read the same at any
//! volume.

use domain::org_reports::config::ReportConfig;
use domain::org_reports::download::{build_report, ReportType};
use domain::org_reports::params::ReportParams;
use domain::org_reports::tiles::load_tiles;
use domain::org_reports::ReportScope;
use domain::ports::{CountingStore, Store};

/// What one report read.
#[derive(Debug, Clone)]
pub struct ReportReads {
    pub report: &'static str,
    pub rows: u64,
    pub read: u64,
    /// Built from the organisation's size and the period's statistics items: its reads do
    /// not grow with the period's activity (compare two volumes), whatever its rows.
    pub from_statistics: bool,
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
    let counting = CountingStore::new(store);
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
            from_statistics: report.from_statistics(),
        });
    }
    // The summary endpoint's own read: the organisation's size and the statistics items of
    // the period, not the raw lists.
    counting.take();
    load_tiles(&counting, scope, params)
        .await
        .map_err(|e| format!("tiles: {e}"))?;
    let tiles = counting.take();
    Ok((out, tiles))
}
