//! Organisation reports (SPEC C1–C10, D1, D3, D4): the report configuration, the report
//! parameters, the report builders (pure functions from read models to rows), the download that
//! writes a workbook to the blob store, and the 24-hour history.
//!
//! Flow: read models (loaded with indexed Queries in [`load`] and [`data`]) → builders
//! ([`organisation`] C4, [`clinics`] C5, [`room_calls`] C6, [`providers`] C7,
//! [`provider_summary`] C8, [`consultations`] C9; [`tiles`] C2) →
//! XLSX exporter ([`crate::export::xlsx`]) → blob store → history record + audit record (one
//! transaction) → presigned link.

pub mod about;
pub mod clinics;
pub mod config;
pub mod consultations;
pub mod data;
pub mod download;
pub mod email;
pub mod history;
pub mod load;
pub mod organisation;
pub mod params;
pub mod places;
pub mod provider_summary;
pub mod providers;
pub mod room_calls;
pub mod stats;
pub mod tiles;

use crate::auth::Role;
use crate::export::xlsx::FieldDescription;

/// The first column of every report but the Organisation report's, which is the organisation.
pub(crate) const ORGANISATION_FIELD: FieldDescription = FieldDescription {
    name: "Organisation",
    meaning: "Organisation name",
    unit: "",
};

/// Roles that read an organisation's reports, configuration and history.
pub const ORG_READERS: &[Role] = &[Role::OrgAdmin, Role::OrgCoordinator, Role::OrgReporter];
/// Roles that change the report configuration.
pub const CONFIG_WRITERS: &[Role] = &[Role::OrgAdmin];
/// Roles on the clinic-level routes (C10): clinic admins of that clinic, and the org roles of
/// its organisation.
pub const CLINIC_READERS: &[Role] = &[
    Role::ClinicAdmin,
    Role::OrgAdmin,
    Role::OrgCoordinator,
    Role::OrgReporter,
];

/// Where a report request is scoped: a whole organisation, or one clinic of it (C10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    Org { org_id: String },
    Clinic { org_id: String, clinic_id: String },
}

impl ReportScope {
    /// The organisation either way.
    pub fn org_id(&self) -> &str {
        match self {
            ReportScope::Org { org_id } | ReportScope::Clinic { org_id, .. } => org_id,
        }
    }

    /// The clinic, when the scope is one clinic.
    pub fn clinic_id(&self) -> Option<&str> {
        match self {
            ReportScope::Org { .. } => None,
            ReportScope::Clinic { clinic_id, .. } => Some(clinic_id),
        }
    }
}

/// What a report route names in its path: an organisation or one clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTarget<'a> {
    Org(&'a str),
    Clinic(&'a str),
}

/// Checks the caller's role and scope for a report route and names the scope: an organisation
/// (which must exist), or a clinic and its organisation. Another tenant's id answers not
/// found, the same as an id that does not exist.
pub async fn authorise(
    store: &dyn crate::ports::Store,
    caller: Option<&crate::auth::Principal>,
    target: ReportTarget<'_>,
    org_roles: &[Role],
    clinic_roles: &[Role],
) -> Result<(crate::auth::Principal, ReportScope), crate::error::Error> {
    use crate::auth::{require, Scope};
    use crate::error::Error;
    use crate::readmodels::{keys, Clinic};
    let clinic_id = match target {
        ReportTarget::Org(org_id) => {
            let p = require(caller, org_roles, Scope::Org(org_id))?.clone();
            // Only whether it exists: its body is not parsed.
            if store.get_lazy(&keys::organisation(org_id)).await?.is_none() {
                return Err(Error::NotFound("organisation"));
            }
            return Ok((
                p,
                ReportScope::Org {
                    org_id: org_id.to_string(),
                },
            ));
        }
        ReportTarget::Clinic(clinic_id) => clinic_id,
    };
    require(caller, clinic_roles, Scope::Any)?;
    let clinic: Clinic = match store.get_lazy(&keys::clinic(clinic_id)).await? {
        Some(item) => item.decode()?,
        None => return Err(Error::NotFound("resource")),
    };
    let p = require(
        caller,
        clinic_roles,
        Scope::Clinic {
            clinic_id,
            org_id: &clinic.org_id,
        },
    )?
    .clone();
    Ok((
        p,
        ReportScope::Clinic {
            org_id: clinic.org_id,
            clinic_id: clinic_id.to_string(),
        },
    ))
}
