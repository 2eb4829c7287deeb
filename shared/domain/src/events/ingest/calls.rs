//! In-thread calls: every join and leave, in time order (the call time is the read models'
//! rule, applied by the call totals).

use super::effects::{ik, merge, s, Effect, Indexes};
use crate::events::catalogue::{CallJoined, CallLeft};
use crate::events::types::Id;
use crate::readmodels::{self as rm, keys, lists, sort_time};
use chrono::{DateTime, Utc};

/// `call.joined`: the call's thread, practitioner and media, and the join.
pub(super) fn joined(e: &CallJoined, at: DateTime<Utc>) -> Vec<Effect> {
    let join = rm::CallMove {
        at,
        participant_id: s(&e.participant_id),
        role: e.participant_role,
        joined: true,
    };
    let (thread_id, practitioner_id, media) = (s(&e.thread_id), s(&e.practitioner_id), e.media);
    vec![call_move(&e.call_id, join, move |c: &mut rm::Call| {
        c.thread_id = Some(thread_id.clone());
        c.practitioner_id = Some(practitioner_id.clone());
        c.media = Some(media);
    })]
}

/// `call.left`: the leave.
pub(super) fn left(e: &CallLeft, at: DateTime<Utc>) -> Vec<Effect> {
    let leave = rm::CallMove {
        at,
        participant_id: s(&e.participant_id),
        role: e.participant_role,
        joined: false,
    };
    vec![call_move(&e.call_id, leave, |_| {})]
}

/// A merge into the call of one join or leave (`update` fills in what the event adds), its
/// moves kept in time order.
fn call_move(
    call_id: &Id,
    movement: rm::CallMove,
    update: impl Fn(&mut rm::Call) + Send + Sync + 'static,
) -> Effect {
    let call_id = s(call_id);
    merge(
        keys::call(&call_id),
        move |c: &mut rm::Call| {
            c.call_id.clone_from(&call_id);
            update(c);
            c.moves.push(movement.clone());
            c.moves.sort();
        },
        call_index,
    )
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
