//! Report records and the 24-hour history (SPEC D1, D3).
//!
//! Keys: `pk = REPORT#<report id>`, `sk = REPORT`; `gsi1 = ORG#<org>#REPORTS / <requested at>#<id>`
//! (every report of the organisation, clinic-level ones included); `gsi2 =
//! CLINIC#<clinic>#REPORTS / <requested at>#<id>` (clinic-level reports only). `expires_at` is
//! the request time plus 24 hours (DynamoDB TTL); the API itself reads only the last 24 hours
//! (a Query from `now - 24h` on the sort key, and a check on each item), so an older entry is
//! gone from the view at once whatever TTL has deleted.

use super::params::ParamsRecord;
use super::ReportScope;
use crate::ports::store::query_all_lazy;
use crate::ports::{Index, Item, Key, Query, SkRange, Store, StoreError};
use crate::readmodels::sort_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long an entry stays in the history.
pub const HISTORY_WINDOW_HOURS: i64 = 24;

/// How a report was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Download,
    Email,
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    Queued,
    Running,
    Ready,
    Failed,
}

/// One generated (or requested) report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub report_id: String,
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic_id: Option<String>,
    pub report_type: String,
    pub params: ParamsRecord,
    /// Who asked (the caller's `sub`; an account id, never a name or email).
    pub requested_by: String,
    pub requested_role: String,
    #[serde(
        deserialize_with = "crate::time::de",
        serialize_with = "crate::time::ser"
    )]
    pub requested_at: DateTime<Utc>,
    pub delivery: Delivery,
    pub state: ReportState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    /// The blob key (stored only; the API shows a [`ReportView`] and presigned links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    /// File name offered on download.
    pub file_name: String,
    /// When the entry leaves the history (request time + 24 h).
    #[serde(
        deserialize_with = "crate::time::de",
        serialize_with = "crate::time::ser"
    )]
    pub expires_at: DateTime<Utc>,
}

/// A history entry as the API shows it: the record without its blob key (files are only
/// reached through presigned links).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportView {
    pub report_id: String,
    pub org_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clinic_id: Option<String>,
    pub report_type: String,
    pub params: ParamsRecord,
    pub requested_by: String,
    pub requested_role: String,
    #[serde(serialize_with = "crate::time::ser")]
    pub requested_at: DateTime<Utc>,
    pub delivery: Delivery,
    pub state: ReportState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    pub file_name: String,
    #[serde(serialize_with = "crate::time::ser")]
    pub expires_at: DateTime<Utc>,
}

/// The history's answer: `{"items": [...]}`, newest first (serialized straight from the
/// views, no JSON tree in between).
#[derive(Debug, Serialize)]
pub struct HistoryPage {
    pub items: Vec<ReportView>,
}

impl From<&ReportRecord> for ReportView {
    fn from(r: &ReportRecord) -> Self {
        Self {
            report_id: r.report_id.clone(),
            org_id: r.org_id.clone(),
            clinic_id: r.clinic_id.clone(),
            report_type: r.report_type.clone(),
            params: r.params.clone(),
            requested_by: r.requested_by.clone(),
            requested_role: r.requested_role.clone(),
            requested_at: r.requested_at,
            delivery: r.delivery,
            state: r.state,
            size_bytes: r.size_bytes,
            row_count: r.row_count,
            file_name: r.file_name.clone(),
            expires_at: r.expires_at,
        }
    }
}

/// The key of a report record.
pub fn report_key(report_id: &str) -> Key {
    Key::new(format!("REPORT#{report_id}"), "REPORT")
}

/// The index partition of an organisation's reports (gsi1).
pub fn org_reports_list(org_id: &str) -> String {
    format!("ORG#{org_id}#REPORTS")
}

/// The index partition of a clinic's reports (gsi2).
pub fn clinic_reports_list(clinic_id: &str) -> String {
    format!("CLINIC#{clinic_id}#REPORTS")
}

impl ReportRecord {
    /// The stored item (with its indexes and TTL).
    pub fn item(&self) -> Item {
        let key = report_key(&self.report_id);
        let sk = format!("{}#{}", sort_time(self.requested_at), self.report_id);
        let mut item = Item::new(
            key.pk,
            key.sk,
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        )
        .with_gsi1(org_reports_list(&self.org_id), sk.clone())
        .with_expiry(self.expires_at.timestamp());
        if let Some(clinic) = &self.clinic_id {
            item = item.with_gsi2(clinic_reports_list(clinic), sk);
        }
        item
    }

    /// Whether the entry is still in the history at `now`.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.requested_at > now - Duration::hours(HISTORY_WINDOW_HOURS) && self.expires_at > now
    }

    /// Whether `scope` may see this entry: the organisation sees all of its reports, a clinic
    /// its own clinic-level reports.
    pub fn visible_in(&self, scope: &ReportScope) -> bool {
        match scope {
            ReportScope::Org { org_id } => &self.org_id == org_id,
            ReportScope::Clinic { org_id, clinic_id } => {
                &self.org_id == org_id && self.clinic_id.as_deref() == Some(clinic_id)
            }
        }
    }
}

/// The history of `scope` at `now`, newest first.
pub async fn list_history(
    store: &dyn Store,
    scope: &ReportScope,
    now: DateTime<Utc>,
) -> Result<Vec<ReportRecord>, StoreError> {
    let query = match scope {
        ReportScope::Org { org_id } => Query::partition(Index::Gsi1, org_reports_list(org_id)),
        ReportScope::Clinic { clinic_id, .. } => {
            Query::partition(Index::Gsi2, clinic_reports_list(clinic_id))
        }
    }
    .range(SkRange::AtLeast(sort_time(
        now - Duration::hours(HISTORY_WINDOW_HOURS),
    )))
    .backward();
    // Decoded straight from the stored text (no JSON tree in between).
    let items = query_all_lazy(store, &query).await?;
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let record: ReportRecord = item.decode()?;
        if record.is_current(now) && record.visible_in(scope) {
            out.push(record);
        }
    }
    Ok(out)
}

/// One entry of `scope`'s history at `now` (None when missing, another scope's, or too old).
pub async fn find_current(
    store: &dyn Store,
    scope: &ReportScope,
    report_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<ReportRecord>, StoreError> {
    let Some(item) = store.get(&report_key(report_id)).await? else {
        return Ok(None);
    };
    let record: ReportRecord = item.decode()?;
    Ok((record.is_current(now) && record.visible_in(scope)).then_some(record))
}
