//! A9 Vouchers: every voucher code in code order, with times used (the `uses` total ingest
//! keeps on the voucher item: one per distinct redemption), usage limit and expiry; search `q`
//! on the code (case-insensitive). Query: `gsi1`, `gsi1pk = VOUCHERS`; a row is its item.

use super::params::ListParams;
use super::tab::{Reader, Tab};
use crate::export::cells::Cell;
use crate::ports::{Index, LazyItem, Query, StoreError};
use crate::readmodels::{fold_name, lists, Voucher};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One voucher row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherRow {
    pub code: String,
    pub times_used: i64,
    pub usage_limit: Option<u32>,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub created_at: Option<DateTime<Utc>>,
}

/// The Vouchers tab.
#[derive(Debug, Clone, Default)]
pub struct VouchersTab;

#[async_trait]
impl Tab for VouchersTab {
    type Row = VoucherRow;

    fn name(&self) -> &'static str {
        "vouchers"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "code",
            "times_used",
            "usage_limit",
            "expires_at",
            "created_at",
        ]
    }

    fn cells(&self, r: &VoucherRow) -> Vec<Vec<Cell>> {
        vec![vec![
            Cell::text(&r.code),
            Cell::Int(r.times_used),
            r.usage_limit
                .map_or(Cell::Empty, |n| Cell::Int(i64::from(n))),
            Cell::opt_time(r.expires_at),
            Cell::opt_time(r.created_at),
        ]]
    }

    fn query(&self, _params: &ListParams) -> Query {
        Query::partition(Index::Gsi1, lists::VOUCHERS)
    }

    async fn row(
        &self,
        _reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<VoucherRow>, StoreError> {
        let v: Voucher = item.decode()?;
        if let Some(q) = &params.q {
            if !fold_name(&v.code).contains(q.as_str()) {
                return Ok(None);
            }
        }
        Ok(Some(VoucherRow {
            times_used: v.totals.get("uses").copied().unwrap_or(0),
            code: v.code,
            usage_limit: v.usage_limit,
            expires_at: v.expires_at,
            created_at: v.created_at,
        }))
    }
}
