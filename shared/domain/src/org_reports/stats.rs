//! Period statistics for the summary tiles (SPEC C2) at a constant number of store reads
//! (SPEC Q4): the read that sums the buckets of a period from the statistics items ingest
//! keeps ([`crate::readmodels::statistics`]: their keys, figures and contributions).
//!
//! The figures they give for a period equal what the raw lists give
//! ([`super::tiles::raw_period_figures`], kept as the oracle): see [`read_period_figures`].

use super::ReportScope;
use crate::ports::{Item, Key, Store, StoreError};
use crate::readmodels::statistics::{
    clinic_day, clinic_day_shard, clinic_hour, org_day, org_day_shard, org_hour, slot_of,
    span_seconds, SplitCall, Stats, StatsItem,
};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Named here too, for the callers that read a day's shards.
pub use crate::readmodels::statistics::DAY_SHARDS;

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
    use crate::readmodels::statistics::contributions::tests::answered;
    use crate::readmodels::statistics::{apply_move, day_shard, moves, segment_contribution};

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

    /// A segment's figures held in the day item itself (unsharded) and moved later in its
    /// shard (a change of that segment takes its contribution before from its shard) still
    /// sum to what the segment contributes now: readers add up the day item and its shards.
    #[test]
    fn figures_in_the_day_item_and_its_shards_add_up() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let before = answered("seg-1", "acc-1", "2026-04-01T10:20:00Z", 12);
        let after = answered("seg-1", "acc-2", "2026-04-01T10:20:00Z", 30);
        let shard = (org_day_shard("o", day, day_shard("seg-1")), 0u8);
        // Unsharded: the segment's figures in the day item.
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
