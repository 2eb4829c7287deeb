//! The figures of one statistics bucket ([`Stats`]), a statistics item's body, and the
//! arithmetic of a change: what one source item contributes ([`Contribution`]) and the move
//! from its contribution before to after ([`moves`], [`apply_move`]).

use crate::ports::Key;
use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The part of a room call inside one bucket and one room, when the call's participants fall
/// in more than one (bucket, room): merged by call id at read time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCall {
    pub first_join: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_leave: Option<DateTime<Utc>>,
    pub participants: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The figures of one bucket (a quarter-hour slot, or a UTC day). Every field but `split` is
/// additive (ingest adds the difference a change makes; entries back at zero are removed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Answered segments (with a host and an end) by consultation seconds: `{seconds: count}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub durations: BTreeMap<i64, i64>,
    /// Abandoned segments.
    #[serde(skip_serializing_if = "is_zero")]
    pub abandoned: i64,
    /// The consultations each host account attended, by the consultation's seconds.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, BTreeMap<i64, i64>>,
    /// Each host account's own attendance in those consultations (its host participants'
    /// seconds from join to leave), by the consultation's seconds (the Service providers
    /// report, C7).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attended: BTreeMap<String, BTreeMap<i64, i64>>,
    /// Logins per account.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub logins: BTreeMap<String, i64>,
    /// Room calls whose participants all fall in this bucket and one room, by room:
    /// `[calls, seconds, participants]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rooms: BTreeMap<String, [i64; 3]>,
    /// The other room calls' parts in this bucket: `{call: {room: part}}`, replaced whole by
    /// each change of the call (not additive).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub split: BTreeMap<String, BTreeMap<String, SplitCall>>,
}

fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, from: &BTreeMap<K, i64>, sign: i64) {
    for (k, n) in from {
        let v = into.entry(k.clone()).or_default();
        *v += sign * n;
        if *v == 0 {
            into.remove(k);
        }
    }
}

fn add_nested(
    into: &mut BTreeMap<String, BTreeMap<i64, i64>>,
    from: &BTreeMap<String, BTreeMap<i64, i64>>,
    sign: i64,
) {
    for (acc, d) in from {
        let e = into.entry(acc.clone()).or_default();
        add_map(e, d, sign);
        if e.is_empty() {
            into.remove(acc);
        }
    }
}

impl Stats {
    pub fn is_empty(&self) -> bool {
        *self == Stats::default()
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) the additive figures of `other`.
    pub(super) fn add(&mut self, other: &Stats, sign: i64) {
        add_map(&mut self.durations, &other.durations, sign);
        self.abandoned += sign * other.abandoned;
        add_nested(&mut self.hosts, &other.hosts, sign);
        add_nested(&mut self.attended, &other.attended, sign);
        add_map(&mut self.logins, &other.logins, sign);
        for (room, f) in &other.rooms {
            let e = self.rooms.entry(room.clone()).or_default();
            for i in 0..3 {
                e[i] += sign * f[i];
            }
            if *e == [0; 3] {
                self.rooms.remove(room);
            }
        }
    }
}

/// A statistics item's body: its slots (`0`–`3` in an hour item, `0` in a day item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsItem {
    pub slots: BTreeMap<u8, Stats>,
}

/// What one item contributes, by statistics item and slot.
pub type Contribution = BTreeMap<(Key, u8), Stats>;

/// Adds contribution `c` to `into` (the additive figures summed, split parts put together:
/// each call's come from one item).
pub fn accumulate(into: &mut Contribution, c: Contribution) {
    for (k, s) in c {
        let e = into.entry(k).or_default();
        e.add(&s, 1);
        e.split.extend(s.split);
    }
}

/// Applies to `target` the move from `before` to `after` (one item's contribution to one
/// slot, before and after a change): the additive figures by difference, and each room call
/// whose split part changed replaced by its part after (or removed).
pub fn apply_move(target: &mut Stats, before: &Stats, after: &Stats) {
    target.add(after, 1);
    target.add(before, -1);
    let calls: BTreeSet<&String> = before.split.keys().chain(after.split.keys()).collect();
    for call in calls {
        if before.split.get(call) == after.split.get(call) {
            continue;
        }
        match after.split.get(call) {
            Some(parts) => {
                target.split.insert(call.clone(), parts.clone());
            }
            None => {
                target.split.remove(call);
            }
        }
    }
}

/// The moves a change makes: for each (item, slot) either contribution touches, the pair
/// (before, after), left out when equal.
pub fn moves(before: &Contribution, after: &Contribution) -> BTreeMap<(Key, u8), (Stats, Stats)> {
    let mut out = BTreeMap::new();
    let keys: BTreeSet<&(Key, u8)> = before.keys().chain(after.keys()).collect();
    for k in keys {
        let b = before.get(k).cloned().unwrap_or_default();
        let a = after.get(k).cloned().unwrap_or_default();
        if a != b {
            out.insert(k.clone(), (b, a));
        }
    }
    out
}

/// The UTC quarter hour `t` falls in: its hour and slot (0–3).
pub fn slot_of(t: DateTime<Utc>) -> (DateTime<Utc>, u8) {
    let hour = t
        .with_minute(0)
        .and_then(|h| h.with_second(0))
        .and_then(|h| h.with_nanosecond(0))
        .unwrap_or(t);
    (hour, (t.minute() / 15) as u8)
}
