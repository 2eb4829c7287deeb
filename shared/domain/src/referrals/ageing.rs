//! Referral ageing (SPEC B11): per state, how many referrals are there and how long they sat in
//! the pending states, overall, by specialty and by specialist; and the oldest pending referral.
//!
//! Read from counters the transitions keep, never from the referrals: every transition adds, in
//! its own transaction ([`transition_ops`]), −1 to the state it leaves and +1 to the state it
//! enters, and, leaving a pending state, +1 to the bucket of a fixed histogram of how long the
//! referral sat there ([`BUCKET_BOUNDS_SECONDS`]). The counters exist per scope: all referrals,
//! each specialty of the specialist (as the specialist listed them when the referral was made,
//! at most [`MAX_SPECIALTIES`]) and each specialist. A scope is one partition of at most
//! `7 + 2 × 14` counter items, so reading it is one Query whatever the number of referrals; the
//! specialties and specialists with counters are listed in partitions of their own, read a page
//! at a time. The oldest pending referral is the first of the expiry index (pending referrals in
//! the order they expire, that is of creation under one expiry setting): one Query of one item.
//!
//! Medians and 90th percentiles come from the histogram: the answer is the upper bound of the
//! bucket the percentile falls in ("at most"), `None` past the last bound or without stays.
//! Referrals made before the counters existed carry no [`Referral::specialties`] snapshot and
//! are not counted (a −1 for a state they never entered would go below zero).

use super::model::{keys as referral_keys, Referral, State, Transition};
use crate::ports::{Condition, Cursor, Index, Item, Key, Query, Store, StoreError, TxOp};
use crate::readmodels::fold_name;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Upper bounds of the histogram of stays (seconds): 1 h, 4 h, 12 h, 1, 2, 3, 5, 7, 10, 14,
/// 21, 30 and 60 days; a last bucket holds the longer stays.
pub const BUCKET_BOUNDS_SECONDS: [i64; 13] = [
    3_600,
    4 * 3_600,
    12 * 3_600,
    86_400,
    2 * 86_400,
    3 * 86_400,
    5 * 86_400,
    7 * 86_400,
    10 * 86_400,
    14 * 86_400,
    21 * 86_400,
    30 * 86_400,
    60 * 86_400,
];

/// Buckets of the histogram (the bounds and one for longer stays).
pub const BUCKETS: usize = BUCKET_BOUNDS_SECONDS.len() + 1;

/// Most specialties of a specialist a referral is counted under.
pub const MAX_SPECIALTIES: usize = 10;

/// Every state, in the order reports show them.
pub const STATES: [State; 7] = [
    State::PendingPatient,
    State::PendingSpecialist,
    State::Accepted,
    State::Rejected,
    State::PatientRejected,
    State::Withdrawn,
    State::Expired,
];

/// The bucket a stay of `seconds` falls in.
pub fn bucket_of(seconds: i64) -> usize {
    BUCKET_BOUNDS_SECONDS
        .iter()
        .position(|bound| seconds <= *bound)
        .unwrap_or(BUCKETS - 1)
}

/// A group of counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A specialty, folded (case and accents).
    Specialty(String),
    Specialist(String),
}

impl Scope {
    fn pk(&self) -> String {
        match self {
            Scope::All => "AGEING#ALL".into(),
            Scope::Specialty(s) => format!("AGEING#SPECIALTY#{s}"),
            Scope::Specialist(id) => format!("AGEING#SPECIALIST#{id}"),
        }
    }
}

/// A grouping of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Specialty,
    Specialist,
}

impl Dimension {
    /// The partition listing the scopes of this dimension that have counters.
    fn list_pk(self) -> &'static str {
        match self {
            Dimension::Specialty => "AGEINGDIM#SPECIALTY",
            Dimension::Specialist => "AGEINGDIM#SPECIALIST",
        }
    }
}

fn in_state(scope: &Scope, state: State) -> Key {
    Key::new(scope.pk(), format!("IN#{}", state.as_str()))
}

fn stays(scope: &Scope, state: State, bucket: usize) -> Key {
    Key::new(scope.pk(), format!("STAY#{}#{bucket:02}", state.as_str()))
}

/// The scopes a referral counts in.
fn scopes_of(r: &Referral, specialties: &[String]) -> Vec<Scope> {
    let mut scopes = vec![Scope::All, Scope::Specialist(r.specialist_id.clone())];
    let mut seen = std::collections::BTreeSet::new();
    for s in specialties.iter().take(MAX_SPECIALTIES) {
        let folded = fold_name(s);
        if !folded.is_empty() && seen.insert(folded.clone()) {
            scopes.push(Scope::Specialty(folded));
        }
    }
    scopes
}

