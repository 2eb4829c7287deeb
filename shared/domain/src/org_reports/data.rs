//! Everything the organisation, clinic, room-call and service-provider reports (C4–C8) and the
//! summary tiles (C2) read, loaded once per request with indexed Queries, and the figures they
//! share (so a tile and its workbook always agree).
//!
//! Definitions used throughout:
//! - a **consultation** is a waiting-area segment in the report (see
//!   [`super::consultations::segment_in_report`]) that a host joined; its time runs from the
//!   first host join to the segment end;
//! - a **service provider** is an account holder of the organisation (for a clinic: an account
//!   holder with a membership of that clinic);
//! - something **exists in the period** when it was created before the period's end and not
//!   deleted (deactivated, revoked) before its start.

use super::consultations::{segment_in_report, ConsultationFilter};
use super::params::ReportParams;
use super::ReportScope;
use crate::ports::store::query_all;
use crate::ports::{Index, Item, Query, SkRange, Store, StoreError};
use crate::readmodels::segments::{consultation_seconds, segment_participants};
use crate::readmodels::{
    keys, lists, sort_time, Account, AccountNames, Clinic, Membership, Organisation, Room,
    RoomCallParticipant, Segment, SegmentParticipant,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the C4–C8 builders and the tiles read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    pub scope: ReportScope,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub min_duration_seconds: u32,
    pub organisation: Organisation,
    /// Every clinic of the organisation by id (names of transfer targets).
    pub all_clinics: HashMap<String, Clinic>,
    /// The clinics in scope, by name then id.
    pub clinics: Vec<Clinic>,
    /// The rooms in scope, by name then id.
    pub rooms: Vec<Room>,
    /// The organisation's accounts by id (empty for the room-call report, which reads
    /// [`Self::account_names`] instead).
    pub accounts: HashMap<String, Account>,
    /// The names of the accounts the room calls name, when [`Self::accounts`] is not loaded
    /// ([`load_room_call_data`]); see [`Self::account_name`].
    pub account_names: HashMap<String, String>,
    /// Memberships of the clinics in scope, by clinic then account.
    pub memberships: Vec<Membership>,
    /// Waiting-area segments that started in the period (in scope), each with its
    /// participants.
    pub segments: Vec<Segment>,
    /// Room-call participants who joined in the period, in rooms in scope.
    pub room_calls: Vec<RoomCallParticipant>,
    /// Accounts that logged in during the period.
    pub logged_in: BTreeSet<String>,
    /// Each account's last login before the period's end.
    pub last_login: HashMap<String, DateTime<Utc>>,
    /// Each account's last hosted segment (join time) before the period's end.
    pub last_hosted: HashMap<String, DateTime<Utc>>,
    /// Each clinic's last answered (not abandoned) segment start before the period's end.
    pub last_consultation: HashMap<String, DateTime<Utc>>,
}

fn decode_all<T: serde::de::DeserializeOwned>(items: &[Item]) -> Result<Vec<T>, StoreError> {
    items.iter().map(Item::decode).collect()
}

/// The pages read, at most, looking back for a clinic's last answered segment, by size: the
/// latest segment alone first (usually answered), then growing pages — 100 items at most, as
/// four pages of 25 read before, but one item where the last segment was answered.
const LAST_CONSULTATION_PAGES: [usize; 4] = [1, 4, 20, 75];

async fn last_answered_segment(
    store: &dyn Store,
    clinic_id: &str,
    end: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut query = Query::partition(Index::Gsi1, lists::clinic_segments(clinic_id))
        .range(SkRange::AtMost(sort_time(end)))
        .backward();
    for limit in LAST_CONSULTATION_PAGES {
        query.limit = Some(limit);
        let page = store.query(&query).await?;
        for item in &page.items {
            let seg: Segment = item.decode()?;
            if seg.abandoned_at.is_none() {
                if let Some(t) = seg.started_at.filter(|t| *t < end) {
                    return Ok(Some(t));
                }
            }
        }
        match page.next {
            Some(c) => query.after = Some(c),
            None => break,
        }
    }
    Ok(None)
}

