//! The Clinic report (SPEC C5): one row per clinic (waiting area) in scope, by name — members,
//! members who consulted, new members, consultations and their time in the period, the last
//! consultation, and the clinic's state, specialty and contract.

use super::data::{
    exists_in, last_consultations, load_entities, load_report_data, within, ReportData,
};
use super::params::ReportParams;
use super::stats::{self, PeriodFigures};
use super::ReportScope;
use crate::events::types::WaitingAreaStatus;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;
use crate::ports::{Store, StoreError};
use std::collections::HashMap;

/// The columns, in order.
pub const FIELDS: &[FieldDescription] = &[
    super::ORGANISATION_FIELD,
    FieldDescription {
        name: "Clinic",
        meaning: "Clinic name",
        unit: "",
    },
    FieldDescription {
        name: "Subdomain",
        meaning: "The clinic's subdomain",
        unit: "",
    },
    FieldDescription {
        name: "Waiting-area status",
        meaning: "open, closed or disabled",
        unit: "",
    },
    FieldDescription {
        name: "Created",
        meaning: "When the clinic was created",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Deleted",
        meaning: "When the clinic was deleted, if it was",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Last consultation",
        meaning: "Start of the clinic's last answered call before the end of the period",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Members",
        meaning: "Memberships existing in the period",
        unit: "count",
    },
    FieldDescription {
        name: "Members who consulted",
        meaning: "Members who hosted a consultation here in the period",
        unit: "count",
    },
    FieldDescription {
        name: "New members",
        meaning: "Memberships granted in the period",
        unit: "count",
    },
    FieldDescription {
        name: "Waiting-area consultations",
        meaning: "Consultations (answered segments at least the minimum duration) in the period",
        unit: "count",
    },
    FieldDescription {
        name: "Consultation time",
        meaning: "Total time of those consultations (first host join to segment end)",
        unit: "duration [h]:mm:ss",
    },
    FieldDescription {
        name: "Abandoned calls",
        meaning: "Callers who left before any host joined, in the period",
        unit: "count",
    },
    FieldDescription {
        name: "State",
        meaning: "Set when the clinic was created",
        unit: "",
    },
    FieldDescription {
        name: "Specialty",
        meaning: "Set when the clinic was created",
        unit: "",
    },
    FieldDescription {
        name: "Contract",
        meaning: "Set when the clinic was created",
        unit: "",
    },
];

/// The waiting-area status as shown.
pub fn status_text(s: WaitingAreaStatus) -> &'static str {
    match s {
        WaitingAreaStatus::Open => "open",
        WaitingAreaStatus::Closed => "closed",
        WaitingAreaStatus::Disabled => "disabled",
    }
}

/// Each clinic's waiting-area figures of the period (consultations, their seconds, abandoned
/// calls, the accounts that hosted them and their attendance) from the raw lists of `data`:
/// the oracle of the statistics items' [`stats::read_clinic_figures`].
pub fn raw_clinic_figures(data: &ReportData) -> HashMap<String, PeriodFigures> {
    let wa = data.waiting_area();
    let mut out: HashMap<String, PeriodFigures> = HashMap::new();
    for f in &wa.consultations {
        let e = out.entry(f.clinic_id.clone()).or_default();
        e.consultations += 1;
        e.consultation_seconds += f.seconds;
        e.hosts.extend(f.hosts.keys().cloned());
    }
    for (clinic, n) in &wa.abandoned {
        out.entry(clinic.clone()).or_default().abandoned += *n as i64;
    }
    for (clinic, f) in out.iter_mut() {
        f.hosted = wa.hosted(Some(clinic));
    }
    out
}

/// The report's rows from the raw lists of `data` (the oracle of [`build_rows_from`]).
pub fn build_rows(data: &ReportData) -> Vec<Vec<Cell>> {
    build_rows_from(data, &raw_clinic_figures(data))
}

