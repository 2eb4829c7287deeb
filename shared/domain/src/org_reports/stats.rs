//! Period statistics for the summary tiles (SPEC C2) at a constant number of store reads
//! (issue 8, SPEC Q4): statistics items that ingest keeps by difference, bucketed by the UTC
//! quarter hour in which each thing started, and the read that sums the buckets of a period.
//!
//! Items (`docs/dynamodb.md`, "Tile statistics"):
//!
//! - `ORGSTATS#<org>` / `DAY#<YYYY-MM-DD>`: one UTC day's figures (slot `0` only): logins and
//!   room calls;
//! - `ORGSTATS#<org>` / `DAY#<YYYY-MM-DD>#S<k>`: the day's waiting-area figures of the
//!   segments of shard `k` ([`DAY_SHARDS`], [`day_shard`]), so that no write carries the whole
//!   day's figures by second and by host;
//! - `ORGSTATS#<org>` / `HOUR#<YYYY-MM-DDTHH>`: one UTC hour, as quarter-hour slots `0`–`3`;
//! - `CLINICSTATS#<clinic>` / the same sort keys (the day's figures in its shards only): the
//!   waiting-area figures of one clinic (for clinic-level tiles; logins and room calls are
//!   read from the organisation's items, where the raw path reads them too);
//! - `ROOMCALL#<call>` / `CALL`: a summary of a room call's participants (room, organisation,
//!   first join, last leave), so that a call's contribution is a pure function of one item.
//!
//! Every contribution is a pure function of one item ([`segment_contribution`],
//! [`login_contribution`], [`call_contribution`]): ingest moves the statistics by the
//! difference between the item's contribution before and after its event
//! ([`apply_move`]). The figures they give for a period equal what the raw lists give
//! ([`super::tiles::raw_period_figures`], kept as the oracle): see [`read_period_figures`].

use super::consultations::{consultation_seconds, segment_participants};
use super::ReportScope;
use crate::events::types::ParticipantType;
use crate::ports::{Item, Key, Store, StoreError};
use crate::readmodels::Segment;
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The statistics item of an organisation for a UTC day.
pub fn org_day(org: &str, day: NaiveDate) -> Key {
    Key::new(
        format!("ORGSTATS#{org}"),
        format!("DAY#{}", day.format("%Y-%m-%d")),
    )
}

/// Shards of a day's waiting-area figures: each segment's contribution to a day goes to one
/// of them, chosen by its id ([`day_shard`]), so that a busy day's figures by second and by
/// host are spread over this many items instead of rewritten whole by every change (issue 8:
/// the write cost of ingest). Readers read the day item and all its shards.
pub const DAY_SHARDS: u64 = 8;

/// The shard of a segment's day figures: FNV-1a of its id, so that it never changes and each
/// change of the segment moves figures within one item.
pub fn day_shard(segment_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in segment_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % DAY_SHARDS
}

/// A shard of an organisation's day item (its segments' figures).
pub fn org_day_shard(org: &str, day: NaiveDate, shard: u64) -> Key {
    Key::new(
        format!("ORGSTATS#{org}"),
        format!("DAY#{}#S{shard}", day.format("%Y-%m-%d")),
    )
}

/// A shard of a clinic's day item.
pub fn clinic_day_shard(clinic: &str, day: NaiveDate, shard: u64) -> Key {
    Key::new(
        format!("CLINICSTATS#{clinic}"),
        format!("DAY#{}#S{shard}", day.format("%Y-%m-%d")),
    )
}

/// The statistics item of an organisation for a UTC hour (its four quarter-hour slots).
pub fn org_hour(org: &str, hour: DateTime<Utc>) -> Key {
    Key::new(
        format!("ORGSTATS#{org}"),
        format!("HOUR#{}", hour.format("%Y-%m-%dT%H")),
    )
}

/// The statistics item of a clinic for a UTC day.
pub fn clinic_day(clinic: &str, day: NaiveDate) -> Key {
    Key::new(
        format!("CLINICSTATS#{clinic}"),
        format!("DAY#{}", day.format("%Y-%m-%d")),
    )
}

