//! The Organisation report (SPEC C4): one row for the organisation (limited to one clinic's
//! figures on a clinic-level request) — accounts, waiting areas, providers, consultations and
//! meeting rooms of the period, with the organisation's state, specialty and contract.

use super::data::{call_span, exists_in, within, ReportData};
use super::stats::PeriodFigures;
use crate::events::types::RoomType;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;
use std::collections::BTreeSet;

/// The columns, in order.
pub const FIELDS: &[FieldDescription] = &[
    FieldDescription { name: "Organisation", meaning: "Organisation name", unit: "" },
    FieldDescription { name: "Created", meaning: "When the organisation was created", unit: "date-time in the report's time zone" },
    FieldDescription { name: "Deleted", meaning: "When the organisation was deleted, if it was", unit: "date-time in the report's time zone" },
    FieldDescription { name: "User accounts", meaning: "Account holders existing in the period", unit: "count" },
    FieldDescription { name: "Waiting areas", meaning: "Clinics (waiting areas) existing in the period", unit: "count" },
    FieldDescription { name: "New waiting areas", meaning: "Clinics created in the period", unit: "count" },
    FieldDescription { name: "Deleted waiting areas", meaning: "Clinics deleted in the period", unit: "count" },
    FieldDescription { name: "Service providers", meaning: "Account holders existing in the period", unit: "count" },
    FieldDescription { name: "Providers who consulted", meaning: "Account holders who hosted a consultation in the period", unit: "count" },
    FieldDescription { name: "Consultations", meaning: "Waiting-area consultations (answered segments at least the minimum duration) in the period", unit: "count" },
    FieldDescription { name: "Consultation time", meaning: "Total time of those consultations (first host join to segment end)", unit: "duration [h]:mm:ss" },
    FieldDescription { name: "Meeting rooms", meaning: "Meeting rooms existing in the period", unit: "count" },
    FieldDescription { name: "Rooms created", meaning: "Meeting, user and group rooms created in the period", unit: "count" },
    FieldDescription { name: "Rooms deleted", meaning: "Meeting, user and group rooms deleted in the period", unit: "count" },
    FieldDescription { name: "Room calls", meaning: "Calls in meeting, user and group rooms in the period", unit: "count" },
    FieldDescription { name: "Room call time", meaning: "Total time of those calls (first join to last leave)", unit: "duration [h]:mm:ss" },
    FieldDescription { name: "State", meaning: "Set when the organisation was created", unit: "" },
    FieldDescription { name: "Specialty", meaning: "Set when the organisation was created", unit: "" },
    FieldDescription { name: "Contract", meaning: "Set when the organisation was created", unit: "" },
];

/// The figures of the row (also the Organisations tile).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrganisationFigures {
    pub user_accounts: i64,
    pub waiting_areas: i64,
    pub new_waiting_areas: i64,
    pub deleted_waiting_areas: i64,
    pub providers: i64,
    pub providers_consulted: i64,
    pub consultations: i64,
    pub consultation_seconds: i64,
    pub meeting_rooms: i64,
    pub rooms_created: i64,
    pub rooms_deleted: i64,
    pub room_calls: i64,
    pub room_call_seconds: i64,
}

/// Computes the figures from the raw lists of `data` (every segment and room-call participant
/// of the period): the oracle of [`figures_from`].
pub fn figures(data: &ReportData) -> OrganisationFigures {
    let wa = data.waiting_area();
    let consulted: BTreeSet<&str> = wa
        .consultations
        .iter()
        .flat_map(|c| c.hosts.keys().map(String::as_str))
        .collect();
    let calls = data.calls();
    OrganisationFigures {
        providers_consulted: consulted.len() as i64,
        consultations: wa.consultations.len() as i64,
        consultation_seconds: wa.consultations.iter().map(|c| c.seconds).sum(),
        room_calls: calls.len() as i64,
        room_call_seconds: calls.iter().filter_map(|(_, ps)| call_span(ps).2).sum(),
        ..size_figures(data)
    }
}

/// Computes the figures with the period's activity from `period` (the statistics items, issue
/// 8) and the organisation's size from `data` (its period lists are not used).
pub fn figures_from(data: &ReportData, period: &PeriodFigures) -> OrganisationFigures {
    OrganisationFigures {
        providers_consulted: period.hosts.len() as i64,
        consultations: period.consultations,
        consultation_seconds: period.consultation_seconds,
        room_calls: period.room_calls,
        room_call_seconds: period.room_call_seconds,
        ..size_figures(data)
    }
}

/// The figures of the organisation's size (accounts, clinics, rooms existing, created or
/// deleted in the period); the activity figures zero.
fn size_figures(data: &ReportData) -> OrganisationFigures {
    let (start, end) = (data.start, data.end);
    let providers = data
        .providers()
        .into_iter()
        .filter(|a| exists_in(Some(a.created_at), a.deactivated_at, start, end))
        .count() as i64;
    OrganisationFigures {
        user_accounts: providers,
        waiting_areas: data
            .clinics
            .iter()
            .filter(|c| exists_in(Some(c.created_at), c.deleted_at, start, end))
            .count() as i64,
        new_waiting_areas: data
            .clinics
            .iter()
            .filter(|c| within(Some(c.created_at), start, end))
            .count() as i64,
        deleted_waiting_areas: data
            .clinics
            .iter()
            .filter(|c| within(c.deleted_at, start, end))
            .count() as i64,
        providers,
        meeting_rooms: data
            .rooms
            .iter()
            .filter(|r| r.room_type == RoomType::Meeting)
            .filter(|r| exists_in(Some(r.created_at), r.deleted_at, start, end))
            .count() as i64,
        rooms_created: data
            .rooms
            .iter()
            .filter(|r| within(Some(r.created_at), start, end))
            .count() as i64,
        rooms_deleted: data
            .rooms
            .iter()
            .filter(|r| within(r.deleted_at, start, end))
            .count() as i64,
        ..OrganisationFigures::default()
    }
}

/// The report's one row from the raw lists of `data` (the oracle of [`build_rows_from`]).
pub fn build_rows(data: &ReportData) -> Vec<Vec<Cell>> {
    rows(data, figures(data))
}

/// The report's one row: the organisation's size from `data`, the period's activity from
/// `period` ([`super::tiles::load_period`]: the statistics items at a constant number of
/// reads). Equal, cell for cell, to [`build_rows`] on the raw lists.
pub fn build_rows_from(data: &ReportData, period: &PeriodFigures) -> Vec<Vec<Cell>> {
    rows(data, figures_from(data, period))
}

fn rows(data: &ReportData, f: OrganisationFigures) -> Vec<Vec<Cell>> {
    let o = &data.organisation;
    vec![vec![
        Cell::text(o.name.clone()),
        Cell::opt_time(o.created_at),
        Cell::opt_time(o.deleted_at),
        Cell::Int(f.user_accounts),
        Cell::Int(f.waiting_areas),
        Cell::Int(f.new_waiting_areas),
        Cell::Int(f.deleted_waiting_areas),
        Cell::Int(f.providers),
        Cell::Int(f.providers_consulted),
        Cell::Int(f.consultations),
        Cell::Seconds(f.consultation_seconds),
        Cell::Int(f.meeting_rooms),
        Cell::Int(f.rooms_created),
        Cell::Int(f.rooms_deleted),
        Cell::Int(f.room_calls),
        Cell::Seconds(f.room_call_seconds),
        Cell::text(o.state.clone()),
        Cell::text(o.specialty.clone()),
        Cell::text(o.contract.clone()),
    ]]
}
