//! The Service providers report (SPEC C7): one row per account holder per clinic membership in
//! scope (an account holder of the organisation without a membership shows once, clinic
//! empty) — email, name, clinic, role there, consultations hosted there in the period and their
//! attendance, last consultation and last login before the period's end, and when access to
//! the clinic was granted.
//!
//! Built from the organisation's size, each clinic's statistics items (per host
//! account: the consultations it hosted by their seconds and its attendance in them, so that
//! the minimum duration applies) and two items per account (last login, last consultation)
//! — [`load_rows`], the same number of reads at any activity; [`build_rows`] on the raw lists
//! (every segment of the period) is its oracle.

use super::clinics::{load_with_figures, raw_clinic_figures};
use super::data::{last_activity, ReportData};
use super::params::ReportParams;
use super::stats::PeriodFigures;
use super::ReportScope;
use crate::events::types::ClinicRole;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;
use crate::ports::{Store, StoreError};
use std::collections::HashMap;

/// The columns, in order.
pub const FIELDS: &[FieldDescription] = &[
    super::ORGANISATION_FIELD,
    FieldDescription {
        name: "Email",
        meaning: "The account holder's email",
        unit: "",
    },
    FieldDescription {
        name: "Name",
        meaning: "The account holder's name",
        unit: "",
    },
    FieldDescription {
        name: "Clinic",
        meaning: "A clinic the account holder belongs to",
        unit: "",
    },
    FieldDescription {
        name: "Role in clinic",
        meaning: "admin, coordinator, reporter, provider or receptionist",
        unit: "",
    },
    FieldDescription {
        name: "Consultations",
        meaning: "Consultations the account holder hosted in this clinic in the period",
        unit: "count",
    },
    FieldDescription {
        name: "Consultation time",
        meaning: "The account holder's attendance in those consultations",
        unit: "duration [h]:mm:ss",
    },
    FieldDescription {
        name: "Last consultation",
        meaning: "When the account holder last joined a call as host, before the end of the period",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Last login",
        meaning: "Last login to the platform before the end of the period",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Access granted",
        meaning: "When the membership of the clinic was granted",
        unit: "date-time in the report's time zone",
    },
];

/// The clinic role as shown.
pub fn role_text(r: ClinicRole) -> &'static str {
    match r {
        ClinicRole::Admin => "admin",
        ClinicRole::Coordinator => "coordinator",
        ClinicRole::Reporter => "reporter",
        ClinicRole::Provider => "provider",
        ClinicRole::Receptionist => "receptionist",
    }
}

/// The report's rows from the raw lists of `data` (the oracle of [`load_rows`]).
pub fn build_rows(data: &ReportData) -> Vec<Vec<Cell>> {
    build_rows_from(data, &raw_clinic_figures(data))
}

/// Loads what the report reads and builds its rows: the organisation's size and each clinic's
/// statistics items ([`load_with_figures`]: the tiles' keys of the period per clinic in
/// scope) and each account's last login and last consultation ([`last_activity`]). A period
/// whose bounds are not on UTC quarter hours reads the raw lists. Rows equal [`build_rows`] on
/// the raw lists, cell for cell.
pub async fn load_rows(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let (mut data, figures) = load_with_figures(store, scope, params).await?;
    if figures.from_statistics {
        (data.last_login, data.last_hosted) =
            last_activity(store, data.accounts.keys(), data.end).await?;
    }
    Ok(build_rows_from(&data, &figures.by_clinic))
}

/// The report's rows: account holders by name, their memberships by clinic name; per
/// membership the consultations its account hosted in that clinic and its attendance, from
/// `figures` (by clinic id, [`PeriodFigures::hosted`]).
pub fn build_rows_from(
    data: &ReportData,
    figures: &HashMap<String, PeriodFigures>,
) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for account in data.providers() {
        let head = [
            Cell::text(data.organisation.name.clone()),
            Cell::text(account.email.clone()),
            Cell::text(account.name.clone()),
        ];
        let last_consultation = Cell::opt_time(data.last_hosted.get(&account.account_id).copied());
        let last_login = Cell::opt_time(data.last_login.get(&account.account_id).copied());
        let mut memberships: Vec<_> = data
            .memberships
            .iter()
            .filter(|m| m.account_id == account.account_id)
            .filter_map(|m| data.all_clinics.get(&m.clinic_id).map(|c| (c, m)))
            .collect();
        memberships.sort_by(|a, b| (&a.0.name, &a.0.clinic_id).cmp(&(&b.0.name, &b.0.clinic_id)));
        if memberships.is_empty() {
            let mut row = head.to_vec();
            row.extend([
                Cell::Empty,
                Cell::Empty,
                Cell::Int(0),
                Cell::Seconds(0),
                last_consultation.clone(),
                last_login.clone(),
                Cell::Empty,
            ]);
            rows.push(row);
            continue;
        }
        for (clinic, m) in memberships {
            let [hosted, attended] = figures
                .get(&clinic.clinic_id)
                .and_then(|f| f.hosted.get(&account.account_id))
                .copied()
                .unwrap_or_default();
            let mut row = head.to_vec();
            row.extend([
                Cell::text(clinic.name.clone()),
                Cell::text(role_text(m.clinic_role)),
                Cell::Int(hosted),
                Cell::Seconds(attended),
                last_consultation.clone(),
                last_login.clone(),
                Cell::Time(m.granted_at),
            ]);
            rows.push(row);
        }
    }
    rows
}