/// The clinics in `scope` (by name, then id) and the organisation's rooms in them (by name,
/// then id).
async fn scoped_clinics_and_rooms(
    store: &dyn Store,
    scope: &ReportScope,
    all_clinics: &HashMap<String, Clinic>,
) -> Result<(Vec<Clinic>, Vec<Room>), StoreError> {
    let org_id = scope.org_id();
    let in_scope = |clinic_id: &str| scope.clinic_id().is_none_or(|c| c == clinic_id);
    let mut clinics: Vec<Clinic> = all_clinics
        .values()
        .filter(|c| in_scope(&c.clinic_id))
        .cloned()
        .collect();
    clinics.sort_by(|a, b| (&a.name, &a.clinic_id).cmp(&(&b.name, &b.clinic_id)));
    let room_items = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::org_rooms(org_id)),
    )
    .await?;
    let mut rooms: Vec<Room> = decode_all::<Room>(&room_items)?
        .into_iter()
        .filter(|r| in_scope(&r.clinic_id))
        .collect();
    rooms.sort_by(|a, b| (&a.name, &a.room_id).cmp(&(&b.name, &b.room_id)));
    Ok((clinics, rooms))
}

/// The clinics in `scope` (by name, then id), the organisation's rooms in them (by name, then
/// id) and the clinics' memberships (clinic by clinic, by account).
async fn scoped_entities(
    store: &dyn Store,
    scope: &ReportScope,
    all_clinics: &HashMap<String, Clinic>,
) -> Result<(Vec<Clinic>, Vec<Room>, Vec<Membership>), StoreError> {
    let (clinics, rooms) = scoped_clinics_and_rooms(store, scope, all_clinics).await?;
    let mut memberships = Vec::new();
    for clinic in &clinics {
        let items = query_all(
            store,
            &Query::partition(Index::Gsi1, lists::clinic_members(&clinic.clinic_id)),
        )
        .await?;
        let mut ms = decode_all::<Membership>(&items)?;
        ms.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        memberships.extend(ms);
    }
    Ok((clinics, rooms, memberships))
}

