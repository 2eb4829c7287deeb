//! In-thread calls (A4): every join and leave of a call, and the rule that turns them into
//! call time. Ingest applies the rule to keep each practitioner's call totals; the Call
//! durations tab applies it to the calls of a period.
//!
//! # Call time
//! Only practitioners start calls; a patient who joins first waits, and the call ends when the
//! practitioner leaves. So a call's time is the time during which **at least one practitioner
//! and at least one patient are connected at once**:
//! - a patient waiting alone before the practitioner joins is not call time;
//! - time after the last practitioner left (a patient lingering) is not call time;
//! - a drop and re-join splits the call; only the connected stretches count;
//! - a join with no matching leave (a call still running, or a lost event) adds nothing after
//!   the last recorded move; a leave with no join is ignored; a second join of a participant
//!   already connected changes nothing.

use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One join or leave of an in-thread call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallMove {
    #[serde(deserialize_with = "crate::time::de")]
    pub at: DateTime<Utc>,
    pub participant_id: String,
    pub role: CallRole,
    pub joined: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Call {
    pub call_id: String,
    pub thread_id: Option<String>,
    pub practitioner_id: Option<String>,
    pub media: Option<Media>,
    /// Every join and leave, in time order.
    pub moves: Vec<CallMove>,
}

/// Seconds of call time in a call's moves (the rule in the module header).
pub fn call_seconds(moves: &[CallMove]) -> i64 {
    let mut moves = moves.to_vec();
    moves.sort();
    let mut practitioners: BTreeSet<&str> = BTreeSet::new();
    let mut patients: BTreeSet<&str> = BTreeSet::new();
    let mut millis = 0i64;
    let mut prev: Option<chrono::DateTime<chrono::Utc>> = None;
    for m in &moves {
        if let Some(p) = prev {
            if !practitioners.is_empty() && !patients.is_empty() {
                millis += (m.at - p).num_milliseconds();
            }
        }
        prev = Some(m.at);
        let set = match m.role {
            CallRole::Practitioner => &mut practitioners,
            CallRole::Patient => &mut patients,
        };
        if m.joined {
            set.insert(m.participant_id.as_str());
        } else {
            set.remove(m.participant_id.as_str());
        }
    }
    millis / 1000
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};

    fn mv(sec: i64, who: &str, role: CallRole, joined: bool) -> CallMove {
        CallMove {
            at: "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(sec),
            participant_id: who.into(),
            role,
            joined,
        }
    }

    use CallRole::{Patient as Pa, Practitioner as Pr};

    #[test]
    fn call_time_runs_only_while_both_sides_are_connected() {
        // Practitioner first, patient joins at 10, leaves at 70: 60 s.
        assert_eq!(
            call_seconds(&[
                mv(0, "d", Pr, true),
                mv(10, "p", Pa, true),
                mv(70, "p", Pa, false),
                mv(80, "d", Pr, false)
            ]),
            60
        );
        // Patient waits alone 30 s: not call time; the call ends when the practitioner leaves.
        assert_eq!(
            call_seconds(&[
                mv(0, "p", Pa, true),
                mv(30, "d", Pr, true),
                mv(90, "d", Pr, false),
                mv(200, "p", Pa, false)
            ]),
            60
        );
        // A drop and re-join: only the connected stretches.
        assert_eq!(
            call_seconds(&[
                mv(0, "d", Pr, true),
                mv(0, "p", Pa, true),
                mv(20, "p", Pa, false),
                mv(50, "p", Pa, true),
                mv(60, "p", Pa, false),
                mv(61, "d", Pr, false),
            ]),
            30
        );
        // No leave: nothing after the last move. A patient alone: nothing.
        assert_eq!(
            call_seconds(&[mv(0, "d", Pr, true), mv(5, "p", Pa, true)]),
            0
        );
        assert_eq!(
            call_seconds(&[mv(0, "p", Pa, true), mv(50, "p", Pa, false)]),
            0
        );
        // A leave without a join is ignored; a double join changes nothing; arrival order
        // does not matter.
        assert_eq!(
            call_seconds(&[
                mv(100, "d", Pr, false),
                mv(40, "p", Pa, false),
                mv(0, "p", Pa, true),
                mv(0, "d", Pr, true),
                mv(10, "d", Pr, true),
                mv(0, "x", Pa, false),
            ]),
            40
        );
        // Joins and leaves at the same instant: zero.
        assert_eq!(
            call_seconds(&[
                mv(0, "d", Pr, true),
                mv(0, "p", Pa, true),
                mv(0, "d", Pr, false)
            ]),
            0
        );
        assert_eq!(call_seconds(&[]), 0);
    }
}
