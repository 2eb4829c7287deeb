//! A10 The audit trail in view: the audit records ([`crate::audit`], D4), newest first, with
//! filters `actor`, `action`, `object`, `org` and the period; CSV export. Platform admins see
//! every record; an organisation admin sees the records of their organisation's scope
//! (`AUDIT#ORG#<org>`: its reports and configuration) and nothing else. Every page read is
//! itself recorded (`audit.viewed`, with the filters), before it is read; an export is recorded
//! as every admin export is (`admin.exported`).
//!
//! Queries, each one partition and the period as a sort-key range: with `org` (or on the
//! organisation route) the scope's partition `pk = AUDIT#ORG#<org>`; else with `actor` the
//! actor's `gsi1 = AUDIT#ACTOR#<sub>`; else every record, `gsi2 = AUDIT#ALL`. The other filters
//! run on the items read. Every filter value is an id or an action name: at most
//! [`MAX_FILTER_CHARS`] characters of letters, digits and `-_.:@`, each given once.

use super::params::ListParams;
use super::tab::{Reader, Tab};
use crate::audit::{AuditRecord, ACTOR_PREFIX, ALL_RECORDS};
use crate::auth::Principal;
use crate::error::Error;
use crate::export::cells::Cell;
use crate::ports::{Condition, Index, LazyItem, Query, SkRange, Store, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The platform admin's parameters (besides the common ones).
pub const PARAMS: &[&str] = &["actor", "action", "object", "org"];
/// An organisation admin's parameters: the organisation is the route's.
pub const ORG_PARAMS: &[&str] = &["actor", "action", "object"];
/// Longest filter value.
pub const MAX_FILTER_CHARS: usize = 128;

/// The Audit trail tab: its filters (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTab {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object: Option<String>,
    pub org: Option<String>,
}

/// One filter value: at most once, bounded, an id's characters only.
fn filter(params: &ListParams, name: &'static str) -> Result<Option<String>, Error> {
    let mut values = params.extra_values(name);
    let value = values.next();
    if values.next().is_some() {
        return Err(Error::invalid(name, "must be given at most once"));
    }
    let Some(v) = value else { return Ok(None) };
    if v.is_empty() || v.chars().count() > MAX_FILTER_CHARS {
        return Err(Error::invalid(
            name,
            format!("must be 1 to {MAX_FILTER_CHARS} characters"),
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c))
    {
        return Err(Error::invalid(
            name,
            "may hold only letters, digits and - _ . : @",
        ));
    }
    Ok(Some(v.to_string()))
}

impl AuditTab {
    /// The platform admin's filters ([`PARAMS`]); the trail takes no search text.
    pub fn from_params(params: &ListParams) -> Result<Self, Error> {
        if params.q.is_some() {
            return Err(Error::invalid("q", "this list takes no search text"));
        }
        Ok(Self {
            actor: filter(params, "actor")?,
            action: filter(params, "action")?,
            object: filter(params, "object")?,
            org: filter(params, "org")?,
        })
    }

    /// An organisation admin's filters ([`ORG_PARAMS`]), held to their organisation.
    pub fn for_org(params: &ListParams, org_id: &str) -> Result<Self, Error> {
        Ok(Self {
            org: Some(org_id.to_string()),
            ..Self::from_params(params)?
        })
    }

    /// The filters as the `audit.viewed` record keeps them.
    fn filters(&self) -> serde_json::Value {
        serde_json::json!({
            "actor": self.actor, "action": self.action, "object": self.object, "org": self.org,
        })
    }
}

/// Records that `actor` reads the trail with these filters and period (`audit.viewed`, in
/// the organisation's scope on the organisation route, else the platform's).
pub async fn record_view(
    store: &dyn Store,
    actor: &Principal,
    now: DateTime<Utc>,
    tab: &AuditTab,
    params: &ListParams,
    org_route: Option<&str>,
) -> Result<(), Error> {
    let mut record = match org_route {
        Some(org) => AuditRecord::in_org(
            actor,
            now,
            "audit.viewed",
            org,
            "audit",
            serde_json::Value::Null,
        ),
        None => AuditRecord::new(actor, now, "audit.viewed", "PLATFORM", "audit"),
    };
    record.params = serde_json::json!({
        "filters": tab.filters(),
        "from": params.period.map(|p| p.start),
        "to": params.period.map(|p| p.end),
    });
    store.put(record.item(), Condition::NotExists).await?;
    Ok(())
}

#[async_trait]
impl Tab for AuditTab {
    type Row = AuditRecord;

    fn name(&self) -> &'static str {
        "audit"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "at",
            "record_id",
            "actor_sub",
            "actor_role",
            "action",
            "scope",
            "org_id",
            "object_id",
            "row_count",
            "object_key",
            "params",
        ]
    }

    fn cells(&self, r: &AuditRecord) -> Vec<Vec<Cell>> {
        vec![vec![
            Cell::opt_time(Some(r.at)),
            Cell::text(&r.record_id),
            Cell::text(&r.actor_sub),
            Cell::text(&r.actor_role),
            Cell::text(&r.action),
            Cell::text(&r.scope),
            Cell::opt_text(r.org_id.clone()),
            Cell::text(&r.object_id),
            r.row_count.map_or(Cell::Empty, |n| {
                Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }),
            Cell::opt_text(r.object_key.clone()),
            if r.params.is_null() {
                Cell::Empty
            } else {
                Cell::text(r.params.to_string())
            },
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        let query = match (&self.org, &self.actor) {
            (Some(org), _) => Query::partition(
                Index::Primary,
                AuditRecord::partition(&format!("ORG#{org}")),
            ),
            (None, Some(actor)) => Query::partition(Index::Gsi1, format!("{ACTOR_PREFIX}{actor}")),
            (None, None) => Query::partition(Index::Gsi2, ALL_RECORDS),
        };
        match params.period {
            Some(p) => {
                let (a, b) = p.sk_bounds();
                query.range(SkRange::Between(a, b))
            }
            None => query,
        }
        .backward()
    }

    async fn row(
        &self,
        _reader: &mut Reader<'_>,
        _params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<AuditRecord>, StoreError> {
        let r: AuditRecord = item.decode()?;
        let keep = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        let wanted = keep(&self.actor, Some(&r.actor_sub))
            && keep(&self.action, Some(&r.action))
            && keep(&self.object, Some(&r.object_id))
            && keep(&self.org, r.org_id.as_deref());
        Ok(wanted.then_some(r))
    }
}
