//! The Service providers report (SPEC C7): one row per account holder per clinic membership in
//! scope (an account holder of the organisation without a membership shows once, clinic
//! empty) — email, name, clinic, role there, consultations hosted there in the period and their
//! attendance, last consultation and last login before the period's end, and when access to
//! the clinic was granted.
//!
//! Built from the raw lists (every segment of the period), not the statistics items (issue 8):
//! "Consultation time" is each host's own attendance, which the statistics do not hold (their
//! `hosts` count consultations by the consultation's seconds), and holding it means changing
//! ingest's `Stats`. The last consultation and last login are one item per account either way.

use super::data::ReportData;
use crate::events::types::ClinicRole;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;

/// The columns, in order.
pub const FIELDS: &[FieldDescription] = &[
    FieldDescription {
        name: "Organisation",
        meaning: "Organisation name",
        unit: "",
    },
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

/// The report's rows: account holders by name, their memberships by clinic name.
pub fn build_rows(data: &ReportData) -> Vec<Vec<Cell>> {
    let wa = data.waiting_area();
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
            let hosted: Vec<i64> = wa
                .consultations
                .iter()
                .filter(|f| f.clinic_id == clinic.clinic_id)
                .filter_map(|f| f.hosts.get(&account.account_id).copied())
                .collect();
            let mut row = head.to_vec();
            row.extend([
                Cell::text(clinic.name.clone()),
                Cell::text(role_text(m.clinic_role)),
                Cell::Int(hosted.len() as i64),
                Cell::Seconds(hosted.iter().sum()),
                last_consultation.clone(),
                last_login.clone(),
                Cell::Time(m.granted_at),
            ]);
            rows.push(row);
        }
    }
    rows
}