/// Loads the organisation's size only (organisation, clinics, accounts, rooms, memberships of
/// the clinics in scope): everything of [`ReportData`] but the period lists and the last
/// logins, consultations and hosts, which stay empty. What the tiles read besides the
/// statistics items ([`super::tiles::load_tiles`]): bounded by the organisation, not its
/// activity.
pub async fn load_entities(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<ReportData, StoreError> {
    let org_id = scope.org_id();
    let all_clinics = super::load::clinics(store, org_id).await?;
    let (clinics, rooms, memberships) = scoped_entities(store, scope, &all_clinics).await?;
    let organisation = super::load::organisation(store, org_id).await?;
    Ok(ReportData {
        clinics,
        rooms,
        accounts: super::load::accounts(store, org_id).await?,
        memberships,
        ..ReportData::empty(scope, params, organisation, all_clinics)
    })
}

/// Room-call participants who joined in `[start, end)`, in `rooms` (`gsi2
/// ORG#<org>#ROOMCALLS` between the bounds): one item per participant of the period.
async fn period_room_calls(
    store: &dyn Store,
    org_id: &str,
    rooms: &[Room],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<RoomCallParticipant>, StoreError> {
    let call_items = query_all(
        store,
        &Query::partition(Index::Gsi2, lists::org_room_calls(org_id))
            .range(SkRange::Between(sort_time(start), sort_time(end))),
    )
    .await?;
    let room_ids: BTreeSet<&str> = rooms.iter().map(|r| r.room_id.as_str()).collect();
    Ok(decode_all::<RoomCallParticipant>(&call_items)?
        .into_iter()
        .filter(|p| room_ids.contains(p.room_id.as_str()))
        .collect())
}

/// Each clinic's last answered (not abandoned) segment start before `end`: per clinic, pages
/// of 1, 4, 20 and 75 of `gsi1 CLINIC#<clinic>#SEGMENTS` at most `end`, backward, until one —
/// bounded per clinic, not by the period's activity.
pub async fn last_consultations(
    store: &dyn Store,
    clinics: &[Clinic],
    end: DateTime<Utc>,
) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
    let mut out = HashMap::new();
    for clinic in clinics {
        if let Some(at) = last_answered_segment(store, &clinic.clinic_id, end).await? {
            out.insert(clinic.clinic_id.clone(), at);
        }
    }
    Ok(out)
}

/// What the room-call report (C6) reads: the organisation, its clinics and rooms, the
/// room-call participants who joined in the period in the rooms in scope (one item per
/// participant: the report's rows) and the names of the accounts they name (one item,
/// [`participant_names`]) — not the accounts, memberships, segments or logins, which its rows
/// do not show (those would add the organisation's accounts and memberships to every
/// report's reads).
pub async fn load_room_call_data(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<ReportData, StoreError> {
    let (start, end) = (params.start_utc(), params.end_utc());
    let org_id = scope.org_id();
    let organisation = super::load::organisation(store, org_id).await?;
    let all_clinics = super::load::clinics(store, org_id).await?;
    let (clinics, rooms) = scoped_clinics_and_rooms(store, scope, &all_clinics).await?;
    let room_calls = period_room_calls(store, org_id, &rooms, start, end).await?;
    let account_names = participant_names(store, org_id, &room_calls).await?;
    Ok(ReportData {
        clinics,
        rooms,
        account_names,
        room_calls,
        ..ReportData::empty(scope, params, organisation, all_clinics)
    })
}

/// The names of the organisation's accounts that `participants` name: the organisation's
/// names item (one read, whatever its size), and for an account it lacks (a table written
/// before ingest kept the item: `docs/dynamodb.md`) the account item itself, if the account
/// is the organisation's — what the organisation's account list gave before.
async fn participant_names(
    store: &dyn Store,
    org_id: &str,
    participants: &[RoomCallParticipant],
) -> Result<HashMap<String, String>, StoreError> {
    account_names(
        store,
        org_id,
        participants.iter().filter_map(|p| p.account_id.as_deref()),
    )
    .await
}

/// The names of these accounts of the organisation, by id: from its account-names item, then
/// (for an account it does not name yet) the account's own item. An account of another
/// organisation, or unknown, is left out.
pub async fn account_names<'a>(
    store: &dyn Store,
    org_id: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, String>, StoreError> {
    let named: BTreeSet<&str> = ids.into_iter().collect();
    let mut out = HashMap::new();
    if named.is_empty() {
        return Ok(out);
    }
    let mut all: AccountNames = match store.get(&keys::org_account_names(org_id)).await? {
        Some(item) => item.decode()?,
        None => AccountNames::default(),
    };
    for id in named {
        if let Some(entry) = all.accounts.remove(id) {
            out.insert(id.to_string(), entry.name);
        } else if let Some(item) = store.get(&keys::account(id)).await? {
            let account: Account = item.decode()?;
            if account.org_id == org_id {
                out.insert(id.to_string(), account.name);
            }
        }
    }
    Ok(out)
}

/// Loads the data of `scope` for `params`.
pub async fn load_report_data(
    store: &dyn Store,
    scope: &ReportScope,
    params: &ReportParams,
) -> Result<ReportData, StoreError> {
    let (start, end) = (params.start_utc(), params.end_utc());
    let org_id = scope.org_id();
    let base = super::load::consultation_input(store, scope, start, end).await?;
    let (clinics, rooms, memberships) = scoped_entities(store, scope, &base.clinics).await?;
    let period = SkRange::Between(sort_time(start), sort_time(end));
    let room_calls = period_room_calls(store, org_id, &rooms, start, end).await?;
    let login_items = query_all(
        store,
        &Query::partition(Index::Gsi1, lists::org_logins(org_id)).range(period),
    )
    .await?;
    let logged_in: BTreeSet<String> = login_items
        .iter()
        .filter_map(|i| i.body.get("account_id").and_then(|a| a.as_str()))
        .map(str::to_string)
        .collect();
    let (last_login, last_hosted) = last_activity(store, base.accounts.keys(), end).await?;
    let last_consultation = last_consultations(store, &clinics, end).await?;
    Ok(ReportData {
        clinics,
        rooms,
        accounts: base.accounts,
        memberships,
        segments: base.segments,
        room_calls,
        logged_in,
        last_login,
        last_hosted,
        last_consultation,
        ..ReportData::empty(scope, params, base.organisation, base.clinics)
    })
}

/// A time per account id.
pub type LastTimes = HashMap<String, DateTime<Utc>>;

/// Each account's last login and last join as a host participant before `end`: per account,
/// `pk = ACCOUNT#<id>`, `sk` between `LOGIN#` and `LOGIN#<end>` backward, limit 1, and `gsi1
/// ACCOUNT#<id>#PARTS` at most `end` backward, limit 1 — two items per account, whatever the
/// activity.
pub async fn last_activity(
    store: &dyn Store,
    accounts: impl Iterator<Item = &String>,
    end: DateTime<Utc>,
) -> Result<(LastTimes, LastTimes), StoreError> {
    let mut last_login = HashMap::new();
    let mut last_hosted = HashMap::new();
    for account_id in accounts {
        let pk = keys::account(account_id).pk;
        let page = store
            .query(
                &Query::partition(Index::Primary, pk)
                    .range(SkRange::Between(
                        "LOGIN#".into(),
                        format!("LOGIN#{}", sort_time(end)),
                    ))
                    .backward()
                    .limit(1),
            )
            .await?;
        if let Some(at) = page
            .items
            .first()
            .and_then(|i| i.body.get("at"))
            .and_then(|t| t.as_str())
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        {
            last_login.insert(account_id.clone(), at);
        }
        let page = store
            .query(
                &Query::partition(Index::Gsi1, lists::account_participations(account_id))
                    .range(SkRange::AtMost(sort_time(end)))
                    .backward()
                    .limit(1),
            )
            .await?;
        if let Some(p) = page.items.first() {
            let p: SegmentParticipant = p.decode()?;
            if let Some(at) = p.joined_at.filter(|t| *t < end) {
                last_hosted.insert(account_id.clone(), at);
            }
        }
    }
    Ok((last_login, last_hosted))
}

/// Whether something created at `created` and deleted at `deleted` exists in `[start, end)`.
pub fn exists_in(
    created: Option<DateTime<Utc>>,
    deleted: Option<DateTime<Utc>>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> bool {
    created.is_none_or(|c| c < end) && deleted.is_none_or(|d| d >= start)
}

/// Whether an instant falls in `[start, end)`.
pub fn within(t: Option<DateTime<Utc>>, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    t.is_some_and(|t| t >= start && t < end)
}

/// One consultation (an answered segment in the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationFact {
    pub clinic_id: String,
    pub seconds: i64,
    /// Each host account with its attendance in seconds.
    pub hosts: BTreeMap<String, i64>,
}

/// Waiting-area figures of the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitingAreaFacts {
    pub consultations: Vec<ConsultationFact>,
    /// Abandoned segments per clinic.
    pub abandoned: BTreeMap<String, u64>,
}

impl WaitingAreaFacts {
    /// Per host account, `[consultations hosted, its attendance in them in seconds]`, of the
    /// consultations in `clinic` (all with `None`).
    pub fn hosted(&self, clinic: Option<&str>) -> BTreeMap<String, [i64; 2]> {
        let mut out: BTreeMap<String, [i64; 2]> = BTreeMap::new();
        for f in &self.consultations {
            if clinic.is_some_and(|c| c != f.clinic_id) {
                continue;
            }
            for (acc, attended) in &f.hosts {
                let h = out.entry(acc.clone()).or_default();
                h[0] += 1;
                h[1] += attended;
            }
        }
        out
    }
}

impl ReportData {
    /// The period and organisation of a report, every list of what the period holds empty:
    /// the start each loader fills in with what its report reads.
    fn empty(
        scope: &ReportScope,
        params: &ReportParams,
        organisation: Organisation,
        all_clinics: HashMap<String, Clinic>,
    ) -> Self {
        Self {
            scope: scope.clone(),
            start: params.start_utc(),
            end: params.end_utc(),
            min_duration_seconds: params.min_duration_seconds,
            organisation,
            all_clinics,
            clinics: Vec::new(),
            rooms: Vec::new(),
            accounts: HashMap::new(),
            account_names: HashMap::new(),
            memberships: Vec::new(),
            segments: Vec::new(),
            room_calls: Vec::new(),
            logged_in: BTreeSet::new(),
            last_login: HashMap::new(),
            last_hosted: HashMap::new(),
            last_consultation: HashMap::new(),
        }
    }

    /// The filter the Consultations report applies, for the same data.
    pub fn consultation_filter(&self) -> ConsultationFilter {
        ConsultationFilter {
            start: self.start,
            end: self.end,
            clinic_id: self.scope.clinic_id().map(str::to_string),
            min_duration_seconds: self.min_duration_seconds,
        }
    }

    /// The consultations and abandoned calls of the period.
    pub fn waiting_area(&self) -> WaitingAreaFacts {
        let filter = self.consultation_filter();
        let mut facts = WaitingAreaFacts::default();
        for seg in &self.segments {
            let parts = segment_participants(seg);
            if !segment_in_report(seg, &parts, &filter) {
                continue;
            }
            let clinic_id = seg.clinic_id.clone().unwrap_or_default();
            if seg.abandoned_at.is_some() {
                *facts.abandoned.entry(clinic_id).or_default() += 1;
                continue;
            }
            let Some(seconds) = consultation_seconds(seg, &parts) else {
                continue;
            };
            facts.consultations.push(ConsultationFact {
                clinic_id,
                seconds,
                hosts: crate::readmodels::statistics::host_attendance(&parts),
            });
        }
        facts
    }

    /// The service providers in scope (account ids, sorted).
    pub fn providers(&self) -> Vec<&Account> {
        let mut out: Vec<&Account> = match self.scope.clinic_id() {
            None => self.accounts.values().collect(),
            Some(_) => {
                let members: BTreeSet<&str> = self
                    .memberships
                    .iter()
                    .map(|m| m.account_id.as_str())
                    .collect();
                self.accounts
                    .values()
                    .filter(|a| members.contains(a.account_id.as_str()))
                    .collect()
            }
        };
        out.sort_by(|a, b| (&a.name, &a.account_id).cmp(&(&b.name, &b.account_id)));
        out
    }

    /// An account's name: from [`Self::accounts`], else from [`Self::account_names`].
    pub fn account_name(&self, account_id: &str) -> Option<&str> {
        self.accounts
            .get(account_id)
            .map(|a| a.name.as_str())
            .or_else(|| self.account_names.get(account_id).map(String::as_str))
    }

    /// Room calls of the period: each call's participants, by call start then call id.
    pub fn calls(&self) -> Vec<(String, Vec<&RoomCallParticipant>)> {
        let mut by_call: BTreeMap<&str, Vec<&RoomCallParticipant>> = BTreeMap::new();
        for p in &self.room_calls {
            by_call.entry(p.call_id.as_str()).or_default().push(p);
        }
        let mut calls: Vec<(String, Vec<&RoomCallParticipant>)> = by_call
            .into_iter()
            .map(|(id, mut ps)| {
                ps.sort_by(|a, b| {
                    (a.joined_at, &a.participant_id).cmp(&(b.joined_at, &b.participant_id))
                });
                (id.to_string(), ps)
            })
            .collect();
        calls.sort_by_key(|(id, ps)| (ps.first().and_then(|p| p.joined_at), id.clone()));
        calls
    }
}

/// A call's span: first join to last leave, in seconds.
pub fn call_span(
    participants: &[&RoomCallParticipant],
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<i64>) {
    let start = participants.iter().filter_map(|p| p.joined_at).min();
    let end = participants.iter().filter_map(|p| p.left_at).max();
    let secs = match (start, end) {
        (Some(a), Some(b)) if b >= a => Some((b - a).num_seconds()),
        _ => None,
    };
    (start, end, secs)
}
