//! The organisation's clinics, rooms and accounts as the report screens pick them (SPEC C13,
//! D7): by name, where the report configuration's tags, the clinic reports and the schedules'
//! recipients name them by id.
//!
//! Three lists, each one Query page on the organisation's index partition (`gsi1
//! ORG#<org>#CLINICS`, `ORG#<org>#ROOMS`, `ORG#<org>#ACCOUNTS`), in id order: the client sorts
//! by name once it holds every page (a client reads an organisation's in a handful of pages).

use super::ReportScope;
use crate::error::Error;
use crate::events::types::RoomType;
use crate::ports::{Cursor, Index, Query, Store};
use crate::readmodels::{lists, Account, Clinic, Room};
use serde::Serialize;

/// Entries per page when `limit` is absent.
pub const DEFAULT_PLACES: usize = 100;
/// Most entries per page.
pub const MAX_PLACES: usize = 500;

/// A clinic as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClinicEntry {
    pub clinic_id: String,
    pub name: String,
    /// Deleted clinics stay listed: a report over a past period may still show them.
    pub deleted: bool,
}

impl From<Clinic> for ClinicEntry {
    fn from(c: Clinic) -> Self {
        Self {
            deleted: c.deleted_at.is_some(),
            clinic_id: c.clinic_id,
            name: c.name,
        }
    }
}

/// A room as the screens show it, with the clinic it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomEntry {
    pub room_id: String,
    pub clinic_id: String,
    pub name: String,
    pub room_type: RoomType,
    pub deleted: bool,
}

/// An account as the schedule screen picks recipients: its name, never its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountEntry {
    pub account_id: String,
    pub name: String,
    /// Deactivated accounts stay listed, flagged (they cannot receive reports).
    pub deactivated: bool,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacesPage<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Places {
    Clinics,
    Rooms,
    Accounts,
}

/// The `limit` and `cursor` parameters of a list (1 to [`MAX_PLACES`], default
/// [`DEFAULT_PLACES`]); a cursor must be one this list of this organisation handed out.
pub fn page_params(
    scope: &ReportScope,
    places: Places,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<(usize, Option<Cursor>), Error> {
    let limit = match limit {
        None => DEFAULT_PLACES,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PLACES).contains(&n) => n,
            _ => {
                return Err(Error::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PLACES}"),
                ))
            }
        },
    };
    let not_ours = || Error::invalid("cursor", "not a cursor of this list");
    let cursor = match cursor {
        None | Some("") => None,
        Some(c) => Some(Cursor::decode(c).map_err(|_| not_ours())?),
    };
    let partition = partition(scope, places);
    if cursor
        .as_ref()
        .is_some_and(|c| c.ipk.as_deref() != Some(partition.as_str()))
    {
        return Err(not_ours());
    }
    Ok((limit, cursor))
}

fn partition(scope: &ReportScope, places: Places) -> String {
    match places {
        Places::Clinics => lists::org_clinics(scope.org_id()),
        Places::Rooms => lists::org_rooms(scope.org_id()),
        Places::Accounts => lists::org_accounts(scope.org_id()),
    }
}

async fn page<T, E>(
    store: &dyn Store,
    scope: &ReportScope,
    places: Places,
    limit: usize,
    cursor: Option<Cursor>,
    entry: impl Fn(T) -> E,
) -> Result<PlacesPage<E>, Error>
where
    T: serde::de::DeserializeOwned,
{
    let q = Query::partition(Index::Gsi1, partition(scope, places))
        .limit(limit)
        .after(cursor);
    let page = store.query(&q).await?;
    let items = page
        .items
        .iter()
        .map(|i| i.decode::<T>().map(&entry))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PlacesPage {
        items,
        next_cursor: page.next.map(|c| c.encode()),
    })
}

/// The clinic of a clinic scope (authorised by [`super::authorise`], which found it).
pub async fn clinic(store: &dyn Store, scope: &ReportScope) -> Result<ClinicEntry, Error> {
    let Some(clinic_id) = scope.clinic_id() else {
        return Err(Error::NotFound("resource"));
    };
    match store
        .get(&crate::readmodels::keys::clinic(clinic_id))
        .await?
    {
        Some(item) => Ok(ClinicEntry::from(item.decode::<Clinic>()?)),
        None => Err(Error::NotFound("resource")),
    }
}

/// One page of the organisation's clinics, in id order.
pub async fn list_clinics(
    store: &dyn Store,
    scope: &ReportScope,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<PlacesPage<ClinicEntry>, Error> {
    page(
        store,
        scope,
        Places::Clinics,
        limit,
        cursor,
        <ClinicEntry as From<Clinic>>::from,
    )
    .await
}

/// One page of the organisation's rooms, in id order.
pub async fn list_rooms(
    store: &dyn Store,
    scope: &ReportScope,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<PlacesPage<RoomEntry>, Error> {
    page(store, scope, Places::Rooms, limit, cursor, |r: Room| {
        RoomEntry {
            deleted: r.deleted_at.is_some(),
            room_id: r.room_id,
            clinic_id: r.clinic_id,
            name: r.name,
            room_type: r.room_type,
        }
    })
    .await
}

/// One page of the organisation's accounts, in id order.
pub async fn list_accounts(
    store: &dyn Store,
    scope: &ReportScope,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<PlacesPage<AccountEntry>, Error> {
    page(
        store,
        scope,
        Places::Accounts,
        limit,
        cursor,
        |a: Account| AccountEntry {
            deactivated: a.deactivated_at.is_some(),
            account_id: a.account_id,
            name: a.name,
        },
    )
    .await
}
