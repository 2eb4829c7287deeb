//! A5 Practitioners: every practitioner (approved or not) in name order, with approval state,
//! current availability, rating average and count, and price; search `q` on the name, filter
//! `approval`. Query:
//! `gsi1`, `gsi1pk = PRACTITIONERS` (the sort key begins with the folded name); with one
//! `approval` value, `gsi2`, `gsi2pk = PRACTITIONERS#<approval>` (same sort key), so the
//! filter reads exactly its rows (several values filter the items of the full list).
//! A search (`q` on the name, `specialty`, both by word prefix) reads the practitioners' word
//! index instead ([`crate::readmodels::search`]): one index item and the profile per row.
//!
//! # Availability override
//! `PUT /admin/practitioners/{practitioner_id}/availability` with
//! `{"availability": "available" | "away", "until": "<RFC 3339>" | null}` sets an admin override
//! (`pk = PRAC#<id>`, `sk = AVAIL_OVERRIDE`) that wins over the availability the platform
//! reports until `until` (or until replaced, without `until`). The same transaction copies it
//! into the profile (`availability_override`, version-conditioned), so it shows in the tab at
//! once with no read beyond the profile; it ends by itself: readers compare `until` with the
//! clock, and DynamoDB's TTL (`expires_at`) removes the override item later.
//!
//! The rating average and count come from the totals ingest keeps on the profile
//! (`rating_count`, `rating_stars`): a row is its profile item, nothing more. Every override writes an
//! audit record (`availability.overridden`: who, when, old and new value) in the same
//! transaction. `until` must be in the future and at most [`MAX_OVERRIDE_DAYS`] days ahead.

use super::params::{ListParams, MAX_Q_CHARS};
use super::tab::{RatingStats, Reader, Tab};
use crate::audit::{audit_op, AuditRecord};
use crate::auth::Principal;
use crate::error::Error;
use crate::events::types::{Approval, Availability, Id, Money};
use crate::export::cells::Cell;
use crate::ports::{Condition, Index, Item, Key, LazyItem, Query, Store, StoreError, TxOp};
use crate::readmodels::search::WordSearch;
use crate::readmodels::{keys, lists, AvailabilityOverride, Practitioner};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest override.
pub const MAX_OVERRIDE_DAYS: i64 = 365;

/// The key of a practitioner's availability override.
pub fn override_key(practitioner_id: &str) -> Key {
    Key::new(format!("PRAC#{practitioner_id}"), "AVAIL_OVERRIDE")
}

/// The body of the override route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    pub availability: Availability,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// One practitioner row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PractitionerRow {
    pub practitioner_id: String,
    pub name: Option<String>,
    pub specialties: Vec<String>,
    pub approval: Option<Approval>,
    /// What shows now: the active override, else what the platform reported.
    pub availability: Option<Availability>,
    /// `override` or `platform`.
    pub availability_source: &'static str,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub override_until: Option<DateTime<Utc>>,
    pub rating_count: i64,
    /// Two decimal places, exact (`4.67`); absent without ratings.
    pub rating_average: Option<String>,
    /// The same average in hundredths, for the export's number cell.
    #[serde(skip)]
    pub rating_hundredths: Option<i64>,
    pub price: Option<Money>,
}

/// The tab's own parameters: `approval` (repeatable: any of `approved`, `pending`,
/// `rejected`) and `specialty` (once, at most [`super::params::MAX_Q_CHARS`] characters).
pub const PARAMS: &[&str] = &["approval", "specialty"];

/// The Practitioners tab, at a given instant (for overrides' ends), with its approval filter.
#[derive(Debug, Clone)]
pub struct PractitionersTab {
    pub now: DateTime<Utc>,
    /// Empty: every practitioner.
    pub approvals: Vec<Approval>,
    /// The name and specialty search, served by the word index.
    pub search: Option<WordSearch>,
}

impl PractitionersTab {
    pub fn from_params(params: &ListParams, now: DateTime<Utc>) -> Result<Self, Error> {
        let approvals = params
            .extra_values("approval")
            .map(|a| {
                serde_json::from_value::<Approval>(serde_json::Value::String(a.to_string()))
                    .map_err(|_| {
                        Error::invalid("approval", "must be approved, pending or rejected")
                    })
            })
            .collect::<Result<_, _>>()?;
        let specialty = specialty_param(params)?;
        let search = WordSearch::new(params.q.as_deref(), specialty.as_deref());
        Ok(Self {
            now,
            approvals,
            search,
        })
    }
}

