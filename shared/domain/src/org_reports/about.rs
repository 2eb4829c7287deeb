//! The "About this report" sheet of a workbook (SPEC C12): what the report is, whose, over
//! which period, in which zone, with which minimum, when it was made and by whom, and from
//! which configuration version. The writer adds the row count
//! ([`crate::export::xlsx::ROWS_LABEL`]).

use super::config::ReportConfig;
use super::download::ReportType;
use super::params::ReportParams;
use super::ReportScope;
use crate::ports::{Store, StoreError};
use crate::readmodels::{keys, Clinic};
use crate::time::ZoneOffsets;
use chrono::{DateTime, Utc};

/// The report's name as the workbook shows it.
pub fn title(report_type: ReportType) -> &'static str {
    match report_type {
        ReportType::Organisation => "Organisation",
        ReportType::Clinics => "Clinics",
        ReportType::RoomCalls => "Meeting and user room calls",
        ReportType::ServiceProviders => "Service providers",
        ReportType::ServiceProviderSummary => "Service provider summary",
        ReportType::Consultations => "Consultations",
    }
}

/// `t` in `zone` with its offset: `2026-04-05 02:30:00 +10:00`.
pub fn local_with_offset(t: &DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let mut offsets = ZoneOffsets::new(zone);
    let offset = offsets.offset(t);
    let local = offsets.local(t);
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    format!(
        "{} {sign}{:02}:{:02}",
        local.format("%Y-%m-%d %H:%M:%S"),
        minutes / 60,
        minutes % 60
    )
}

/// Who asked for the report.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The account id (the token's `sub`).
    pub account_id: &'a str,
    pub at: DateTime<Utc>,
}

/// The About sheet's lines, in order (two reads: the organisation or clinic, and the
/// organisation's account names).
pub async fn about_lines(
    store: &dyn Store,
    scope: &ReportScope,
    report_type: ReportType,
    params: &ReportParams,
    config: &ReportConfig,
    requester: Requester<'_>,
) -> Result<Vec<(String, String)>, StoreError> {
    let org_id = scope.org_id();
    let mut lines = vec![("Report".to_string(), title(report_type).to_string())];
    match scope.clinic_id() {
        None => {
            let org = super::load::organisation(store, org_id).await?;
            lines.push(("Organisation".into(), name_or_id(org.name, org_id)));
        }
        Some(clinic_id) => {
            let name = match store.get(&keys::clinic(clinic_id)).await? {
                Some(item) => item.decode::<Clinic>()?.name,
                None => String::new(),
            };
            lines.push(("Clinic".into(), name_or_id(name, clinic_id)));
        }
    }
    let requested_by = super::data::account_names(store, org_id, [requester.account_id])
        .await?
        .remove(requester.account_id);
    lines.extend([
        (
            "Period".into(),
            format!("{} to {} (whole local days)", params.from, params.to),
        ),
        ("Time zone".into(), params.zone.name().to_string()),
        (
            "Minimum duration".into(),
            format!("{} seconds", params.min_duration_seconds),
        ),
        (
            "Generated at".into(),
            local_with_offset(&requester.at, params.zone),
        ),
        (
            "Requested by".into(),
            name_or_id(requested_by.unwrap_or_default(), requester.account_id),
        ),
        ("Configuration version".into(), config.version.to_string()),
    ]);
    Ok(lines)
}

/// A name, or the id when the name is not known.
fn name_or_id(name: String, id: &str) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        name
    }
}
