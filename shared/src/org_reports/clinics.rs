//! The Clinic report (SPEC C5): one row per clinic (waiting area) in scope, by name — members,
//! members who consulted, new members, consultations and their time in the period, the last
//! consultation, and the clinic's state, specialty and contract.

use super::data::{exists_in, within, ReportData};
use crate::events::types::WaitingAreaStatus;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;
use std::collections::BTreeSet;

/// The columns, in order.
pub const FIELDS: &[FieldDescription] = &[
    FieldDescription {
        name: "Organisation",
        meaning: "Organisation name",
        unit: "",
    },
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

/// The report's rows.
pub fn build_rows(data: &ReportData) -> Vec<Vec<Cell>> {
    let (start, end) = (data.start, data.end);
    let wa = data.waiting_area();
    data.clinics
        .iter()
        .map(|c| {
            let members: Vec<_> = data
                .memberships
                .iter()
                .filter(|m| m.clinic_id == c.clinic_id)
                .collect();
            let mine: Vec<_> = wa
                .consultations
                .iter()
                .filter(|f| f.clinic_id == c.clinic_id)
                .collect();
            let hosts: BTreeSet<&str> = mine
                .iter()
                .flat_map(|f| f.hosts.keys().map(String::as_str))
                .collect();
            let consulted = members
                .iter()
                .filter(|m| hosts.contains(m.account_id.as_str()))
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
                Cell::Int(mine.len() as i64),
                Cell::Seconds(mine.iter().map(|f| f.seconds).sum()),
                Cell::Int(wa.abandoned.get(&c.clinic_id).copied().unwrap_or(0) as i64),
                Cell::text(c.state.clone()),
                Cell::text(c.specialty.clone()),
                Cell::text(c.contract.clone()),
            ]
        })
        .collect()
}
