//! The summary tiles (SPEC C2): three groups — Entities (Organisations, Clinics), Roles (Service
//! providers, Service provider summary), Activities (Meeting & user room calls, Waiting-area
//! consultations) — each with its headline figures and the report type behind it. Computed from
//! the same [`ReportData`] and figure functions as the workbooks, never by generating them.

use super::data::ReportData;
use super::organisation;
use super::params::ParamsRecord;
use super::provider_summary::{self, ProviderFigures};
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

/// Computes the tiles.
pub fn tiles(data: &ReportData, params: ParamsRecord) -> Tiles {
    let org = organisation::figures(data);
    let accounts = data.providers();
    let active = provider_summary::active_accounts(data);
    let abandoned: u64 = data.waiting_area().abandoned.values().sum();
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
                    providers_consulted: org.providers_consulted,
                },
            },
            service_provider_summary: Tile {
                report_type: "service-provider-summary",
                figures: provider_summary::figures(data, &accounts, &active),
            },
        },
        activities: Activities {
            room_calls: Tile {
                report_type: "room-calls",
                figures: RoomCallsTile {
                    calls: org.room_calls,
                    call_seconds: org.room_call_seconds,
                    participants: data.room_calls.len() as i64,
                },
            },
            consultations: Tile {
                report_type: "consultations",
                figures: ConsultationsTile {
                    consultations: org.consultations,
                    consultation_seconds: org.consultation_seconds,
                    abandoned_calls: abandoned as i64,
                },
            },
        },
    }
}
