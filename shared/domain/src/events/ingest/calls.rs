//! In-thread calls: every join and leave, in time order (the call time is the read models'
//! rule, applied by the call totals).

use super::effects::{ik, merge, s, Effect, Indexes};
use crate::events::catalogue::{CallJoined, CallLeft};
use crate::readmodels::{self as rm, keys, lists, sort_time};
use chrono::{DateTime, Utc};

/// `call.joined`: the call's thread, practitioner and media, and the join.
pub(super) fn joined(e: &CallJoined, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::call(e.call_id.as_str()),
        move |c: &mut rm::Call| {
            c.call_id = s(&e.call_id);
            c.thread_id = Some(s(&e.thread_id));
            c.practitioner_id = Some(s(&e.practitioner_id));
            c.media = Some(e.media);
            c.moves.push(rm::CallMove {
                at,
                participant_id: s(&e.participant_id),
                role: e.participant_role,
                joined: true,
            });
            c.moves.sort();
        },
        call_index,
    )]
}

/// `call.left`: the leave.
pub(super) fn left(e: &CallLeft, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::call(e.call_id.as_str()),
        move |c: &mut rm::Call| {
            c.call_id = s(&e.call_id);
            c.moves.push(rm::CallMove {
                at,
                participant_id: s(&e.participant_id),
                role: e.participant_role,
                joined: false,
            });
            c.moves.sort();
        },
        call_index,
    )]
}

/// Every call by first join (A4), and each practitioner's.
fn call_index(c: &rm::Call) -> Indexes {
    match (c.moves.first(), &c.practitioner_id) {
        (Some(first), Some(p)) => {
            let sk = format!("{}#{}", sort_time(first.at), c.call_id);
            (
                ik(lists::CALLS, sk.clone()),
                ik(lists::practitioner_calls(p), sk),
            )
        }
        _ => (None, None),
    }
}