/// Loads what the report reads and builds its rows, at a number of reads that does not grow
/// with the period's activity: the organisation's size ([`load_entities`]), each clinic's
/// statistics items ([`stats::read_clinic_figures`]: one item per bucket of the period and a
/// day's shards, per clinic in scope) and each clinic's last consultation
/// ([`last_consultations`], a bounded look back from the period's end, as the raw path reads
/// it: a latest time is not a sum, so the statistics, kept by difference, cannot hold it). A
/// period whose bounds are not on UTC quarter hours reads the raw lists
/// ([`load_report_data`]). Rows equal [`build_rows`] on the raw lists, cell for cell.
pub async fn load_rows(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let (mut data, figures) = load_with_figures(store, scope, params).await?;
    if figures.from_statistics {
        data.last_consultation = last_consultations(store, &data.clinics, data.end).await?;
    }
    Ok(build_rows_from(&data, &figures.by_clinic))
}

/// Each clinic in scope's period figures, by clinic id.
pub struct ClinicFigures {
    pub by_clinic: HashMap<String, PeriodFigures>,
    /// Read from the statistics items, beside the entities alone; `false` when the period's
    /// bounds are not on UTC quarter hours: then the report data are the raw lists, which
    /// hold everything the rows need, and the figures are counted from them.
    pub from_statistics: bool,
}

/// What a report by clinic starts from: the organisation's size ([`load_entities`]) and each
/// clinic's period figures from its statistics items ([`stats::read_clinic_figures`]), or,
/// when the period's bounds are not on UTC quarter hours, the raw lists
/// ([`load_report_data`]) and the figures counted from them ([`raw_clinic_figures`]).
pub async fn load_with_figures(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<(ReportData, ClinicFigures), StoreError> {
    let data = load_entities(store, scope, params).await?;
    let mut by_clinic = HashMap::new();
    for c in &data.clinics {
        let read = stats::read_clinic_figures(
            store,
            &c.clinic_id,
            data.start,
            data.end,
            data.min_duration_seconds,
        )
        .await?;
        let Some(f) = read else {
            let raw = load_report_data(store, scope, params).await?;
            let by_clinic = raw_clinic_figures(&raw);
            let figures = ClinicFigures {
                by_clinic,
                from_statistics: false,
            };
            return Ok((raw, figures));
        };
        by_clinic.insert(c.clinic_id.clone(), f);
    }
    let figures = ClinicFigures {
        by_clinic,
        from_statistics: true,
    };
    Ok((data, figures))
}

/// The report's rows: the clinics, their members and last consultation from `data`, each
/// clinic's period figures from `figures` (by clinic id; a clinic missing had none).
pub fn build_rows_from(
    data: &ReportData,
    figures: &HashMap<String, PeriodFigures>,
) -> Vec<Vec<Cell>> {
    let (start, end) = (data.start, data.end);
    let none = PeriodFigures::default();
    data.clinics
        .iter()
        .map(|c| {
            let f = figures.get(&c.clinic_id).unwrap_or(&none);
            let members: Vec<_> = data
                .memberships
                .iter()
                .filter(|m| m.clinic_id == c.clinic_id)
                .collect();
            let consulted = members
                .iter()
                .filter(|m| f.hosts.contains(&m.account_id))
                .count();
            vec![
                Cell::text(data.organisation.name.clone()),
                Cell::text(c.name.clone()),
                Cell::text(c.subdomain.clone()),
                Cell::text(status_text(c.waiting_area_status)),
                Cell::Time(c.created_at),
                Cell::opt_time(c.deleted_at),
                Cell::opt_time(data.last_consultation.get(&c.clinic_id).copied()),
                Cell::Int(
                    members
                        .iter()
                        .filter(|m| exists_in(Some(m.granted_at), m.revoked_at, start, end))
                        .count() as i64,
                ),
                Cell::Int(consulted as i64),
                Cell::Int(
                    members
                        .iter()
                        .filter(|m| within(Some(m.granted_at), start, end))
                        .count() as i64,
                ),
                Cell::Int(f.consultations),
                Cell::Seconds(f.consultation_seconds),
                Cell::Int(f.abandoned),
                Cell::text(c.state.clone()),
                Cell::text(c.specialty.clone()),
                Cell::text(c.contract.clone()),
            ]
        })
        .collect()
}