/// The counter updates of `t`, the referral's latest transition (already in
/// `r.transitions`), for the transition's transaction. None for a referral made before the
/// counters existed.
pub fn transition_ops(r: &Referral, t: &Transition) -> Vec<TxOp> {
    let Some(specialties) = &r.specialties else {
        return Vec::new();
    };
    let entered = match r.transitions.len() {
        n if n >= 2 => Some(r.transitions[n - 2].at),
        _ => None,
    };
    let mut ops = Vec::new();
    let scopes = scopes_of(r, specialties);
    for scope in &scopes {
        if let Some(from) = t.from {
            ops.push(TxOp::add(in_state(scope, from), -1));
            if let (true, Some(at)) = (from.is_pending(), entered) {
                let bucket = bucket_of((t.at - at).num_seconds());
                ops.push(TxOp::add(stays(scope, from, bucket), 1));
            }
        }
        ops.push(TxOp::add(in_state(scope, t.to), 1));
    }
    if t.from.is_none() {
        for scope in scopes {
            let (pk, sk, body) = match scope {
                Scope::All => continue,
                Scope::Specialty(folded) => (
                    Dimension::Specialty.list_pk(),
                    folded.clone(),
                    serde_json::json!({ "specialty": folded }),
                ),
                Scope::Specialist(id) => (
                    Dimension::Specialist.list_pk(),
                    id.clone(),
                    serde_json::json!({ "specialist_id": id, "name": r.names.specialist }),
                ),
            };
            ops.push(TxOp::put(Item::new(pk, sk, body), Condition::None));
        }
    }
    ops
}

/// One state's figures in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateAgeing {
    pub state: State,
    /// Referrals in this state now.
    pub count: i64,
    /// Stays in this state that have ended (pending states only; 0 for final ones).
    pub stays: i64,
    /// The median stay is at most this many seconds (the bound of its histogram bucket).
    pub median_seconds_at_most: Option<i64>,
    /// 90 % of the stays were at most this many seconds.
    pub p90_seconds_at_most: Option<i64>,
}

/// The bound of the bucket holding the `percent`-th percentile of `histogram`.
pub fn percentile_bound(histogram: &[i64; BUCKETS], percent: i64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total <= 0 {
        return None;
    }
    // The smallest rank at or past `percent` % (ceiling), at least the first.
    let rank = ((total * percent + 99) / 100).max(1);
    let mut seen = 0;
    for (bucket, n) in histogram.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return BUCKET_BOUNDS_SECONDS.get(bucket).copied();
        }
    }
    None
}

/// Most counter items of one scope (a page holds them all).
const SCOPE_ITEMS: usize = STATES.len() + 2 * BUCKETS;

/// The figures of one scope, every state in [`STATES`] order: one Query.
async fn read_scope(store: &dyn Store, scope: &Scope) -> Result<Vec<StateAgeing>, StoreError> {
    let q = Query::partition(Index::Primary, scope.pk()).limit(SCOPE_ITEMS + 1);
    let page = store.query(&q).await?;
    let mut counts = std::collections::BTreeMap::<String, i64>::new();
    for item in &page.items {
        counts.insert(item.sk.clone(), item.count.unwrap_or(0));
    }
    Ok(STATES
        .iter()
        .map(|state| {
            let mut histogram = [0i64; BUCKETS];
            for (bucket, slot) in histogram.iter_mut().enumerate() {
                *slot = counts
                    .get(&stays(scope, *state, bucket).sk)
                    .copied()
                    .unwrap_or(0);
            }
            StateAgeing {
                state: *state,
                count: counts
                    .get(&in_state(scope, *state).sk)
                    .copied()
                    .unwrap_or(0),
                stays: histogram.iter().sum(),
                median_seconds_at_most: percentile_bound(&histogram, 50),
                p90_seconds_at_most: percentile_bound(&histogram, 90),
            }
        })
        .collect())
}

/// The pending referral that has waited longest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldestPending {
    pub referral_id: String,
    pub state: State,
    pub specialist_id: String,
    pub created_at: DateTime<Utc>,
    /// Seconds since it was made.
    pub age_seconds: i64,
}

/// All referrals: every state's figures and the oldest pending referral (two Queries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overall {
    pub states: Vec<StateAgeing>,
    pub oldest_pending: Option<OldestPending>,
}

