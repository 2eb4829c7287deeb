//! The statistics items behind the summary tiles (SPEC C2, Q4): figures that ingest keeps by
//! difference, bucketed by the UTC quarter hour in which each thing started, so that a
//! period's figures are a constant number of reads whatever the volume.
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
//! This module names the items ([`org_day`], [`org_hour`], ...); [`figures`] holds the figures
//! of a bucket and how a change moves them; [`contributions`] says what each source item
//! (segment, login, room call) contributes. Ingest moves the statistics by the difference
//! between an item's contribution before and after its event ([`apply_move`]); the reports
//! sum the buckets of a period.

pub mod contributions;
pub mod figures;

pub use contributions::*;
pub use figures::*;

use crate::ports::Key;
use chrono::{DateTime, NaiveDate, Utc};

/// The statistics item of an organisation for a UTC day.
pub fn org_day(org: &str, day: NaiveDate) -> Key {
    Key::new(
        format!("ORGSTATS#{org}"),
        format!("DAY#{}", day.format("%Y-%m-%d")),
    )
}

/// Shards of a day's waiting-area figures: each segment's contribution to a day goes to one
/// of them, chosen by its id ([`day_shard`]), so that a busy day's figures by second and by
/// host are spread over this many items instead of rewritten whole by every change (the write
/// cost of ingest). Readers read the day item and all its shards.
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
