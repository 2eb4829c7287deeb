//! The waiting area: queued calls, segments and their participants; and the copies that keep
//! each segment item carrying everything the Consultations report shows of it.

use super::effects::{ik, merge, restage, s, Effect, Indexes, Merged};
use crate::events::catalogue::{
    ParticipantJoined, ParticipantLeft, QueuedCallAbandoned, QueuedCallEntered, SegmentEnded,
    SegmentStarted, SegmentTransferred,
};
use crate::events::types::Id;
use crate::ports::{Condition, Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, keys, lists, max_time, min_time, sort_time};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// `queued_call.entered`: the queued call (the earliest entry stands).
pub(super) fn queued_call_entered(e: &QueuedCallEntered, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![queued_call_merge(
        &e.session_id,
        &e.queued_call_id,
        move |q: &mut rm::QueuedCall| {
            q.org_id = Some(s(&e.org_id));
            q.clinic_id = Some(s(&e.clinic_id));
            q.entered_at = min_time(q.entered_at, at);
        },
    )]
}

/// `queued_call.abandoned`: the earliest abandonment, on the queued call and the segment.
pub(super) fn queued_call_abandoned(e: &QueuedCallAbandoned, at: DateTime<Utc>) -> Vec<Effect> {
    vec![
        queued_call_merge(&e.session_id, &e.queued_call_id, move |c| {
            c.abandoned_at = min_time(c.abandoned_at, at);
        }),
        segment_merge(&e.session_id, &e.segment_id, move |seg| {
            seg.abandoned_at = min_time(seg.abandoned_at, at);
        }),
    ]
}

/// `segment.started`: the segment's queued call, organisation, clinic and earliest start.
pub(super) fn segment_started(e: &SegmentStarted, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![segment_merge(
        &e.session_id,
        &e.segment_id,
        move |seg: &mut rm::Segment| {
            seg.queued_call_id = Some(s(&e.queued_call_id));
            seg.org_id = Some(s(&e.org_id));
            seg.clinic_id = Some(s(&e.clinic_id));
            seg.started_at = min_time(seg.started_at, at);
        },
    )]
}

/// `segment.transferred`: where the call went.
pub(super) fn segment_transferred(e: &SegmentTransferred, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![segment_merge(
        &e.session_id,
        &e.segment_id,
        move |seg: &mut rm::Segment| {
            seg.transferred_at = Some(at);
            seg.to_clinic_id = Some(s(&e.to_clinic_id));
            seg.to_segment_id = Some(s(&e.to_segment_id));
        },
    )]
}

/// `segment.ended`: the latest end.
pub(super) fn segment_ended(e: &SegmentEnded, at: DateTime<Utc>) -> Vec<Effect> {
    vec![segment_merge(&e.session_id, &e.segment_id, move |seg| {
        seg.ended_at = max_time(seg.ended_at, at);
    })]
}

/// `participant.joined`: the participant's earliest join.
pub(super) fn participant_joined(e: &ParticipantJoined, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![participant_merge(
        &e.session_id,
        &e.segment_id,
        &e.participant_id,
        move |p: &mut rm::SegmentParticipant| {
            p.participant_type = Some(e.participant_type);
            p.account_id = e.account_id.as_ref().map(s);
            p.joined_at = min_time(p.joined_at, at);
        },
    )]
}

/// `participant.left`: the latest leave and its bandwidth.
pub(super) fn participant_left(e: &ParticipantLeft, at: DateTime<Utc>) -> Vec<Effect> {
    let bandwidth = e.bandwidth;
    vec![participant_merge(
        &e.session_id,
        &e.segment_id,
        &e.participant_id,
        move |p: &mut rm::SegmentParticipant| {
            if p.left_at.is_none_or(|t| t <= at) {
                p.left_at = Some(at);
                p.bandwidth = Some(bandwidth);
            }
        },
    )]
}

/// A merge into a session's queued call, which always carries its own ids.
fn queued_call_merge(
    session_id: &Id,
    queued_call_id: &Id,
    update: impl Fn(&mut rm::QueuedCall) + Send + Sync + 'static,
) -> Effect {
    let (session_id, queued_call_id) = (s(session_id), s(queued_call_id));
    merge(
        keys::queued_call(&session_id),
        move |q: &mut rm::QueuedCall| {
            q.queued_call_id.clone_from(&queued_call_id);
            q.session_id.clone_from(&session_id);
            update(q);
        },
        queued_index,
    )
}

/// A merge into one segment, which always carries its own ids.
fn segment_merge(
    session_id: &Id,
    segment_id: &Id,
    update: impl Fn(&mut rm::Segment) + Send + Sync + 'static,
) -> Effect {
    let (session_id, segment_id) = (s(session_id), s(segment_id));
    merge(
        keys::segment(&session_id, &segment_id),
        move |seg: &mut rm::Segment| {
            seg.session_id.clone_from(&session_id);
            seg.segment_id.clone_from(&segment_id);
            update(seg);
        },
        segment_index,
    )
}

/// A merge into one participant of a segment, which always carries its own ids.
fn participant_merge(
    session_id: &Id,
    segment_id: &Id,
    participant_id: &Id,
    update: impl Fn(&mut rm::SegmentParticipant) + Send + Sync + 'static,
) -> Effect {
    let (session_id, segment_id, participant_id) =
        (s(session_id), s(segment_id), s(participant_id));
    merge(
        keys::participant(&session_id, &segment_id, &participant_id),
        move |p: &mut rm::SegmentParticipant| {
            p.session_id.clone_from(&session_id);
            p.segment_id.clone_from(&segment_id);
            p.participant_id.clone_from(&participant_id);
            update(p);
        },
        participant_index,
    )
}