/// The `specialty` parameter: at most once, bounded, no control characters.
fn specialty_param(params: &ListParams) -> Result<Option<String>, Error> {
    let mut values = params.extra_values("specialty");
    let value = values.next();
    if values.next().is_some() {
        return Err(Error::invalid("specialty", "must be given at most once"));
    }
    let Some(v) = value else { return Ok(None) };
    if v.chars().count() > MAX_Q_CHARS {
        return Err(Error::invalid(
            "specialty",
            format!("must be at most {MAX_Q_CHARS} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(
            "specialty",
            "must not hold control characters",
        ));
    }
    Ok(Some(v.to_string()))
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The row of a practitioner: its profile, with the override and rating totals it carries.
pub fn practitioner_row(p: Practitioner, now: DateTime<Utc>) -> PractitionerRow {
    let over = p.availability_override.clone().filter(|o| o.active(now));
    let stats = RatingStats::of(&p.totals);
    PractitionerRow {
        availability: over.as_ref().map(|o| o.availability).or(p.availability),
        availability_source: if over.is_some() {
            "override"
        } else {
            "platform"
        },
        override_until: over.and_then(|o| o.until),
        rating_count: stats.count,
        rating_average: stats.average_text(),
        rating_hundredths: stats.average_hundredths(),
        practitioner_id: p.practitioner_id,
        name: p.name,
        specialties: p.specialties,
        approval: p.approval,
        price: p.price,
    }
}

#[async_trait]
impl Tab for PractitionersTab {
    type Row = PractitionerRow;

    fn name(&self) -> &'static str {
        "practitioners"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "practitioner_id",
            "name",
            "specialties",
            "approval",
            "availability",
            "availability_source",
            "override_until",
            "rating_count",
            "rating_average",
            "price_minor",
            "currency",
        ]
    }

    fn cells(&self, r: &PractitionerRow) -> Vec<Vec<Cell>> {
        vec![vec![
            Cell::text(&r.practitioner_id),
            Cell::opt_text(r.name.clone()),
            Cell::text(r.specialties.join("; ")),
            Cell::opt_text(r.approval.as_ref().map(snake)),
            Cell::opt_text(r.availability.as_ref().map(snake)),
            Cell::text(r.availability_source),
            Cell::opt_time(r.override_until),
            Cell::Int(r.rating_count),
            r.rating_hundredths
                .map_or(Cell::Empty, |units| Cell::Decimal { units, scale: 2 }),
            r.price
                .as_ref()
                .map_or(Cell::Empty, |m| Cell::Int(m.amount_minor)),
            Cell::opt_text(r.price.as_ref().map(|m| m.currency.as_str().to_string())),
        ]]
    }

    fn query(&self, _params: &ListParams) -> Query {
        if let Some(search) = &self.search {
            return search.query();
        }
        match self.approvals.as_slice() {
            // One approval state: its own index partition, exactly its rows.
            [one] => Query::partition(Index::Gsi2, lists::practitioners_by_approval(*one)),
            _ => Query::partition(Index::Gsi1, lists::PRACTITIONERS),
        }
    }

    async fn row(
        &self,
        reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<PractitionerRow>, StoreError> {
        let p: Practitioner = match &self.search {
            Some(search) => match search.hit(item)? {
                Some(id) => match reader.practitioner(&id).await? {
                    Some(p) if p.is_known() => p,
                    _ => return Ok(None),
                },
                None => return Ok(None),
            },
            None => item.decode()?,
        };
        if !params.matches(p.name.as_deref()) {
            return Ok(None);
        }
        if !self.approvals.is_empty() && !p.approval.is_some_and(|a| self.approvals.contains(&a)) {
            return Ok(None);
        }
        Ok(Some(practitioner_row(p, self.now)))
    }
}

/// Sets an override (audited in the same transaction) and returns the practitioner's row as
/// the tab now shows it. 404 for an unknown practitioner; 400 naming `until` when it is not
/// in the future or too far.
pub async fn override_availability(
    store: &dyn Store,
    actor: &Principal,
    now: DateTime<Utc>,
    practitioner_id: &str,
    body: OverrideRequest,
) -> Result<PractitionerRow, Error> {
    let id = Id::parse(practitioner_id)
        .map_err(|_| Error::invalid("practitioner_id", "is not a practitioner id"))?;
    if let Some(until) = body.until {
        if until <= now {
            return Err(Error::invalid("until", "must be in the future"));
        }
        if until - now > chrono::Duration::days(MAX_OVERRIDE_DAYS) {
            return Err(Error::invalid(
                "until",
                format!("must be at most {MAX_OVERRIDE_DAYS} days ahead"),
            ));
        }
    }
    // The profile may change under us (ingest): a few attempts.
    const ATTEMPTS: u32 = 5;
    for attempt in 0..ATTEMPTS {
        let Some(profile) = store.get(&keys::practitioner(id.as_str())).await? else {
            return Err(Error::NotFound("practitioner"));
        };
        let mut practitioner: Practitioner = profile.decode()?;
        if !practitioner.is_known() {
            return Err(Error::NotFound("practitioner"));
        }
        let before = practitioner_row(practitioner.clone(), now);
        let over = AvailabilityOverride {
            availability: body.availability,
            until: body.until,
            set_by: actor.sub.clone(),
            set_at: now,
        };
        let key = override_key(id.as_str());
        let mut item = Item::new(
            key.pk,
            key.sk,
            serde_json::to_value(&over).map_err(|_| Error::Internal)?,
        );
        if let Some(until) = over.until {
            item = item.with_expiry(until.timestamp());
        }
        let mut record = AuditRecord::new(
            actor,
            now,
            "availability.overridden",
            "PLATFORM",
            id.as_str(),
        );
        record.params = serde_json::json!({
            "old": { "availability": before.availability, "source": before.availability_source, "until": before.override_until },
            "new": { "availability": over.availability, "until": over.until },
        });
        practitioner.availability_override = Some(over);
        let mut copy = profile.clone();
        copy.body = serde_json::to_value(&practitioner).map_err(|_| Error::Internal)?;
        copy.version = profile.version + 1;
        match store
            .transact(vec![
                TxOp::put(item, Condition::None),
                TxOp::put(copy, Condition::VersionIs(profile.version)),
                audit_op(&record),
            ])
            .await
        {
            Ok(()) => return Ok(practitioner_row(practitioner, now)),
            // Ingest changed the profile meanwhile: read it again.
            Err(StoreError::ConditionFailed { op: Some(1) }) | Err(StoreError::Conflict)
                if attempt + 1 < ATTEMPTS =>
            {
                continue
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Unavailable)
}
