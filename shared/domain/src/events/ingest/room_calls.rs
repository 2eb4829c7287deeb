//! Room calls: one item per participant of a call in a room.

use super::effects::{ik, merge, s, Effect, Indexes};
use crate::events::catalogue::{RoomCallJoined, RoomCallLeft};
use crate::events::types::Id;
use crate::readmodels::{self as rm, keys, lists, min_time, sort_time};
use chrono::{DateTime, Utc};

/// `room_call.joined`: the participant's room, organisation and earliest join.
pub(super) fn joined(e: &RoomCallJoined, at: DateTime<Utc>) -> Vec<Effect> {
    let (org_id, account_id) = (s(&e.org_id), e.account_id.as_ref().map(s));
    vec![participant_merge(
        &e.call_id,
        &e.participant_id,
        &e.room_id,
        move |p: &mut rm::RoomCallParticipant| {
            p.org_id = Some(org_id.clone());
            p.account_id.clone_from(&account_id);
            p.joined_at = min_time(p.joined_at, at);
        },
    )]
}

/// `room_call.left`: the latest leave and its bandwidth.
pub(super) fn left(e: &RoomCallLeft, at: DateTime<Utc>) -> Vec<Effect> {
    let bandwidth = e.bandwidth;
    vec![participant_merge(
        &e.call_id,
        &e.participant_id,
        &e.room_id,
        move |p: &mut rm::RoomCallParticipant| {
            if p.left_at.is_none_or(|t| t <= at) {
                p.left_at = Some(at);
                p.bandwidth = Some(bandwidth);
            }
        },
    )]
}

/// A merge into one participant of a room call, which always carries its call, id and room.
fn participant_merge(
    call_id: &Id,
    participant_id: &Id,
    room_id: &Id,
    update: impl Fn(&mut rm::RoomCallParticipant) + Send + Sync + 'static,
) -> Effect {
    let (call_id, participant_id, room_id) = (s(call_id), s(participant_id), s(room_id));
    merge(
        keys::room_call_participant(&call_id, &participant_id),
        move |p: &mut rm::RoomCallParticipant| {
            p.call_id.clone_from(&call_id);
            p.participant_id.clone_from(&participant_id);
            p.room_id.clone_from(&room_id);
            update(p);
        },
        room_call_index,
    )
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