/// The statistics item of a clinic for a UTC hour.
pub fn clinic_hour(clinic: &str, hour: DateTime<Utc>) -> Key {
    Key::new(
        format!("CLINICSTATS#{clinic}"),
        format!("HOUR#{}", hour.format("%Y-%m-%dT%H")),
    )
}

/// The summary item of a room call.
pub fn call_summary_key(call_id: &str) -> Key {
    Key::new(format!("ROOMCALL#{call_id}"), "CALL")
}

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
    fn add(&mut self, other: &Stats, sign: i64) {
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

fn add_to(out: &mut Contribution, key: Key, slot: u8, f: impl Fn(&mut Stats)) {
    f(out.entry((key, slot)).or_default());
}

/// What a segment item contributes: when it has a start, an organisation and a clinic (what
/// puts it in the segment indexes), one abandoned call, or — answered, with a host and an
/// end — one consultation of its consultation seconds and one attended consultation of those
/// seconds per host account, with the account's attendance; in its start's hour slot and day,
/// of its organisation and of its clinic (the day's in the segment's shard of the day,
/// [`day_shard`]).
pub fn segment_contribution(seg: &Segment) -> Contribution {
    let mut out = Contribution::new();
    let (Some(start), Some(org), Some(clinic)) = (seg.started_at, &seg.org_id, &seg.clinic_id)
    else {
        return out;
    };
    let mut stats = Stats::default();
    if seg.abandoned_at.is_some() {
        stats.abandoned = 1;
    } else {
        let parts = segment_participants(seg);
        let Some(secs) = consultation_seconds(seg, &parts) else {
            return out;
        };
        stats.durations.insert(secs, 1);
        for (h, attended) in host_attendance(&parts) {
            stats.hosts.insert(h.clone(), BTreeMap::from([(secs, 1)]));
            if attended != 0 {
                stats
                    .attended
                    .insert(h.clone(), BTreeMap::from([(secs, attended)]));
            }
        }
    }
    let (hour, slot) = slot_of(start);
    let day = start.date_naive();
    let shard = day_shard(&seg.segment_id);
    for (key, slot) in [
        (org_hour(org, hour), slot),
        (org_day_shard(org, day, shard), 0),
        (clinic_hour(clinic, hour), slot),
        (clinic_day_shard(clinic, day, shard), 0),
    ] {
        add_to(&mut out, key, slot, |s| s.add(&stats, 1));
    }
    out
}

/// Each host account of a segment's participants with its attendance: the seconds from join
/// to leave of its host participants (0 for one without both), summed — what the raw lists'
/// [`super::data::ReportData::waiting_area`] counts.
pub fn host_attendance(parts: &[&crate::readmodels::SegmentParticipant]) -> BTreeMap<String, i64> {
    let mut hosts = BTreeMap::new();
    for p in parts
        .iter()
        .filter(|p| p.participant_type == Some(ParticipantType::Host))
    {
        if let Some(acc) = &p.account_id {
            let attended = match (p.joined_at, p.left_at) {
                (Some(a), Some(b)) if b >= a => (b - a).num_seconds(),
                _ => 0,
            };
            *hosts.entry(acc.clone()).or_insert(0) += attended;
        }
    }
    hosts
}

/// What a login item (`ACCOUNT#<id>` / `LOGIN#…`, body `{account_id, org_id, at}`)
/// contributes: one login of its account in its hour slot and day of its organisation.
pub fn login_contribution(body: &serde_json::Value) -> Contribution {
    let mut out = Contribution::new();
    let field = |name: &str| body.get(name).and_then(|v| v.as_str());
    let (Some(account), Some(org), Some(at)) = (
        field("account_id"),
        field("org_id"),
        field("at").and_then(|t| t.parse::<DateTime<Utc>>().ok()),
    ) else {
        return out;
    };
    let (hour, slot) = slot_of(at);
    for (key, slot) in [
        (org_hour(org, hour), slot),
        (org_day(org, at.date_naive()), 0),
    ] {
        add_to(&mut out, key, slot, |s| {
            s.logins.insert(account.to_string(), 1);
        });
    }
    out
}

/// One participant of a room call, as the call's summary item keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallPart {
    pub room_id: String,
    pub org_id: Option<String>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub left_at: Option<DateTime<Utc>>,
}

