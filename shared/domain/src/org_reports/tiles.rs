//! The summary tiles (SPEC C2): three groups — Entities (Organisations, Clinics), Roles (Service
//! providers, Service provider summary), Activities (Meeting & user room calls, Waiting-area
//! consultations) — each with its headline figures and the report type behind it. The
//! organisation's size comes from the same [`ReportData`] and figure functions as the
//! workbooks; the period's activity from the statistics items ([`load_tiles`]), equal
//! to what the raw lists give ([`tiles`], the oracle). Never by generating the workbooks.

use super::data::{load_entities, load_report_data, ReportData};
use super::organisation;
use super::params::ParamsRecord;
use super::params::ReportParams;
use super::provider_summary::{self, ProviderFigures};
use super::stats::{self, PeriodFigures};
use super::ReportScope;
use crate::ports::{Store, StoreError};
use serde::Serialize;

/// One tile: the report it leads to and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tile<T> {
    /// The path segment of the detailed report (`/reports/{report_type}/download`).
    pub report_type: &'static str,
    pub figures: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OrganisationsTile {
    pub organisations: i64,
    pub user_accounts: i64,
    pub waiting_areas: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClinicsTile {
    pub clinics: i64,
    pub new_clinics: i64,
    pub deleted_clinics: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProvidersTile {
    pub providers: i64,
    pub providers_consulted: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoomCallsTile {
    pub calls: i64,
    pub call_seconds: i64,
    pub participants: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConsultationsTile {
    pub consultations: i64,
    pub consultation_seconds: i64,
    pub abandoned_calls: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entities {
    pub organisations: Tile<OrganisationsTile>,
    pub clinics: Tile<ClinicsTile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roles {
    pub service_providers: Tile<ProvidersTile>,
    pub service_provider_summary: Tile<ProviderFigures>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activities {
    pub room_calls: Tile<RoomCallsTile>,
    pub consultations: Tile<ConsultationsTile>,
}

/// The three groups of tiles for one set of parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tiles {
    pub params: ParamsRecord,
    pub entities: Entities,
    pub roles: Roles,
    pub activities: Activities,
}

/// The period figures of the tiles from the raw lists of `data` (every segment, room-call
/// participant and login of the period): what the workbooks compute, and the oracle the
/// statistics items are tested against.
pub fn raw_period_figures(data: &ReportData) -> PeriodFigures {
    let org = organisation::figures(data);
    let wa = data.waiting_area();
    PeriodFigures {
        consultations: org.consultations,
        consultation_seconds: org.consultation_seconds,
        abandoned: wa.abandoned.values().sum::<u64>() as i64,
        hosts: provider_summary::active_accounts(data),
        hosted: wa.hosted(None),
        logged_in: data.logged_in.clone(),
        room_calls: org.room_calls,
        room_call_seconds: org.room_call_seconds,
        room_call_participants: data.room_calls.len() as i64,
    }
}

/// Computes the tiles from the raw lists of `data`: the oracle that [`load_tiles`] is held to.
pub fn tiles(data: &ReportData, params: ParamsRecord) -> Tiles {
    tiles_from(data, &raw_period_figures(data), params)
}

/// Loads the tiles of `scope` for `params` at a constant number of reads: the organisation's
/// size (organisation, clinics, accounts, rooms, memberships of the clinics in scope:
/// [`load_entities`]) and one statistics item per bucket of the period
/// ([`stats::read_period_figures`]), whatever the activity ([`load_period`]). A period whose
/// bounds are not on UTC quarter hours (historical zone offsets only) reads the raw lists
/// instead.
pub async fn load_tiles(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<Tiles, StoreError> {
    let (data, period) = load_period(store, scope, params).await?;
    Ok(tiles_from(&data, &period, params.record()))
}

/// What the tiles and the aggregate reports built from the period's figures (C4
/// [`organisation::build_rows_from`], C8 [`provider_summary::build_rows_from`]) read: the
/// organisation's size ([`load_entities`]: its period lists stay empty) and the period's
/// figures from the statistics items ([`stats::read_period_figures`], one item per bucket of the
/// period and a day's shards, in one batch), whatever the activity. A period whose bounds are not on UTC quarter hours
/// (historical zone offsets only) has no buckets: then the raw lists ([`load_report_data`])
/// and their figures ([`raw_period_figures`]).
pub async fn load_period(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<(ReportData, PeriodFigures), StoreError> {
    let data = load_entities(store, scope, params).await?;
    let rooms = data.rooms.iter().map(|r| r.room_id.clone()).collect();
    match stats::read_period_figures(
        store,
        scope,
        data.start,
        data.end,
        params.min_duration_seconds,
        &rooms,
    )
    .await?
    {
        Some(period) => Ok((data, period)),
        None => {
            let data = load_report_data(store, scope, params).await?;
            let period = raw_period_figures(&data);
            Ok((data, period))
        }
    }
}

/// Computes the tiles: the organisation's size from `data` (its period lists are not used),
/// the period's activity from `period`.
pub fn tiles_from(data: &ReportData, period: &PeriodFigures, params: ParamsRecord) -> Tiles {
    let org = organisation::figures_from(data, period);
    let accounts = data.providers();
    let summary = provider_summary::figures_with(data, &accounts, &period.hosts, &period.logged_in);
    Tiles {
        params,
        entities: Entities {
            organisations: Tile {
                report_type: "organisation",
                figures: OrganisationsTile {
                    organisations: 1,
                    user_accounts: org.user_accounts,
                    waiting_areas: org.waiting_areas,
                },
            },
            clinics: Tile {
                report_type: "clinics",
                figures: ClinicsTile {
                    clinics: org.waiting_areas,
                    new_clinics: org.new_waiting_areas,
                    deleted_clinics: org.deleted_waiting_areas,
                },
            },
        },
        roles: Roles {
            service_providers: Tile {
                report_type: "service-providers",
                figures: ProvidersTile {
                    providers: org.providers,
                    providers_consulted: period.hosts.len() as i64,
                },
            },
            service_provider_summary: Tile {
                report_type: "service-provider-summary",
                figures: summary,
            },
        },
        activities: Activities {
            room_calls: Tile {
                report_type: "room-calls",
                figures: RoomCallsTile {
                    calls: period.room_calls,
                    call_seconds: period.room_call_seconds,
                    participants: period.room_call_participants,
                },
            },
            consultations: Tile {
                report_type: "consultations",
                figures: ConsultationsTile {
                    consultations: period.consultations,
                    consultation_seconds: period.consultation_seconds,
                    abandoned_calls: period.abandoned,
                },
            },
        },
    }
}