/// An organisation's sessions, by waiting-area entry.
fn queued_index(q: &rm::QueuedCall) -> Indexes {
    match (&q.org_id, q.entered_at) {
        (Some(org), Some(t)) => (
            ik(
                lists::org_sessions(org),
                format!("{}#{}", sort_time(t), q.session_id),
            ),
            None,
        ),
        _ => (None, None),
    }
}

/// A clinic's and an organisation's segments, by start.
fn segment_index(seg: &rm::Segment) -> Indexes {
    match (seg.started_at, &seg.org_id, &seg.clinic_id) {
        (Some(at), Some(org), Some(clinic)) => {
            let sk = format!("{}#{}#{}", sort_time(at), seg.session_id, seg.segment_id);
            (
                ik(lists::clinic_segments(clinic), sk.clone()),
                ik(lists::org_segments(org), sk),
            )
        }
        _ => (None, None),
    }
}

/// An account's participations in segments, by join.
fn participant_index(p: &rm::SegmentParticipant) -> Indexes {
    match (&p.account_id, p.joined_at) {
        (Some(acc), Some(at)) => (
            ik(
                lists::account_participations(acc),
                format!("{}#{}#{}", sort_time(at), p.session_id, p.segment_id),
            ),
            None,
        ),
        _ => (None, None),
    }
}

/// Keeps each segment item ([`rm::Segment`]) carrying everything the Consultations report shows
/// of it (the report reads the segment index and nothing per session), in the event's own
/// transaction:
///
/// - a participant item (`PART#`) this transaction writes is copied, as written, into its
///   segment's `participants` (the segment item is created when missing);
/// - a segment item this transaction creates is registered in its session's queued-call item
///   (`segments`, created when missing) and takes its `entered_at`
///   (`session_entered_at`); writing the queued-call item on its version makes a concurrent
///   change of `entered_at` and a new segment serialise;
/// - a change of the queued call's `entered_at` is copied into every segment it lists.
///
/// Every item is written on the version read, so a lost race re-reads like any merge; a
/// re-delivered event changes nothing (its marker), and arrival order does not matter (each
/// copy is taken from the item as this transaction leaves it).
///
/// Known limits: a change of `entered_at` writes the marker, the queued call and every segment
/// of the session in one transaction of at most [`crate::ports::store::MAX_TX_OPS`] writes, so
/// a session of more than 98 segments (a call transferred 97 times) cannot take a
/// `queued_call.entered` arriving after its segments (the store refuses it; the queued call
/// normally comes first, and then it writes no segment). A segment item holds at most 400 KB
/// (DynamoDB): about 950 participants with 26-character ids, 480 with the longest accepted
/// (`docs/dynamodb.md`, "Segment items").
pub(super) async fn sync_segments(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<(), StoreError> {
    let is_session =
        |key: &Key, prefix: &str| key.pk.starts_with("SESSION#") && key.sk.starts_with(prefix);
    let mut created: Vec<(String, String)> = Vec::new();
    for (key, m) in finals {
        let Some(new) = &m.new else { continue };
        if !is_session(key, "PART#") {
            continue;
        }
        let p: rm::SegmentParticipant = new.decode()?;
        let seg_key = keys::segment(&p.session_id, &p.segment_id);
        let (_, _) = restage(
            store,
            ops,
            finals,
            &seg_key,
            segment_index,
            |seg: &mut rm::Segment| {
                seg.session_id.clone_from(&p.session_id);
                seg.segment_id.clone_from(&p.segment_id);
                match seg
                    .participants
                    .binary_search_by(|c| c.participant_id.cmp(&p.participant_id))
                {
                    Ok(i) => seg.participants[i] = p.clone(),
                    Err(i) => seg.participants.insert(i, p.clone()),
                }
            },
        )
        .await?;
    }
    for op in ops.iter() {
        if let TxOp::Put {
            item,
            condition: Condition::NotExists,
        } = op
        {
            if is_session(&item.key(), "SEG#") {
                let seg: rm::Segment = item.decode()?;
                created.push((seg.session_id, seg.segment_id));
            }
        }
    }
    for (session, segment) in &created {
        let (queued, _) = restage(
            store,
            ops,
            finals,
            &keys::queued_call(session),
            queued_index,
            |q: &mut rm::QueuedCall| {
                q.session_id.clone_from(session);
                if let Err(i) = q.segments.binary_search(segment) {
                    q.segments.insert(i, segment.clone());
                }
            },
        )
        .await?;
        restage(
            store,
            ops,
            finals,
            &keys::segment(session, segment),
            segment_index,
            |seg: &mut rm::Segment| seg.session_entered_at = queued.entered_at,
        )
        .await?;
    }
    for (key, m) in finals {
        if !(is_session(key, "QUEUED") && m.new.is_some()) {
            continue;
        }
        let entered = |item: Option<&Item>| -> Result<_, StoreError> {
            Ok(match item {
                Some(i) => i.decode::<rm::QueuedCall>()?.entered_at,
                None => None,
            })
        };
        let Some(now) = ops.iter().find_map(|op| match op {
            TxOp::Put { item, .. } if item.key() == *key => Some(item.decode::<rm::QueuedCall>()),
            _ => None,
        }) else {
            continue;
        };
        let now = now?;
        if entered(m.old.as_ref())? == now.entered_at {
            continue;
        }
        for segment in &now.segments {
            restage(
                store,
                ops,
                finals,
                &keys::segment(&now.session_id, segment),
                segment_index,
                |seg: &mut rm::Segment| {
                    seg.session_id.clone_from(&now.session_id);
                    seg.segment_id.clone_from(segment);
                    seg.session_entered_at = now.entered_at;
                },
            )
            .await?;
        }
    }
    Ok(())
}