/// The figures over all referrals.
pub async fn overall(store: &dyn Store, now: DateTime<Utc>) -> Result<Overall, StoreError> {
    let states = read_scope(store, &Scope::All).await?;
    let first = Query::partition(Index::Gsi1, referral_keys::EXPIRY).limit(1);
    let oldest_pending = match store.query(&first).await?.items.first() {
        Some(item) => {
            let r: Referral = item.decode()?;
            Some(OldestPending {
                age_seconds: (now - r.created_at).num_seconds().max(0),
                referral_id: r.referral_id,
                state: r.state,
                specialist_id: r.specialist_id,
                created_at: r.created_at,
            })
        }
        None => None,
    };
    Ok(Overall {
        states,
        oldest_pending,
    })
}

/// One specialty's or specialist's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAgeing {
    /// The folded specialty, or the specialist's id.
    pub key: String,
    /// The specialist's name as the referral recorded it (specialists only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub states: Vec<StateAgeing>,
}

/// A page of groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPage {
    pub items: Vec<GroupAgeing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of specialties or specialists (in key order) with their figures: one Query for the
/// page and one per group, whatever the number of referrals. A cursor is only ever one of
/// this very list's.
pub async fn by(
    store: &dyn Store,
    dimension: Dimension,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<GroupPage, super::ReferralError> {
    if cursor
        .as_ref()
        .is_some_and(|c| c.pk != dimension.list_pk() || c.ipk.is_some())
    {
        return Err(super::ReferralError::Invalid {
            field: "cursor",
            reason: "not a cursor of this list".into(),
        });
    }
    let q = Query::partition(Index::Primary, dimension.list_pk())
        .limit(limit)
        .after(cursor);
    let page = store.query(&q).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for entry in &page.items {
        let scope = match dimension {
            Dimension::Specialty => Scope::Specialty(entry.sk.clone()),
            Dimension::Specialist => Scope::Specialist(entry.sk.clone()),
        };
        items.push(GroupAgeing {
            key: entry.sk.clone(),
            name: entry
                .body
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            states: read_scope(store, &scope).await?,
        });
    }
    Ok(GroupPage {
        items,
        next_cursor: page.next.map(|c| c.encode()),
    })
}

/// The CSV's columns.
pub const CSV_COLUMNS: [&str; 8] = [
    "group",
    "key",
    "name",
    "state",
    "count",
    "stays",
    "median_seconds_at_most",
    "p90_seconds_at_most",
];

/// The CSV rows of one group's states.
pub fn csv_rows(
    group: &str,
    key: &str,
    name: Option<&str>,
    states: &[StateAgeing],
) -> Vec<Vec<crate::export::cells::Cell>> {
    use crate::export::cells::Cell;
    let opt = |v: Option<i64>| v.map(Cell::Int).unwrap_or(Cell::Empty);
    states
        .iter()
        .map(|s| {
            vec![
                Cell::Text(group.to_string()),
                Cell::Text(key.to_string()),
                name.map(|n| Cell::Text(n.to_string()))
                    .unwrap_or(Cell::Empty),
                Cell::Text(s.state.as_str().to_string()),
                Cell::Int(s.count),
                Cell::Int(s.stays),
                opt(s.median_seconds_at_most),
                opt(s.p90_seconds_at_most),
            ]
        })
        .collect()
}

/// The CSV document of `rows` ([`CSV_COLUMNS`]; no time cells, so no zone applies).
pub fn csv(rows: &[Vec<crate::export::cells::Cell>]) -> Vec<u8> {
    crate::export::csv::to_csv(&CSV_COLUMNS, rows, chrono_tz::UTC, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_fall_in_their_bucket_at_its_edges() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(3_600), 0);
        assert_eq!(bucket_of(3_601), 1);
        assert_eq!(bucket_of(14 * 86_400), 9);
        assert_eq!(bucket_of(60 * 86_400), 12);
        assert_eq!(bucket_of(60 * 86_400 + 1), 13);
    }

    #[test]
    fn percentiles_are_the_bounds_of_their_buckets() {
        let mut h = [0i64; BUCKETS];
        assert_eq!(percentile_bound(&h, 50), None);
        // Nine stays of at most an hour, one of two days.
        h[0] = 9;
        h[4] = 1;
        assert_eq!(percentile_bound(&h, 50), Some(3_600));
        assert_eq!(percentile_bound(&h, 90), Some(3_600));
        h[0] = 8;
        h[4] = 2;
        assert_eq!(percentile_bound(&h, 90), Some(2 * 86_400));
        let mut long = [0i64; BUCKETS];
        long[BUCKETS - 1] = 1;
        assert_eq!(percentile_bound(&long, 50), None);
    }
}
