//! The summary tiles' statistics items ([`stats`]) moved by difference in the
//! event's own transaction, from the segment, login and room-call items it changes.

use super::effects::{to_json, versioned_put, Merged};
use crate::ports::{Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, statistics as stats};
use std::collections::BTreeMap;

/// Keeps the summary tiles' statistics items ([`stats`]) in the event's own transaction, by
/// difference: each segment item this transaction writes (as it leaves it, after
/// [`super::segments::sync_segments`]), each login item and each room call whose summary item
/// (`ROOMCALL#<call>` / `CALL`, a copy of every participant, written here on its version) this
/// transaction changes contributes before and after; every statistics item the difference
/// touches is read and written back on its version (created when missing), so a lost race
/// re-reads like any merge. A re-delivered event changes nothing (its marker); an event
/// arriving out of order moves exactly the difference it makes to its item.
///
/// Bound: an event changes one segment (or one login, or one room-call participant): at most
/// eight statistics items (hour and day of the organisation and of the clinic, for the start
/// before and after) for a segment; for a room-call participant the call's summary and at most
/// two hour and two day items (where its join was and is: only those buckets' parts of the call
/// change, a call going from one bucket to two included); for a login two. A
/// `queued_call.entered` that copies its `entered_at` into many segments moves nothing here
/// (`entered_at` is in no figure), so its own bound (98 segments) is unchanged.
pub(super) async fn move_stats(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<(), StoreError> {
    let mut before = stats::Contribution::new();
    let mut after = stats::Contribution::new();
    let mut segments: Vec<(Key, Item)> = Vec::new();
    for op in ops.iter() {
        if let TxOp::Put { item, .. } = op {
            if item.pk.starts_with("SESSION#") && item.sk.starts_with("SEG#") {
                segments.push((item.key(), item.clone()));
            }
        }
    }
    for (key, item) in segments {
        // As read: the condition of the write is on this version, so a change in between
        // fails the transaction and the event is applied again.
        let old = match finals.get(&key) {
            Some(m) => m.old.clone(),
            None => store.get(&key).await?,
        };
        if let Some(old) = old {
            stats::accumulate(
                &mut before,
                stats::segment_contribution(&old.decode::<rm::Segment>()?),
            );
        }
        stats::accumulate(
            &mut after,
            stats::segment_contribution(&item.decode::<rm::Segment>()?),
        );
    }
    let mut calls: BTreeMap<String, (Option<Item>, stats::CallSummary)> = BTreeMap::new();
    for (key, m) in finals {
        let Some(new) = &m.new else { continue };
        if key.pk.starts_with("ACCOUNT#") && key.sk.starts_with("LOGIN#") {
            if let Some(old) = &m.old {
                stats::accumulate(&mut before, stats::login_contribution(&old.body));
            }
            stats::accumulate(&mut after, stats::login_contribution(&new.body));
        } else if key.pk.starts_with("ROOMCALL#") && key.sk.starts_with("PART#") {
            let p: rm::RoomCallParticipant = new.decode()?;
            if !calls.contains_key(&p.call_id) {
                let stored = store.get(&stats::call_summary_key(&p.call_id)).await?;
                let summary = match &stored {
                    Some(i) => i.decode::<stats::CallSummary>()?,
                    None => stats::CallSummary {
                        call_id: p.call_id.clone(),
                        ..Default::default()
                    },
                };
                calls.insert(p.call_id.clone(), (stored, summary));
            }
            if let Some((_, summary)) = calls.get_mut(&p.call_id) {
                summary.participants.insert(
                    p.participant_id.clone(),
                    stats::CallPart {
                        room_id: p.room_id.clone(),
                        org_id: p.org_id.clone(),
                        joined_at: p.joined_at,
                        left_at: p.left_at,
                    },
                );
            }
        }
    }
    for (call_id, (stored, summary)) in calls {
        let old = match &stored {
            Some(i) => Some(i.decode::<stats::CallSummary>()?),
            None => None,
        };
        if old.as_ref() == Some(&summary) {
            continue;
        }
        if let Some(old) = &old {
            stats::accumulate(&mut before, stats::call_contribution(old));
        }
        stats::accumulate(&mut after, stats::call_contribution(&summary));
        let key = stats::call_summary_key(&call_id);
        let item = Item::new(key.pk, key.sk, to_json(&summary));
        ops.push(versioned_put(item, stored.as_ref()));
    }
    let mut by_item: BTreeMap<Key, Vec<(u8, stats::Stats, stats::Stats)>> = BTreeMap::new();
    for ((key, slot), (b, a)) in stats::moves(&before, &after) {
        by_item.entry(key).or_default().push((slot, b, a));
    }
    for (key, moves) in by_item {
        let stored = store.get(&key).await?;
        let mut body = match &stored {
            Some(i) => i.decode::<stats::StatsItem>()?,
            None => stats::StatsItem::default(),
        };
        for (slot, b, a) in moves {
            let target = body.slots.entry(slot).or_default();
            stats::apply_move(target, &b, &a);
            if target.is_empty() {
                body.slots.remove(&slot);
            }
        }
        let item = Item::new(key.pk.clone(), key.sk.clone(), to_json(&body));
        ops.push(versioned_put(item, stored.as_ref()));
    }
    Ok(())
}
