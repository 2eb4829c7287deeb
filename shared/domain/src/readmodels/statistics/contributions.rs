//! What each source item contributes to the statistics items, as a pure function of that one
//! item: a segment ([`segment_contribution`]), a login ([`login_contribution`]) and a room
//! call's summary ([`call_contribution`]).

use super::figures::{slot_of, Contribution, SplitCall, Stats};
use super::{clinic_day_shard, clinic_hour, day_shard, org_day, org_day_shard, org_hour};
use crate::events::types::ParticipantType;
use crate::ports::Key;
use crate::readmodels::segments::{consultation_seconds, segment_participants};
use crate::readmodels::{Segment, SegmentParticipant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
/// to leave of its host participants (0 for one without both), summed: the same rule for the
/// statistics items and for the reports that count from the raw lists.
pub fn host_attendance(parts: &[&SegmentParticipant]) -> BTreeMap<String, i64> {
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

/// Seconds of a call's span (first join to last leave), 0 without one, as the room-call
/// reports count them from the raw lists.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::super::*;
    use super::*;
    use chrono::{Duration, NaiveDate};

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

    pub(crate) fn answered(segment: &str, host: &str, start: &str, minutes: i64) -> Segment {
        let start: DateTime<Utc> = start.parse().unwrap();
        Segment {
            session_id: "s".into(),
            segment_id: segment.into(),
            org_id: Some("o".into()),
            clinic_id: Some("c".into()),
            started_at: Some(start),
            ended_at: Some(start + Duration::minutes(minutes)),
            participants: vec![SegmentParticipant {
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
}
