//! The Service provider summary (SPEC C8): the total of service providers in scope, then one row
//! per platform role and access level — existing, new, deactivated, logged-in and active
//! (hosted a consultation) in the period.

use super::data::{exists_in, within, ReportData};
use super::stats::PeriodFigures;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;
use crate::readmodels::Account;
use std::collections::{BTreeMap, BTreeSet};

/// The columns, in order.
pub const FIELDS: &[FieldDescription] = &[
    super::ORGANISATION_FIELD,
    FieldDescription {
        name: "Platform role",
        meaning: "The account's platform role (All: every role)",
        unit: "",
    },
    FieldDescription {
        name: "Access level",
        meaning: "The account's access level (All: every level)",
        unit: "",
    },
    FieldDescription {
        name: "Service providers",
        meaning: "Account holders existing in the period",
        unit: "count",
    },
    FieldDescription {
        name: "New",
        meaning: "Account holders created in the period",
        unit: "count",
    },
    FieldDescription {
        name: "Deactivated",
        meaning: "Account holders deactivated in the period",
        unit: "count",
    },
    FieldDescription {
        name: "Logged in",
        meaning: "Account holders who logged in during the period",
        unit: "count",
    },
    FieldDescription {
        name: "Active",
        meaning: "Account holders who hosted a consultation in the period",
        unit: "count",
    },
];

/// The five figures of one group (also the Service provider summary tile, for all accounts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProviderFigures {
    pub providers: i64,
    pub new: i64,
    pub deactivated: i64,
    pub logged_in: i64,
    pub active: i64,
}

/// Figures of a group of accounts: `active` hosted a consultation of the period, `logged_in`
/// logged in during it.
pub fn figures_with(
    data: &ReportData,
    accounts: &[&Account],
    active: &BTreeSet<String>,
    logged_in: &BTreeSet<String>,
) -> ProviderFigures {
    let (start, end) = (data.start, data.end);
    let count = |f: &dyn Fn(&Account) -> bool| accounts.iter().filter(|a| f(a)).count() as i64;
    ProviderFigures {
        providers: count(&|a| exists_in(Some(a.created_at), a.deactivated_at, start, end)),
        new: count(&|a| within(Some(a.created_at), start, end)),
        deactivated: count(&|a| within(a.deactivated_at, start, end)),
        logged_in: count(&|a| logged_in.contains(&a.account_id)),
        active: count(&|a| active.contains(&a.account_id)),
    }
}

/// Accounts that hosted a consultation of the period.
pub fn active_accounts(data: &ReportData) -> BTreeSet<String> {
    data.waiting_area()
        .consultations
        .iter()
        .flat_map(|c| c.hosts.keys().cloned())
        .collect()
}

fn row(org: &str, role: &str, level: &str, f: ProviderFigures) -> Vec<Cell> {
    vec![
        Cell::text(org),
        Cell::text(role),
        Cell::text(level),
        Cell::Int(f.providers),
        Cell::Int(f.new),
        Cell::Int(f.deactivated),
        Cell::Int(f.logged_in),
        Cell::Int(f.active),
    ]
}

/// The report's rows from the raw lists of `data` (the oracle of [`build_rows_from`]): the
/// total, then each platform role and access level in order.
pub fn build_rows(data: &ReportData) -> Vec<Vec<Cell>> {
    rows(data, &active_accounts(data), &data.logged_in)
}

/// The report's rows with the period's hosts and logins from `period`
/// ([`super::tiles::load_period`]: the statistics items at a constant number of reads), the
/// accounts from `data`. Equal, cell for cell, to [`build_rows`] on the raw lists.
pub fn build_rows_from(data: &ReportData, period: &PeriodFigures) -> Vec<Vec<Cell>> {
    rows(data, &period.hosts, &period.logged_in)
}

fn rows(
    data: &ReportData,
    active: &BTreeSet<String>,
    logged_in: &BTreeSet<String>,
) -> Vec<Vec<Cell>> {
    let accounts = data.providers();
    let org = data.organisation.name.as_str();
    let figures = |group: &[&Account]| figures_with(data, group, active, logged_in);
    let mut rows = vec![row(org, "All", "All", figures(&accounts))];
    let mut groups: BTreeMap<(&str, &str), Vec<&Account>> = BTreeMap::new();
    for a in &accounts {
        groups
            .entry((a.platform_role.as_str(), a.access_level.as_str()))
            .or_default()
            .push(a);
    }
    for ((role, level), group) in groups {
        rows.push(row(org, role, level, figures(&group)));
    }
    rows
}