/// A room call's summary item (`ROOMCALL#<call>` / `CALL`): each participant's copy, by id,
/// written with the participant item it copies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallSummary {
    pub call_id: String,
    pub participants: BTreeMap<String, CallPart>,
}

fn span(parts: &[&CallPart]) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    (
        parts.iter().filter_map(|p| p.joined_at).min(),
        parts.iter().filter_map(|p| p.left_at).max(),
    )
}

/// Seconds of a call's span (first join to last leave), 0 without one, as
/// [`super::data::call_span`] counts them.
pub fn span_seconds(first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> i64 {
    match (first, last) {
        (Some(a), Some(b)) if b >= a => (b - a).num_seconds(),
        _ => 0,
    }
}

/// What a room call contributes, per organisation of its participants (those with a join and
/// an organisation: what puts them in the organisation's room-call index), at each level
/// (hour slots; days): when all its participants fall in one (bucket, room), one call with its
/// span and participants, additive; otherwise its part in each (bucket, room) they fall in.
pub fn call_contribution(call: &CallSummary) -> Contribution {
    let mut out = Contribution::new();
    let mut by_org: BTreeMap<&str, Vec<(&CallPart, DateTime<Utc>)>> = BTreeMap::new();
    for p in call.participants.values() {
        if let (Some(org), Some(j)) = (&p.org_id, p.joined_at) {
            by_org.entry(org.as_str()).or_default().push((p, j));
        }
    }
    for (org, parts) in by_org {
        for level in [Level::Hour, Level::Day] {
            let mut groups: BTreeMap<((Key, u8), &str), Vec<&CallPart>> = BTreeMap::new();
            for (p, j) in &parts {
                let bucket = match level {
                    Level::Hour => {
                        let (hour, slot) = slot_of(*j);
                        (org_hour(org, hour), slot)
                    }
                    Level::Day => (org_day(org, j.date_naive()), 0),
                };
                groups
                    .entry((bucket, p.room_id.as_str()))
                    .or_default()
                    .push(p);
            }
            let single = groups.len() == 1;
            for ((bucket, room), ps) in groups {
                let (first, last) = span(&ps);
                let n = ps.len() as i64;
                let s = out.entry(bucket).or_default();
                if single {
                    let e = s.rooms.entry(room.to_string()).or_default();
                    e[0] += 1;
                    e[1] += span_seconds(first, last);
                    e[2] += n;
                } else if let Some(first) = first {
                    s.split.entry(call.call_id.clone()).or_default().insert(
                        room.to_string(),
                        SplitCall {
                            first_join: first,
                            last_leave: last,
                            participants: n,
                        },
                    );
                }
            }
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Level {
    Hour,
    Day,
}

/// The period figures the tiles show beyond the organisation's size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodFigures {
    pub consultations: i64,
    pub consultation_seconds: i64,
    pub abandoned: i64,
    /// Accounts that hosted a consultation of the period.
    pub hosts: BTreeSet<String>,
    /// Per host account: `[consultations hosted, its attendance in them in seconds]`.
    pub hosted: BTreeMap<String, [i64; 2]>,
    /// Accounts that logged in during the period.
    pub logged_in: BTreeSet<String>,
    pub room_calls: i64,
    pub room_call_seconds: i64,
    pub room_call_participants: i64,
}

/// The buckets a period reads: whole UTC days, and (hour, slots) for the partial ends. `None`
/// when a bound is not on a UTC quarter hour (only historical zone offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodBuckets {
    pub days: Vec<NaiveDate>,
    pub hours: Vec<(DateTime<Utc>, Vec<u8>)>,
}

fn on_quarter(t: DateTime<Utc>) -> bool {
    t.nanosecond() == 0 && t.second() == 0 && t.minute().is_multiple_of(15)
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map_or(DateTime::<Utc>::MIN_UTC, |n| n.and_utc())
}

/// The buckets of `[start, end)`.
pub fn period_buckets(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<PeriodBuckets> {
    if !(on_quarter(start) && on_quarter(end)) {
        return None;
    }
    let mut out = PeriodBuckets {
        days: Vec::new(),
        hours: Vec::new(),
    };
    if end <= start {
        return Some(out);
    }
    let first_whole = if day_start(start.date_naive()) == start {
        start.date_naive()
    } else {
        start.date_naive().succ_opt()?
    };
    let last_bound = end.date_naive();
    let mut partial: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    if first_whole < last_bound {
        let mut d = first_whole;
        while d < last_bound {
            out.days.push(d);
            d = d.succ_opt()?;
        }
        partial.push((start, day_start(first_whole)));
        partial.push((day_start(last_bound), end));
    } else {
        partial.push((start, end));
    }
    for (a, b) in partial {
        let mut t = a;
        while t < b {
            let (hour, slot) = slot_of(t);
            match out.hours.last_mut() {
                Some((h, slots)) if *h == hour => slots.push(slot),
                _ => out.hours.push((hour, vec![slot])),
            }
            t += Duration::minutes(15);
        }
    }
    Some(out)
}

/// The slots asked for of each item, read in one [`Store::get_many`].
async fn read_slots(
    store: &dyn Store,
    keys: Vec<(Key, Vec<u8>)>,
) -> Result<Vec<Stats>, StoreError> {
    let (keys, slots): (Vec<Key>, Vec<Vec<u8>>) = keys.into_iter().unzip();
    let items = store.get_many(&keys).await?;
    let mut out = Vec::new();
    for (item, slots) in items.into_iter().zip(slots) {
        let Some(item) = item else {
            continue;
        };
        let mut body: StatsItem = Item::decode(&item)?;
        for s in slots {
            if let Some(stats) = body.slots.remove(&s) {
                out.push(stats);
            }
        }
    }
    Ok(out)
}

/// The buckets' keys for one statistics partition (`day`, `shard`, `hour` make the keys):
/// each whole day's item and its [`DAY_SHARDS`] shards, each partial hour's item.
fn bucket_keys(
    b: &PeriodBuckets,
    day: impl Fn(NaiveDate) -> Key,
    shard: impl Fn(NaiveDate, u64) -> Key,
    hour: impl Fn(DateTime<Utc>) -> Key,
) -> Vec<(Key, Vec<u8>)> {
    b.days
        .iter()
        .flat_map(|d| {
            std::iter::once((day(*d), vec![0]))
                .chain((0..DAY_SHARDS).map(|k| (shard(*d, k), vec![0])))
                .collect::<Vec<_>>()
        })
        .chain(b.hours.iter().map(|(h, s)| (hour(*h), s.clone())))
        .collect()
}

/// The buckets' keys under `CLINICSTATS#<clinic>`.
fn clinic_keys(b: &PeriodBuckets, clinic: &str) -> Vec<(Key, Vec<u8>)> {
    bucket_keys(
        b,
        |d| clinic_day(clinic, d),
        |d, k| clinic_day_shard(clinic, d, k),
        |h| clinic_hour(clinic, h),
    )
}

/// The period figures from the statistics items: per bucket of the period (whole UTC days,
/// hours of the partial ends) of the organisation — and, at clinic level, of the clinic too —
/// its item (and a day's [`DAY_SHARDS`] shards), read in one [`Store::get_many`], whatever the
/// volume. `rooms` are the rooms in scope. `None` when a bound is not on a UTC quarter hour
/// (the caller then reads the raw lists).
pub async fn read_period_figures(
    store: &dyn Store,
    scope: &ReportScope,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    min_duration_seconds: u32,
    rooms: &BTreeSet<String>,
) -> Result<Option<PeriodFigures>, StoreError> {
    let Some(buckets) = period_buckets(start, end) else {
        return Ok(None);
    };
    let org = scope.org_id();
    let org_stats = read_slots(
        store,
        bucket_keys(
            &buckets,
            |d| org_day(org, d),
            |d, k| org_day_shard(org, d, k),
            |h| org_hour(org, h),
        ),
    )
    .await?;
    let segment_stats = match scope.clinic_id() {
        None => org_stats.clone(),
        Some(clinic) => read_slots(store, clinic_keys(&buckets, clinic)).await?,
    };
    Ok(Some(sum_figures(
        &segment_stats,
        &org_stats,
        min_duration_seconds,
        rooms,
    )))
}

/// One clinic's waiting-area figures of a period (consultations, their seconds, abandoned
/// calls, hosts and their attendance) from its statistics items only: per bucket of the
/// period its item under `CLINICSTATS#<clinic>` (and a day's shards), in one
/// [`Store::get_many`], whatever the volume (the Clinic and Service providers reports, C5 and
/// C7). Logins and room calls stay empty. `None` when a bound is not on a UTC quarter hour.
pub async fn read_clinic_figures(
    store: &dyn Store,
    clinic: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    min_duration_seconds: u32,
) -> Result<Option<PeriodFigures>, StoreError> {
    let Some(buckets) = period_buckets(start, end) else {
        return Ok(None);
    };
    let stats = read_slots(store, clinic_keys(&buckets, clinic)).await?;
    Ok(Some(sum_figures(
        &stats,
        &[],
        min_duration_seconds,
        &BTreeSet::new(),
    )))
}

/// Sums the buckets of a period: waiting-area figures from `segments` (the scope's buckets),
/// logins and room calls (in `rooms`) from `org`.
pub fn sum_figures(
    segments: &[Stats],
    org: &[Stats],
    min_duration_seconds: u32,
    rooms: &BTreeSet<String>,
) -> PeriodFigures {
    let min = i64::from(min_duration_seconds);
    let mut f = PeriodFigures::default();
    let mut hosts: BTreeMap<&String, i64> = BTreeMap::new();
    for s in segments {
        for (secs, n) in s.durations.range(min..) {
            f.consultations += n;
            f.consultation_seconds += secs * n;
        }
        f.abandoned += s.abandoned;
        for (acc, d) in &s.hosts {
            let n = d.range(min..).map(|(_, n)| n).sum::<i64>();
            *hosts.entry(acc).or_default() += n;
            f.hosted.entry(acc.clone()).or_default()[0] += n;
        }
        for (acc, d) in &s.attended {
            let secs = d.range(min..).map(|(_, n)| n).sum::<i64>();
            f.hosted.entry(acc.clone()).or_default()[1] += secs;
        }
    }
    f.hosted.retain(|_, [n, _]| *n > 0);
    f.hosts = hosts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(a, _)| a.clone())
        .collect();
    let mut logins: BTreeMap<&String, i64> = BTreeMap::new();
    let mut split: BTreeMap<&String, SplitCall> = BTreeMap::new();
    for s in org {
        for (acc, n) in &s.logins {
            *logins.entry(acc).or_default() += n;
        }
        for (room, [calls, secs, parts]) in &s.rooms {
            if rooms.contains(room) {
                f.room_calls += calls;
                f.room_call_seconds += secs;
                f.room_call_participants += parts;
            }
        }
        for (call, by_room) in &s.split {
            for (room, part) in by_room {
                if !rooms.contains(room) {
                    continue;
                }
                match split.get_mut(call) {
                    Some(e) => {
                        e.first_join = e.first_join.min(part.first_join);
                        e.last_leave = e.last_leave.max(part.last_leave);
                        e.participants += part.participants;
                    }
                    None => {
                        split.insert(call, part.clone());
                    }
                }
            }
        }
    }
    f.logged_in = logins
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(a, _)| a.clone())
        .collect();
    for part in split.values() {
        f.room_calls += 1;
        f.room_call_seconds += span_seconds(Some(part.first_join), part.last_leave);
        f.room_call_participants += part.participants;
    }
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::org_reports::params::ReportParams;

    fn params(zone: &str, from: NaiveDate, days: u64) -> ReportParams {
        ReportParams {
            from,
            to: from.checked_add_days(chrono::Days::new(days)).unwrap(),
            zone: zone.parse().unwrap(),
            min_duration_seconds: 0,
        }
    }

    /// The buckets of a period cover it exactly, once: whole UTC days inside it and quarter
    /// hours of the partial ends, for zones with DST changes and :30/:45 offsets.
    #[test]
    fn buckets_partition_the_period() {
        let zones = [
            "UTC",
            "Europe/London",
            "Australia/Sydney",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "America/St_Johns",
            "Pacific/Chatham",
        ];
        let first = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        for zone in zones {
            for shift in 0..20 {
                for days in [0, 1, 2, 6, 40] {
                    let from = first.checked_add_days(chrono::Days::new(shift)).unwrap();
                    let p = params(zone, from, days);
                    let (start, end) = (p.start_utc(), p.end_utc());
                    let b = period_buckets(start, end).unwrap();
                    let mut covered = Vec::new();
                    for d in &b.days {
                        let s = day_start(*d);
                        assert!(s >= start && s + Duration::days(1) <= end, "{zone} {from}");
                        covered.push((s, s + Duration::days(1)));
                    }
                    for (h, slots) in &b.hours {
                        for q in slots {
                            let s = *h + Duration::minutes(15 * i64::from(*q));
                            assert!(s >= start && s + Duration::minutes(15) <= end);
                            covered.push((s, s + Duration::minutes(15)));
                        }
                    }
                    covered.sort();
                    let mut at = start;
                    for (s, e) in covered {
                        assert_eq!(s, at, "{zone} {from} +{days}: a gap or an overlap");
                        at = e;
                    }
                    assert_eq!(at, end, "{zone} {from} +{days}");
                    // One item per whole day, one per partial hour: at most 2 × 25 hours.
                    assert!(b.hours.len() <= 50);
                }
            }
        }
    }

    /// A bound off the quarter hours (Liberia's -0:44:30 until 1972) has no buckets: the
    /// tiles read the raw lists then.
    #[test]
    fn a_bound_off_the_quarter_hours_has_no_buckets() {
        let p = params(
            "Africa/Monrovia",
            NaiveDate::from_ymd_opt(1971, 6, 1).unwrap(),
            0,
        );
        assert_eq!(p.start_utc().second(), 30);
        assert!(period_buckets(p.start_utc(), p.end_utc()).is_none());
    }

    fn part(room: &str, join: &str, left: Option<&str>) -> CallPart {
        CallPart {
            room_id: room.into(),
            org_id: Some("o".into()),
            joined_at: Some(join.parse().unwrap()),
            left_at: left.map(|l| l.parse().unwrap()),
        }
    }

    /// Moving a room call's statistics from one state to another and back leaves nothing; a
    /// call inside one slot is additive, one across slots is split, and the move between the
    /// two replaces its parts.
    #[test]
    fn call_moves_are_exact_differences() {
        let one = CallSummary {
            call_id: "c".into(),
            participants: BTreeMap::from([(
                "p1".into(),
                part("r", "2026-04-01T10:01:00Z", Some("2026-04-01T10:20:00Z")),
            )]),
        };
        let mut two = one.clone();
        two.participants.insert(
            "p2".into(),
            part("r", "2026-04-01T10:16:00Z", Some("2026-04-01T10:30:30Z")),
        );
        let (c1, c2) = (call_contribution(&one), call_contribution(&two));
        let hour = (org_hour("o", "2026-04-01T10:00:00Z".parse().unwrap()), 0u8);
        assert_eq!(c1[&hour].rooms["r"], [1, 19 * 60, 1]);
        assert!(c2[&hour].rooms.is_empty() && c2[&hour].split.contains_key("c"));
        let day = (
            org_day("o", NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()),
            0u8,
        );
        assert_eq!(c2[&day].rooms["r"], [1, 29 * 60 + 30, 2]);
        let mut items: BTreeMap<(Key, u8), Stats> = BTreeMap::new();
        for (contrib_before, contrib_after) in
            [(Contribution::new(), c1.clone()), (c1.clone(), c2.clone())]
        {
            for (k, (b, a)) in moves(&contrib_before, &contrib_after) {
                apply_move(items.entry(k).or_default(), &b, &a);
            }
        }
        for (k, s) in &c2 {
            assert_eq!(items.get(k), Some(s), "{k:?}");
        }
        for (k, (b, a)) in moves(&c2, &Contribution::new()) {
            apply_move(items.entry(k).or_default(), &b, &a);
        }
        assert!(items.values().all(Stats::is_empty), "{items:?}");
    }

    fn answered(segment: &str, host: &str, start: &str, minutes: i64) -> Segment {
        let start: DateTime<Utc> = start.parse().unwrap();
        Segment {
            session_id: "s".into(),
            segment_id: segment.into(),
            org_id: Some("o".into()),
            clinic_id: Some("c".into()),
            started_at: Some(start),
            ended_at: Some(start + Duration::minutes(minutes)),
            participants: vec![crate::readmodels::SegmentParticipant {
                segment_id: segment.into(),
                participant_id: format!("{segment}-h"),
                participant_type: Some(ParticipantType::Host),
                account_id: Some(host.into()),
                joined_at: Some(start),
                // The host leaves a minute before the end: its attendance is a minute less.
                left_at: Some(start + Duration::minutes(minutes - 1)),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// A segment's day figures go to its shard of the day (the same before and after any
    /// change), its hour figures to the hour item; the shards spread segments evenly.
    #[test]
    fn day_figures_go_to_the_segments_shard() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let seg = answered("seg-17", "acc-1", "2026-04-01T10:20:00Z", 12);
        let shard = day_shard("seg-17");
        assert!(shard < DAY_SHARDS);
        assert_eq!(day_shard("seg-17"), shard, "stable");
        let keys: Vec<(Key, u8)> = segment_contribution(&seg).into_keys().collect();
        let hour = "2026-04-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            keys,
            vec![
                (clinic_day_shard("c", day, shard), 0),
                (clinic_hour("c", hour), 1),
                (org_day_shard("o", day, shard), 0),
                (org_hour("o", hour), 1),
            ]
        );
        assert_eq!(org_day_shard("o", day, 3).sk, "DAY#2026-04-01#S3");
        let mut per_shard = [0u32; DAY_SHARDS as usize];
        for i in 0..8000 {
            per_shard[day_shard(&format!("01HZSEG{i:019}")) as usize] += 1;
        }
        assert!(
            per_shard.iter().all(|n| (800..1200).contains(n)),
            "{per_shard:?}"
        );
    }

    /// A day's figures written before the shards (in the day item) and moved after them (a
    /// change of that segment takes its old contribution from its shard) still sum to what
    /// the segment contributes now: readers add up the day item and its shards.
    #[test]
    fn figures_in_the_day_item_and_its_shards_add_up() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let before = answered("seg-1", "acc-1", "2026-04-01T10:20:00Z", 12);
        let after = answered("seg-1", "acc-2", "2026-04-01T10:20:00Z", 30);
        let shard = (org_day_shard("o", day, day_shard("seg-1")), 0u8);
        // The old layout: the figures in the day item.
        let main = segment_contribution(&before)[&shard].clone();
        let mut shard_stats = Stats::default();
        let c_before = segment_contribution(&before);
        let c_after = segment_contribution(&after);
        let m = moves(&c_before, &c_after);
        let (b, a) = &m[&shard];
        apply_move(&mut shard_stats, b, a);
        assert_eq!(shard_stats.hosts["acc-1"][&720], -1);
        assert_eq!(shard_stats.attended["acc-1"][&720], -660);
        let f = sum_figures(&[main, shard_stats], &[], 600, &BTreeSet::new());
        assert_eq!(f.consultations, 1);
        assert_eq!(f.consultation_seconds, 1800);
        assert_eq!(f.hosts, BTreeSet::from(["acc-2".to_string()]));
        assert_eq!(f.hosted, BTreeMap::from([("acc-2".to_string(), [1, 1740])]));
    }
}
