//! Room calls: one item per participant of a call in a room.

use super::effects::{ik, merge, s, Effect, Indexes};
use crate::events::catalogue::{RoomCallJoined, RoomCallLeft};
use crate::readmodels::{self as rm, keys, lists, min_time, sort_time};
use chrono::{DateTime, Utc};

/// `room_call.joined`: the participant's room, organisation and earliest join.
pub(super) fn joined(e: &RoomCallJoined, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::room_call_participant(e.call_id.as_str(), e.participant_id.as_str()),
        move |p: &mut rm::RoomCallParticipant| {
            p.call_id = s(&e.call_id);
            p.participant_id = s(&e.participant_id);
            p.room_id = s(&e.room_id);
            p.org_id = Some(s(&e.org_id));
            p.account_id = e.account_id.as_ref().map(s);
            p.joined_at = min_time(p.joined_at, at);
        },
        room_call_index,
    )]
}

/// `room_call.left`: the latest leave and its bandwidth.
pub(super) fn left(e: &RoomCallLeft, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::room_call_participant(e.call_id.as_str(), e.participant_id.as_str()),
        move |p: &mut rm::RoomCallParticipant| {
            p.call_id = s(&e.call_id);
            p.participant_id = s(&e.participant_id);
            p.room_id = s(&e.room_id);
            if p.left_at.is_none_or(|t| t <= at) {
                p.left_at = Some(at);
                p.bandwidth = Some(e.bandwidth);
            }
        },
        room_call_index,
    )]
}

/// A room's and an organisation's room-call participants, by join.
fn room_call_index(p: &rm::RoomCallParticipant) -> Indexes {
    match (p.joined_at, &p.org_id) {
        (Some(at), Some(org)) => {
            let sk = format!("{}#{}#{}", sort_time(at), p.call_id, p.participant_id);
            (
                ik(lists::room_calls(&p.room_id), sk.clone()),
                ik(lists::org_room_calls(org), sk),
            )
        }
        _ => (None, None),
    }
}
