//! Ingest: validates platform events and lands each one in the read models exactly once.
//!
//! One code path for both entry points (the EventBridge function and `POST /ingest/events`).
//! Each event becomes a plan of effects (merges into read-model items, and the counter moves
//! they imply); the plan is executed as one store transaction together with a conditional put
//! of the event's idempotency marker (`EVENT#<id>`), so a replayed event changes nothing, and
//! two deliveries racing each other land once. Merges read the item, apply the event, and
//! write it back on a version condition; a lost race re-reads and re-applies.
//!
//! An event id reused with a different content is refused (`id`), never applied twice.

use super::catalogue::*;
use super::types::*;
use crate::ports::{Condition, IndexKey, Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, keys, lists, max_time, min_time, sort_time};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Largest batch `POST /ingest/events` takes.
pub const MAX_BATCH: usize = 500;

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum EventStatus {
    Accepted,
    /// Already ingested with the same content: nothing changed.
    Duplicate,
    Rejected {
        field: String,
        reason: String,
    },
}

/// The answer for one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(flatten)]
    pub status: EventStatus,
}

/// The answer for a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<EventResult>,
}

/// Validates and ingests every event of a batch; bad events are refused with a reason and the
/// good ones still land. Fails only when the store does (and then the caller may retry the
/// whole batch: what already landed is skipped as duplicate).
pub async fn ingest_batch(
    store: &dyn Store,
    now: DateTime<Utc>,
    raw: &[serde_json::Value],
) -> Result<BatchReport, StoreError> {
    let mut report = BatchReport::default();
    for (index, value) in raw.iter().enumerate() {
        let (id, status) = match parse_event(value) {
            Err((id, r)) => (
                id,
                EventStatus::Rejected {
                    field: r.field,
                    reason: r.reason,
                },
            ),
            Ok(event) => {
                let id = Some(event.id.to_string());
                (id, ingest_event(store, now, &event).await?)
            }
        };
        match status {
            EventStatus::Accepted => report.accepted += 1,
            EventStatus::Duplicate => report.duplicates += 1,
            EventStatus::Rejected { .. } => report.rejected += 1,
        }
        report.results.push(EventResult { index, id, status });
    }
    Ok(report)
}

/// Attempts at one event before a run of lost races is reported as a conflict. A lost race
/// means another event landed on the same item first, so N events racing into one item (a busy
/// thread) need up to N attempts; see [`backoff`].
const MAX_ATTEMPTS: u32 = 32;

/// The wait before attempt `attempt + 1` after a lost race: "full jitter" (a random time up to
/// a cap that doubles from 2 ms to 100 ms), so that racers spread out instead of colliding
/// again. At most about 3 s over all attempts.
fn backoff(attempt: u32, salt: &str) -> std::time::Duration {
    let cap_ms = (2u64 << attempt.min(6)).min(100);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or_default();
    let salt = salt
        .get(..12)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or_default();
    let spread = (nanos ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    std::time::Duration::from_millis(spread % (cap_ms + 1))
}

/// Ingests one validated event, once.
pub async fn ingest_event(
    store: &dyn Store,
    now: DateTime<Utc>,
    event: &Event,
) -> Result<EventStatus, StoreError> {
    let hash = content_hash(event);
    let marker_key = keys::event(event.id.as_str());
    let effects = plan(event);
    for attempt in 0..MAX_ATTEMPTS {
        if let Some(existing) = store.get(&marker_key).await? {
            let marker: rm::EventMarker = existing.decode()?;
            return Ok(if marker.content_sha256 == hash {
                EventStatus::Duplicate
            } else {
                EventStatus::Rejected {
                    field: "id".into(),
                    reason: "already used by a different event".into(),
                }
            });
        }
        let marker = rm::EventMarker {
            event_type: event.body.type_name().to_string(),
            content_sha256: hash.clone(),
            ingested_at: now,
        };
        let mut ops = vec![TxOp::put(
            Item::new(
                marker_key.pk.clone(),
                marker_key.sk.clone(),
                to_json(&marker),
            ),
            Condition::NotExists,
        )];
        let (planned, finals) = resolve(store, &effects).await?;
        ops.extend(planned);
        sync_segments(store, &mut ops, &finals).await?;
        move_stats(store, &mut ops, &finals).await?;
        retag(store, event, &mut ops, &finals).await?;
        let totals = move_totals(store, &mut ops, &finals).await?;
        move_rating_totals(store, &mut ops, &finals).await?;
        let early = copy_names(store, &mut ops, &finals, &totals).await?;
        let mut lost = false;
        for chunk in early {
            match store.transact(chunk).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                    lost = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if lost {
            tokio::time::sleep(backoff(attempt, &hash)).await;
            continue;
        }
        match store.transact(ops).await {
            Ok(()) => return Ok(EventStatus::Accepted),
            // The marker (op 0) landed meanwhile: look at it at once.
            Err(StoreError::ConditionFailed { op: Some(0) }) => continue,
            // A merged item changed under us (or, unknown which, the marker): wait a little,
            // then read again and re-apply.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                tokio::time::sleep(backoff(attempt, &hash)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

fn content_hash(event: &Event) -> String {
    let bytes = serde_json::to_vec(event).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

type Apply = Box<dyn Fn(Option<&Item>) -> Result<Option<Item>, StoreError> + Send + Sync>;

/// What a read-model item adds to which counters while it exists (its contributions).
type Counts = Box<dyn Fn(Option<&Item>) -> Result<Vec<(Key, i64)>, StoreError> + Send + Sync>;

/// One effect of an event on the read models: read the item (maybe missing), apply the event,
/// write it back if it changed. When the item counts towards counters, each counter moves by
/// the difference between the item's contributions after and before, so an item re-sent under
/// a new event id (the same rating, the same voucher redemption) is never counted twice.
struct Effect {
    key: Key,
    apply: Apply,
    counts: Option<Counts>,
}

/// Index keys a read model item carries, computed from its merged body.
type Indexes = (Option<IndexKey>, Option<IndexKey>);

fn merge<T, F, I>(key: Key, update: F, index: I) -> Effect
where
    T: Default + Serialize + DeserializeOwned + PartialEq + 'static,
    F: Fn(&mut T) + Send + Sync + 'static,
    I: Fn(&T) -> Indexes + Send + Sync + 'static,
{
    let k = key.clone();
    let apply: Apply = Box::new(move |old: Option<&Item>| {
        let before: T = match old {
            Some(item) => item.decode()?,
            None => T::default(),
        };
        let mut after = serde_json::from_value::<T>(to_json(&before))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        update(&mut after);
        if old.is_some() && after == before {
            return Ok(None);
        }
        let (gsi1, gsi2) = index(&after);
        let mut item = Item::new(k.pk.clone(), k.sk.clone(), to_json(&after));
        item.gsi1 = gsi1;
        item.gsi2 = gsi2;
        Ok(Some(item))
    });
    Effect {
        key,
        apply,
        counts: None,
    }
}

/// Makes a merge count towards counters: `counts` gives the contributions of the merged body.
fn counted<T, C>(mut effect: Effect, counts: C) -> Effect
where
    T: DeserializeOwned + 'static,
    C: Fn(&T) -> Vec<(Key, i64)> + Send + Sync + 'static,
{
    effect.counts = Some(Box::new(move |item: Option<&Item>| match item {
        Some(item) => Ok(counts(&item.decode::<T>()?)),
        None => Ok(Vec::new()),
    }));
    effect
}

/// A snapshot read model (clinic, room, account, membership): the event with the newest
/// `occurred_at` wins, so an older snapshot arriving late changes nothing.
fn snapshot<T, I>(
    key: Key,
    value: T,
    at: DateTime<Utc>,
    as_of: fn(&T) -> DateTime<Utc>,
    index: I,
) -> Effect
where
    T: Clone + Serialize + DeserializeOwned + PartialEq + Send + Sync + 'static,
    I: Fn(&Option<T>) -> Indexes + Send + Sync + 'static,
{
    merge(
        key,
        move |o: &mut Option<T>| {
            if o.as_ref().is_none_or(|o| as_of(o) <= at) {
                *o = Some(value.clone());
            }
        },
        index,
    )
}

fn no_index<T>(_: &T) -> Indexes {
    (None, None)
}

fn ik(pk: impl Into<String>, sk: impl Into<String>) -> Option<IndexKey> {
    Some(IndexKey::new(pk, sk))
}

/// The item a merge read, what the plan made of it so far, and what it counts towards.
struct Slot<'a> {
    old: Option<Item>,
    new: Option<Item>,
    counts: Option<&'a Counts>,
}

/// An item a plan merged into: as read, and as written (`None` when unchanged).
struct Merged {
    old: Option<Item>,
    new: Option<Item>,
}

/// Reads what the merges need and turns the plan into transaction ops; also hands back every
/// item the plan merged into, for [`retag`].
async fn resolve(
    store: &dyn Store,
    effects: &[Effect],
) -> Result<(Vec<TxOp>, BTreeMap<Key, Merged>), StoreError> {
    // Several effects may merge into the same item: apply them in plan order to one copy.
    let mut merged: BTreeMap<Key, Slot<'_>> = BTreeMap::new();
    for effect in effects {
        if !merged.contains_key(&effect.key) {
            let old = store.get(&effect.key).await?;
            let slot = Slot {
                old,
                new: None,
                counts: None,
            };
            merged.insert(effect.key.clone(), slot);
        }
        let slot = merged
            .get_mut(&effect.key)
            .ok_or_else(|| StoreError::Invalid("merge slot".into()))?;
        let current = slot.new.as_ref().or(slot.old.as_ref());
        if let Some(new) = (effect.apply)(current)? {
            slot.new = Some(new);
        }
        if slot.counts.is_none() {
            slot.counts = effect.counts.as_ref();
        }
    }
    let mut ops = Vec::new();
    let mut deltas: BTreeMap<Key, i64> = BTreeMap::new();
    let mut finals = BTreeMap::new();
    for (key, slot) in merged {
        let Some(mut item) = slot.new else {
            finals.insert(
                key,
                Merged {
                    old: slot.old,
                    new: None,
                },
            );
            continue;
        };
        if let Some(counts) = slot.counts {
            for (key, n) in counts(slot.old.as_ref())? {
                *deltas.entry(key).or_default() -= n;
            }
            for (key, n) in counts(Some(&item))? {
                *deltas.entry(key).or_default() += n;
            }
        }
        let condition = match &slot.old {
            Some(o) => {
                item.version = o.version + 1;
                item.expires_at = o.expires_at;
                Condition::VersionIs(o.version)
            }
            None => {
                item.version = 1;
                Condition::NotExists
            }
        };
        finals.insert(
            key,
            Merged {
                old: slot.old,
                new: Some(item.clone()),
            },
        );
        ops.push(TxOp::put(item, condition));
    }
    for (key, delta) in deltas {
        if delta != 0 {
            ops.push(TxOp::add(key, delta));
        }
    }
    Ok((ops, finals))
}

/// Changes the read model at `key` as this transaction leaves it: in the transaction's own
/// write of it when there is one, else read and written back on its version (created when
/// missing) — only when `change` changed something. Returns the model as changed, and whether
/// this transaction creates the item.
async fn restage<T>(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
    key: &Key,
    index: fn(&T) -> Indexes,
    change: impl FnOnce(&mut T),
) -> Result<(T, bool), StoreError>
where
    T: Default + Serialize + DeserializeOwned + PartialEq,
{
    if let Some(TxOp::Put { item, condition }) = ops
        .iter_mut()
        .find(|op| op.key() == *key && matches!(op, TxOp::Put { .. }))
    {
        let mut model: T = item.decode()?;
        change(&mut model);
        item.body = to_json(&model);
        (item.gsi1, item.gsi2) = index(&model);
        return Ok((model, matches!(condition, Condition::NotExists)));
    }
    let stored = match finals.get(key) {
        Some(m) => m.old.clone(),
        None => store.get(key).await?,
    };
    let before: T = match &stored {
        Some(item) => item.decode()?,
        None => T::default(),
    };
    let mut after = serde_json::from_value::<T>(to_json(&before))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    change(&mut after);
    if stored.is_some() && after == before {
        return Ok((after, false));
    }
    let mut item = Item::new(key.pk.clone(), key.sk.clone(), to_json(&after));
    (item.gsi1, item.gsi2) = index(&after);
    let condition = match &stored {
        Some(o) => {
            item.version = o.version + 1;
            item.expires_at = o.expires_at;
            Condition::VersionIs(o.version)
        }
        None => {
            item.version = 1;
            Condition::NotExists
        }
    };
    let created = stored.is_none();
    ops.push(TxOp::put(item, condition));
    Ok((after, created))
}

/// Keeps each segment item ([`rm::Segment`]) carrying everything the Consultations report shows
/// of it (issue 8: the report reads the segment index and nothing per session), in the event's
/// own transaction:
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
async fn sync_segments(
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

/// Keeps the summary tiles' statistics items ([`crate::org_reports::stats`], issue 8) in the
/// event's own transaction, by difference: each segment item this transaction writes (as it
/// leaves it, after [`sync_segments`]), each login item and each room call whose summary item
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
/// change, a call going from one bucket to two included); for a login two. A `queued_call.entered` that copies
/// its `entered_at` into many segments moves nothing here (`entered_at` is in no figure), so
/// its own bound (98 segments) is unchanged.
async fn move_stats(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<(), StoreError> {
    use crate::readmodels::statistics as stats;
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

/// The put of `item` over what is `stored` at its key: the next version on the stored one's
/// (a lost race fails the transaction), or version 1 where nothing is stored yet.
fn versioned_put(mut item: Item, stored: Option<&Item>) -> TxOp {
    let condition = match stored {
        Some(o) => {
            item.version = o.version + 1;
            Condition::VersionIs(o.version)
        }
        None => {
            item.version = 1;
            Condition::NotExists
        }
    };
    TxOp::put(item, condition)
}

/// The consultations whose tags an event may change: the thread it happened in (all of that
/// thread's consultations) and consultations it names.
fn tag_scope(event: &Event) -> Option<(Option<&Id>, Vec<String>)> {
    match &event.body {
        EventBody::MessageSent(e) => Some((Some(&e.thread_id), Vec::new())),
        EventBody::PaymentRequestSent(e) => Some((Some(&e.thread_id), Vec::new())),
        EventBody::PaymentRequestAnswered(e) => Some((Some(&e.thread_id), Vec::new())),
        EventBody::ClinicalNoteSent(e) => Some((Some(&e.thread_id), Vec::new())),
        EventBody::PaymentCompleted(e) => Some((
            Some(&e.thread_id),
            match (e.payment_type.opens_consultation(), &e.consultation_id) {
                (true, Some(c)) => vec![s(c)],
                _ => Vec::new(),
            },
        )),
        EventBody::ConsultationCancelled(e) => Some((None, vec![s(&e.consultation_id)])),
        _ => None,
    }
}

/// What a consultation adds to the per-day tag counts: one to its start day's count of each
/// of its tags, and one to the day's `all`.
#[allow(clippy::type_complexity)]
fn consultation_counts(item: Option<&Item>) -> Result<Vec<((String, String), i64)>, StoreError> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let c: rm::Consultation = item.decode()?;
    let Some(start) = c.started_at else {
        return Ok(Vec::new());
    };
    let day = start.format("%Y-%m-%d").to_string();
    let mut out = vec![((day.clone(), "all".to_string()), 1)];
    out.extend(
        c.tags
            .iter()
            .map(|t| ((day.clone(), t.as_str().to_string()), 1)),
    );
    Ok(out)
}

/// Re-derives the tags of every consultation the event may touch (SPEC A3,
/// [`rm::tags::consultation_tags`]) from the items as this transaction leaves them,
/// writes the changed ones, and moves the per-day tag counts by the difference (one item per
/// UTC day of a start, holding every tag's count: [`keys::consultation_day_counts`]). Items read
/// but not written are version-checked in the same transaction, so a concurrent event on the
/// same thread or consultation makes one of the two re-read and re-derive.
///
/// Known limit: all of this is one transaction of at most [`crate::ports::store::MAX_TX_OPS`]
/// writes, so a thread with more than about 40 consultations (each written or checked, plus
/// a count item per start day, and the names and totals the event moves) cannot take an event; the store refuses the transaction and the
/// event fails (no thread of the demo data comes near it).
async fn retag(
    store: &dyn Store,
    event: &Event,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<(), StoreError> {
    let Some((thread, mut ids)) = tag_scope(event) else {
        return Ok(());
    };
    if let Some(thread) = thread {
        let links = crate::ports::store::query_all(
            store,
            &crate::ports::Query::partition(
                crate::ports::Index::Primary,
                keys::thread_pk(thread.as_str()),
            )
            .range(crate::ports::SkRange::BeginsWith("CONSULT#".into())),
        )
        .await?;
        ids.extend(
            links
                .iter()
                .filter_map(|l| l.sk.strip_prefix("CONSULT#").map(str::to_string)),
        );
    }
    ids.sort();
    ids.dedup();
    // Items as read (`old`) and as this transaction leaves them (`now`), by key.
    let mut seen: BTreeMap<Key, (Option<Item>, Option<Item>)> = BTreeMap::new();
    let mut deltas: BTreeMap<(String, String), i64> = BTreeMap::new();
    for id in ids {
        let key = keys::consultation(&id);
        let (old, now) = lookup(store, finals, &key).await?;
        seen.insert(key.clone(), (old.clone(), now.clone()));
        let Some(current) = now else { continue };
        let mut c: rm::Consultation = current.decode()?;
        let summary = match &c.thread_id {
            Some(t) => {
                let tkey = keys::thread(t);
                if !seen.contains_key(&tkey) {
                    let pair = lookup(store, finals, &tkey).await?;
                    seen.insert(tkey.clone(), pair);
                }
                match seen.get(&tkey).and_then(|(_, now)| now.as_ref()) {
                    Some(item) => item.decode::<rm::ThreadSummary>()?,
                    None => rm::ThreadSummary::default(),
                }
            }
            None => rm::ThreadSummary::default(),
        };
        let tags = rm::tags::consultation_tags(&c, &summary);
        let written = ops
            .iter()
            .position(|op| op.key() == key && matches!(op, TxOp::Put { .. }));
        let final_item = if let Some(i) = written {
            c.tags = tags;
            if let TxOp::Put { item, .. } = &mut ops[i] {
                item.body = to_json(&c);
                item.clone()
            } else {
                current.clone()
            }
        } else if tags != c.tags {
            c.tags = tags;
            let mut item = current.clone();
            item.body = to_json(&c);
            item.version = current.version + 1;
            ops.push(TxOp::put(
                item.clone(),
                Condition::VersionIs(current.version),
            ));
            item
        } else {
            current.clone()
        };
        for (k, n) in consultation_counts(old.as_ref())? {
            *deltas.entry(k).or_default() -= n;
        }
        for (k, n) in consultation_counts(Some(&final_item))? {
            *deltas.entry(k).or_default() += n;
        }
    }
    // Everything the tags were derived from and this transaction does not write: unchanged
    // until it commits.
    for (key, (_, now)) in seen {
        if ops.iter().any(|op| op.key() == key) {
            continue;
        }
        let condition = match &now {
            Some(item) => Condition::VersionIs(item.version),
            None => Condition::NotExists,
        };
        ops.push(TxOp::Check { key, condition });
    }
    let mut days: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for ((day, tag), delta) in deltas {
        *days.entry(day).or_default().entry(tag).or_default() += delta;
    }
    for (day, deltas) in days {
        add_totals(
            store,
            ops,
            &keys::consultation_day_counts(&day),
            None,
            &deltas,
        )
        .await?;
    }
    Ok(())
}

/// An item as read and as the plan leaves it: from the plan's merges when it merged into it,
/// else read from the store (then both are the stored item).
async fn lookup(
    store: &dyn Store,
    finals: &BTreeMap<Key, Merged>,
    key: &Key,
) -> Result<(Option<Item>, Option<Item>), StoreError> {
    Ok(match finals.get(key) {
        Some(m) => (m.old.clone(), m.new.clone().or_else(|| m.old.clone())),
        None => {
            let item = store.get(key).await?;
            (item.clone(), item)
        }
    })
}

/// One running total an item contributes to while it exists: the item holding the total,
/// the fields naming its owner (set when the item is first written), the total's name, and
/// the amount.
struct Contribution {
    key: Key,
    owner: (&'static str, String),
    total: String,
    amount: i64,
}

/// What an item adds to running totals ([`rm::Totals`]): a rating to its practitioner's
/// rating count and stars (on the profile), a voucher redemption to the code's uses (on the
/// voucher), a call to its practitioner's call totals, a payment to its practitioner's
/// payment totals in its currency.
fn contributions(key: &Key, item: Option<&Item>) -> Result<Vec<Contribution>, StoreError> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let prac = |id: &str| ("practitioner_id", id.to_string());
    let c = |key: Key, owner: (&'static str, String), total: &str, amount: i64| Contribution {
        key,
        owner,
        total: total.to_string(),
        amount,
    };
    let mut out = Vec::new();
    if let Some((practitioner, stars)) = rated(key, Some(item))? {
        let k = keys::practitioner(&practitioner);
        out.push(c(k.clone(), prac(&practitioner), "rating_count", 1));
        out.push(c(k, prac(&practitioner), "rating_stars", stars));
    } else if key.pk.starts_with("VOUCHER#") && key.sk.starts_with("REDEEM#") {
        if let Some(v) = item.decode::<Option<rm::VoucherRedemption>>()? {
            out.push(c(
                keys::voucher(&v.code),
                ("code", v.code.clone()),
                "uses",
                1,
            ));
        }
    } else if key.pk.starts_with("CALL#") && key.sk == "CALL" {
        let call: rm::Call = item.decode()?;
        // Exactly the calls the per-practitioner call index lists.
        if let (Some(p), false) = (&call.practitioner_id, call.moves.is_empty()) {
            let k = keys::call_totals(p);
            let secs = rm::calls::call_seconds(&call.moves);
            out.push(c(k.clone(), prac(p), "calls", 1));
            out.push(c(k.clone(), prac(p), "total_seconds", secs));
            match call.media {
                Some(Media::Audio) => {
                    out.push(c(k.clone(), prac(p), "audio_calls", 1));
                    out.push(c(k, prac(p), "audio_seconds", secs));
                }
                Some(Media::Video) => {
                    out.push(c(k.clone(), prac(p), "video_calls", 1));
                    out.push(c(k, prac(p), "video_seconds", secs));
                }
                None => {}
            }
        }
    } else if key.pk.starts_with("PAY#") && key.sk == "PAYMENT" {
        if let Some(p) = item.decode::<Option<rm::Payment>>()? {
            let k = keys::payment_totals(&p.practitioner_id);
            let cur = p.total.currency.as_str();
            let o = || prac(&p.practitioner_id);
            out.push(c(k.clone(), o(), &format!("{cur}#payments"), 1));
            if p.payment_type.opens_consultation() {
                out.push(c(k.clone(), o(), &format!("{cur}#consultations"), 1));
            }
            out.push(c(
                k.clone(),
                o(),
                &format!("{cur}#total_minor"),
                p.total.amount_minor,
            ));
            out.push(c(
                k.clone(),
                o(),
                &format!("{cur}#specialist_minor"),
                p.specialist_minor,
            ));
            out.push(c(
                k,
                o(),
                &format!("{cur}#commission_minor"),
                p.commission_minor,
            ));
        }
    }
    Ok(out)
}

/// What a rating item counts towards its practitioner's ratings while it exists: the
/// practitioner and the stars (one rating each). The single source of both the totals on the
/// profile ([`contributions`]) and the platform's [`rm::RatingTotals`] ([`move_rating_totals`]).
fn rated(key: &Key, item: Option<&Item>) -> Result<Option<(String, i64)>, StoreError> {
    let Some(item) = item else {
        return Ok(None);
    };
    if !(key.pk.starts_with("RATING#") && key.sk == "RATING") {
        return Ok(None);
    }
    Ok(item
        .decode::<Option<rm::Rating>>()?
        .map(|r| (r.practitioner_id, i64::from(r.stars))))
}

/// Moves the platform's rating totals ([`rm::RatingTotals`], one item: what the Ratings page
/// reads for every row's average and count) by the difference between what every rating this
/// transaction merged into counted before and after — the same moves as the totals on the
/// profiles, in the same transaction. The item is read and written back on its version
/// (created when missing): every rating event of the platform serialises on it, a lost race
/// re-reads like any other merge.
async fn move_rating_totals(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<(), StoreError> {
    let mut moves: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (key, m) in finals {
        let Some(new) = &m.new else { continue };
        for (sign, item) in [(-1, m.old.as_ref()), (1, Some(new))] {
            if let Some((practitioner, stars)) = rated(key, item)? {
                let entry = moves.entry(practitioner).or_default();
                entry.0 += sign;
                entry.1 += sign * stars;
            }
        }
    }
    moves.retain(|_, (count, stars)| *count != 0 || *stars != 0);
    if moves.is_empty() {
        return Ok(());
    }
    let key = keys::rating_totals();
    let stored = store.get(&key).await?;
    let (mut totals, version, condition) = match &stored {
        Some(item) => (
            item.decode::<rm::RatingTotals>()?,
            item.version + 1,
            Condition::VersionIs(item.version),
        ),
        None => (rm::RatingTotals::default(), 1, Condition::NotExists),
    };
    for (practitioner, (count, stars)) in moves {
        let entry = totals
            .practitioners
            .entry(practitioner.clone())
            .or_default();
        entry.0 += count;
        entry.1 += stars;
        if *entry == (0, 0) {
            totals.practitioners.remove(&practitioner);
        }
    }
    let mut item = Item::new(key.pk, key.sk, to_json(&totals));
    item.version = version;
    ops.push(TxOp::put(item, condition));
    Ok(())
}

/// Who a totals item belongs to: the field naming the owner and its id.
type Owner = (&'static str, String);

/// Moves the running totals ([`contributions`]) by the difference between what every item
/// this transaction merged into contributed before and after: each total's item is read and
/// written back on a version condition (created when missing, with no index key but its own
/// kind's). Hands back the items written, as they were read, for [`copy_names`].
async fn move_totals(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<BTreeMap<Key, Option<Item>>, StoreError> {
    let mut moves: BTreeMap<Key, (Owner, BTreeMap<String, i64>)> = BTreeMap::new();
    for (key, m) in finals {
        let Some(new) = &m.new else { continue };
        for (sign, item) in [(-1, m.old.as_ref()), (1, Some(new))] {
            for c in contributions(key, item)? {
                let entry = moves
                    .entry(c.key)
                    .or_insert_with(|| (c.owner, BTreeMap::new()));
                *entry.1.entry(c.total).or_default() += sign * c.amount;
            }
        }
    }
    let mut written = BTreeMap::new();
    for (key, (owner, deltas)) in moves {
        if let Some(stored) = add_totals(store, ops, &key, Some(owner), &deltas).await? {
            written.insert(key, stored);
        }
    }
    Ok(written)
}

/// Adds `deltas` to the named totals of the item at `key` ([`rm::Totals`], in its body's
/// `totals`; a total back at zero is left out): in this transaction's write of the item if
/// there is one, else read and written back on its version (created when missing, with the
/// `owner` field). Returns the item as read when it added a write.
async fn add_totals(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    key: &Key,
    owner: Option<(&'static str, String)>,
    deltas: &BTreeMap<String, i64>,
) -> Result<Option<Option<Item>>, StoreError> {
    if deltas.values().all(|d| *d == 0) {
        return Ok(None);
    }
    let apply = |body: &mut serde_json::Value| {
        if !body.is_object() {
            *body = serde_json::json!({});
        }
        let Some(obj) = body.as_object_mut() else {
            return;
        };
        if let Some((field, id)) = &owner {
            obj.entry(*field)
                .or_insert_with(|| serde_json::Value::String(id.clone()));
        }
        let totals = obj.entry("totals").or_insert_with(|| serde_json::json!({}));
        if !totals.is_object() {
            *totals = serde_json::json!({});
        }
        if let Some(t) = totals.as_object_mut() {
            for (name, d) in deltas {
                let n = t.get(name).and_then(|v| v.as_i64()).unwrap_or(0) + d;
                if n == 0 {
                    t.remove(name);
                } else {
                    t.insert(name.clone(), serde_json::Value::from(n));
                }
            }
            if t.is_empty() {
                obj.remove("totals");
            }
        }
    };
    if let Some(TxOp::Put { item, .. }) = ops.iter_mut().find(|op| op.key() == *key) {
        apply(&mut item.body);
        return Ok(None);
    }
    let stored = store.get(key).await?;
    let (mut item, condition) = match &stored {
        Some(o) => {
            let mut i = o.clone();
            i.version = o.version + 1;
            (i, Condition::VersionIs(o.version))
        }
        None => (
            Item::new(key.pk.clone(), key.sk.clone(), serde_json::json!({})),
            Condition::NotExists,
        ),
    };
    apply(&mut item.body);
    ops.push(TxOp::put(item, condition));
    Ok(Some(stored))
}

/// The index key of a practitioner's totals item (calls or payments): in name order (the
/// copied name, folded, as the practitioners' list), once it counts a call or a payment.
fn totals_index(key: &Key, body: &serde_json::Value) -> Option<IndexKey> {
    let list = match key.sk.as_str() {
        "CALL_TOTALS" => lists::CALL_TOTALS,
        "PAY_TOTALS" => lists::PAYMENT_TOTALS,
        _ => return None,
    };
    let t: rm::PractitionerTotals = serde_json::from_value(body.clone()).ok()?;
    let counted = match list {
        lists::CALL_TOTALS => t.totals.get("calls").copied().unwrap_or(0) > 0,
        _ => t
            .totals
            .iter()
            .any(|(k, n)| k.ends_with("#payments") && *n > 0),
    };
    if !counted {
        return None;
    }
    let name = t
        .names
        .get(&t.practitioner_id)
        .map(|n| rm::fold_name(n))
        .unwrap_or_default();
    ik(list, format!("{name}#{}", t.practitioner_id))
}

/// A profile's name into the party's [`rm::PartyName`]: the newest profile wins, whatever the
/// arrival order.
fn party_name(id: &Id, name: &str, at: DateTime<Utc>) -> Effect {
    let id = s(id);
    let name = name.to_string();
    merge(
        keys::party_name(&id),
        move |n: &mut rm::PartyName| {
            n.party_id = id.clone();
            if n.as_of.is_none_or(|t| t <= at) {
                n.name = Some(name.clone());
                n.as_of = Some(at);
            }
        },
        no_index,
    )
}

/// Whether an item is a list item that shows parties' names (thread summary, consultation,
/// rating, payment, a practitioner's totals), by its key.
fn shows_names(key: &Key) -> bool {
    match key.sk.as_str() {
        "SUMMARY" => key.pk.starts_with("THREAD#"),
        "CONSULT" => key.pk.starts_with("CONSULT#"),
        "RATING" => key.pk.starts_with("RATING#"),
        "PAYMENT" => key.pk.starts_with("PAY#"),
        "CALL_TOTALS" | "PAY_TOTALS" => key.pk.starts_with("PRAC#"),
        _ => false,
    }
}

/// The parties a list item's body names: `patient_id`, `practitioner_id`, `patient_ids`,
/// `practitioner_ids` (the fields every such read model uses).
fn named_parties(body: &serde_json::Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for field in ["patient_id", "practitioner_id"] {
        if let Some(id) = body.get(field).and_then(|v| v.as_str()) {
            out.insert(id.to_string());
        }
    }
    for field in ["patient_ids", "practitioner_ids"] {
        if let Some(ids) = body.get(field).and_then(|v| v.as_array()) {
            out.extend(ids.iter().filter_map(|v| v.as_str().map(str::to_string)));
        }
    }
    out
}

/// The name a list item's body holds for a party.
fn copied_name<'a>(body: &'a serde_json::Value, party: &str) -> Option<&'a str> {
    body.get("names")
        .and_then(|n| n.get(party))
        .and_then(|n| n.as_str())
}

/// Sets (or, with `None`, removes) the name a list item's body holds for a party; an empty
/// map is left out, as the read models serialise it.
fn set_copied_name(body: &mut serde_json::Value, party: &str, name: Option<&str>) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    let names = obj
        .entry("names")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    if let Some(map) = names.as_object_mut() {
        match name {
            Some(n) => {
                map.insert(party.to_string(), serde_json::Value::String(n.to_string()));
            }
            None => {
                map.remove(party);
            }
        }
    }
    if obj
        .get("names")
        .and_then(|n| n.as_object())
        .is_some_and(|m| m.is_empty())
    {
        obj.remove("names");
    }
}

/// A party's [`rm::PartyName`] as stored and as this transaction leaves it.
struct NameSlot {
    stored: Option<Item>,
    name: rm::PartyName,
    write: bool,
}

/// Copies parties' names into the list items that show them, so that a page of a tab is one
/// Query of exactly its rows (no read per row for a name):
///
/// - A list item this transaction writes keeps the names it held for the parties it already
///   named; for a party it names for the first time it copies the party's current name (from
///   its [`rm::PartyName`], maybe not known yet), and records a reference
///   (`NAME#<party>`, `REF#<item key>`).
/// - When this transaction changes a party's name, every item referencing the party whose copy
///   differs gets the new name.
///
/// Both write the party's name item on a version condition (a new reference counts in its
/// `refs`), so a change of name racing a new copy makes one of them re-read. A change of name
/// that reaches more items than one transaction holds writes them in chunks of
/// [`FANOUT_CHUNK`] first (returned, each checking the name item unchanged), and the event's own
/// transaction (marker, profile, name, the rest) last: a failure in between leaves no marker,
/// so the event is retried and the copies that already match are skipped.
async fn copy_names(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
    totals: &BTreeMap<Key, Option<Item>>,
) -> Result<Vec<Vec<TxOp>>, StoreError> {
    let mut slots: BTreeMap<String, NameSlot> = BTreeMap::new();
    async fn name_slot<'s>(
        store: &dyn Store,
        finals: &BTreeMap<Key, Merged>,
        slots: &'s mut BTreeMap<String, NameSlot>,
        party: &str,
    ) -> Result<&'s mut NameSlot, StoreError> {
        if !slots.contains_key(party) {
            let key = keys::party_name(party);
            let (stored, now, write) = match finals.get(&key) {
                Some(m) => (
                    m.old.clone(),
                    m.new.clone().or_else(|| m.old.clone()),
                    m.new.is_some(),
                ),
                None => {
                    let item = store.get(&key).await?;
                    (item.clone(), item, false)
                }
            };
            let name = match &now {
                Some(item) => item.decode::<rm::PartyName>()?,
                None => rm::PartyName {
                    party_id: party.to_string(),
                    ..rm::PartyName::default()
                },
            };
            slots.insert(
                party.to_string(),
                NameSlot {
                    stored,
                    name,
                    write,
                },
            );
        }
        slots
            .get_mut(party)
            .ok_or_else(|| StoreError::Invalid("name slot".into()))
    }

    // Names changed by this transaction (a profile event).
    let mut renamed: Vec<(String, Option<String>)> = Vec::new();
    for (key, m) in finals {
        if key.sk != "NAME" || !key.pk.starts_with("NAME#") {
            continue;
        }
        let Some(new) = &m.new else { continue };
        let after: rm::PartyName = new.decode()?;
        let before = match &m.old {
            Some(o) => o.decode::<rm::PartyName>()?.name,
            None => None,
        };
        if after.name != before {
            renamed.push((after.party_id.clone(), after.name.clone()));
        }
    }

    // The list items this transaction merged into.
    let mut refs = Vec::new();
    for op in ops.iter_mut() {
        let TxOp::Put { item, .. } = op else { continue };
        let key = item.key();
        if !shows_names(&key) {
            continue;
        }
        let old = match (finals.get(&key), totals.get(&key)) {
            (Some(merged), _) => merged.old.as_ref(),
            (None, Some(stored)) => stored.as_ref(),
            (None, None) => continue,
        };
        let old = old.map(|o| &o.body);
        let before = old.map(named_parties).unwrap_or_default();
        for party in named_parties(&item.body) {
            if before.contains(&party) {
                let kept = old.and_then(|b| copied_name(b, &party)).map(str::to_string);
                set_copied_name(&mut item.body, &party, kept.as_deref());
            } else {
                let slot = name_slot(store, finals, &mut slots, &party).await?;
                slot.name.refs += 1;
                slot.write = true;
                let name = slot.name.name.clone();
                set_copied_name(&mut item.body, &party, name.as_deref());
                refs.push((party, key.clone()));
            }
        }
    }
    for (party, key) in refs {
        let r = keys::party_ref(&party, &key);
        ops.push(TxOp::put(
            Item::new(
                r.pk,
                r.sk,
                serde_json::json!({ "pk": key.pk, "sk": key.sk }),
            ),
            Condition::None,
        ));
    }

    // Every copy of a changed name.
    let mut fanout = Vec::new();
    for (party, name) in &renamed {
        let links = crate::ports::store::query_all(
            store,
            &crate::ports::Query::partition(
                crate::ports::Index::Primary,
                keys::party_name(party).pk,
            )
            .range(crate::ports::SkRange::BeginsWith(
                keys::PARTY_REF_PREFIX.into(),
            )),
        )
        .await?;
        for link in links {
            let (Some(pk), Some(sk)) = (
                link.body.get("pk").and_then(|v| v.as_str()),
                link.body.get("sk").and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            let key = Key::new(pk, sk);
            if ops.iter().any(|op| op.key() == key) {
                continue;
            }
            let Some(mut item) = store.get(&key).await? else {
                continue;
            };
            if !named_parties(&item.body).contains(party)
                || copied_name(&item.body, party) == name.as_deref()
            {
                continue;
            }
            set_copied_name(&mut item.body, party, name.as_deref());
            if let Some(index) = totals_index(&key, &item.body) {
                item.gsi1 = Some(index);
            }
            let condition = Condition::VersionIs(item.version);
            item.version += 1;
            fanout.push(TxOp::put(item, condition));
        }
    }

    // The name items: written where a reference was added or the name changed.
    let mut checks = Vec::new();
    for (party, slot) in slots {
        let key = keys::party_name(&party);
        let condition = match &slot.stored {
            Some(o) => Condition::VersionIs(o.version),
            None => Condition::NotExists,
        };
        checks.push(TxOp::Check {
            key: key.clone(),
            condition: condition.clone(),
        });
        if !slot.write {
            continue;
        }
        let mut item = Item::new(key.pk.clone(), key.sk.clone(), to_json(&slot.name));
        item.version = slot.stored.as_ref().map_or(1, |o| o.version + 1);
        match ops.iter_mut().find(|op| op.key() == key) {
            Some(TxOp::Put { item: existing, .. }) => *existing = item,
            _ => ops.push(TxOp::put(item, condition)),
        }
    }
    // A practitioner's totals are listed by the copied name.
    for op in ops.iter_mut() {
        if let TxOp::Put { item, .. } = op {
            if matches!(item.sk.as_str(), "CALL_TOTALS" | "PAY_TOTALS") {
                let key = item.key();
                item.gsi1 = totals_index(&key, &item.body);
            }
        }
    }
    for (party, _) in &renamed {
        let key = keys::party_name(party);
        if let Some(TxOp::Put { condition, .. }) = ops.iter().find(|op| op.key() == key) {
            checks.push(TxOp::Check {
                key,
                condition: condition.clone(),
            });
        }
    }
    checks.sort_by_key(TxOp::key);
    checks.dedup_by(|a, b| a.key() == b.key());

    let room = crate::ports::store::MAX_TX_OPS.saturating_sub(ops.len());
    let mut chunks = Vec::new();
    if fanout.len() > room {
        let early = fanout.split_off(room);
        for chunk in early.chunks(FANOUT_CHUNK.saturating_sub(checks.len()).max(1)) {
            let mut tx = chunk.to_vec();
            tx.extend(checks.iter().cloned());
            chunks.push(tx);
        }
    }
    ops.extend(fanout);
    Ok(chunks)
}

/// Most writes of one early chunk of a change of name (the transaction limit, less the checks).
const FANOUT_CHUNK: usize = crate::ports::store::MAX_TX_OPS;

fn s(id: &Id) -> String {
    id.to_string()
}

/// The effects of one event: which read-model items it merges into and which counters it moves.
fn plan(event: &Event) -> Vec<Effect> {
    let at = event.occurred_at;
    match &event.body {
        EventBody::PractitionerUpserted(e) => {
            let name = party_name(&e.practitioner_id, e.name.as_str(), at);
            let e = e.clone();
            vec![
                name,
                merge(
                    keys::practitioner(e.practitioner_id.as_str()),
                    move |p: &mut rm::Practitioner| {
                        p.practitioner_id = s(&e.practitioner_id);
                        if p.profile_as_of.is_none_or(|t| t <= at) {
                            p.name = Some(e.name.as_str().to_string());
                            p.specialties = e
                                .specialties
                                .iter()
                                .map(|x| x.as_str().to_string())
                                .collect();
                            p.approval = Some(e.approval);
                            p.price = Some(e.price.clone());
                            p.has_scheduling_practice = e.has_scheduling_practice;
                            p.profile_as_of = Some(at);
                        }
                    },
                    practitioner_index,
                ),
            ]
        }
        EventBody::PractitionerAvailabilityChanged(e) => {
            let e = e.clone();
            vec![merge(
                keys::practitioner(e.practitioner_id.as_str()),
                move |p: &mut rm::Practitioner| {
                    p.practitioner_id = s(&e.practitioner_id);
                    if p.availability_as_of.is_none_or(|t| t <= at) {
                        p.availability = Some(e.availability);
                        p.availability_as_of = Some(at);
                    }
                },
                practitioner_index,
            )]
        }
        EventBody::PatientUpserted(e) => {
            let name = party_name(&e.patient_id, e.name.as_str(), at);
            let e = e.clone();
            vec![
                name,
                merge(
                    keys::patient(e.patient_id.as_str()),
                    move |p: &mut rm::Patient| {
                        p.patient_id = s(&e.patient_id);
                        if p.as_of.is_none_or(|t| t <= at) {
                            p.name = Some(e.name.as_str().to_string());
                            p.as_of = Some(at);
                        }
                    },
                    no_index,
                ),
            ]
        }
        EventBody::ThreadCreated(e) => {
            let mut effects = Vec::new();
            for party in e.patient_ids.iter().chain(&e.practitioner_ids) {
                let thread_id = s(&e.thread_id);
                effects.push(merge(
                    keys::party_thread(party.as_str(), e.thread_id.as_str()),
                    move |v: &mut serde_json::Value| {
                        *v = serde_json::json!({ "thread_id": thread_id });
                    },
                    no_index,
                ));
            }
            let e = e.clone();
            effects.push(merge(
                keys::thread(e.thread_id.as_str()),
                move |t: &mut rm::ThreadSummary| {
                    t.thread_id = s(&e.thread_id);
                    t.patient_ids.extend(e.patient_ids.iter().map(s));
                    t.practitioner_ids.extend(e.practitioner_ids.iter().map(s));
                    t.created_at = min_time(t.created_at, at);
                },
                thread_index,
            ));
            effects
        }
        EventBody::MessageSent(e) => {
            let summary = e.clone();
            let msg = e.clone();
            let sort = format!("MSG#{}#{}", sort_time(at), e.message_id);
            vec![
                merge(
                    keys::thread(e.thread_id.as_str()),
                    move |t: &mut rm::ThreadSummary| {
                        t.thread_id = s(&summary.thread_id);
                        t.last_message_at = max_time(t.last_message_at, at);
                        t.message_count += 1;
                        match summary.sender_role {
                            PartyRole::Patient => {
                                t.patient_ids.insert(s(&summary.sender_id));
                                t.first_patient_message_at =
                                    min_time(t.first_patient_message_at, at);
                                t.last_patient_message_at = max_time(t.last_patient_message_at, at);
                            }
                            PartyRole::Practitioner => {
                                t.practitioner_ids.insert(s(&summary.sender_id));
                                t.first_practitioner_message_at =
                                    min_time(t.first_practitioner_message_at, at);
                                t.last_practitioner_message_at =
                                    max_time(t.last_practitioner_message_at, at);
                            }
                            PartyRole::System => {}
                        }
                        if let Some(d) = &summary.device {
                            let name = match &d.model {
                                Some(m) => format!("{}/{}", platform_name(d.platform), m.as_str()),
                                None => platform_name(d.platform).to_string(),
                            };
                            t.devices
                                .entry(s(&summary.sender_id))
                                .or_default()
                                .insert(name);
                        }
                    },
                    thread_index,
                ),
                merge(
                    Key::new(keys::thread_pk(e.thread_id.as_str()), sort),
                    move |m: &mut rm::StoredMessage| {
                        *m = rm::StoredMessage {
                            message_id: s(&msg.message_id),
                            thread_id: s(&msg.thread_id),
                            sender_id: s(&msg.sender_id),
                            sender_role: Some(msg.sender_role),
                            kind: Some(msg.kind),
                            device: msg.device.clone(),
                            sent_at: Some(at),
                            system_text: msg.system_text.as_ref().map(|t| t.as_str().to_string()),
                            ciphertext: msg.ciphertext.clone(),
                        };
                    },
                    no_index,
                ),
            ]
        }
        EventBody::ThreadOpened(e) => {
            let e = e.clone();
            vec![merge(
                keys::thread(e.thread_id.as_str()),
                move |t: &mut rm::ThreadSummary| {
                    t.thread_id = s(&e.thread_id);
                    match e.reader_role {
                        PartyRole::Practitioner => {
                            t.practitioner_ids.insert(s(&e.reader_id));
                            t.practitioner_opened_at = max_time(t.practitioner_opened_at, at);
                        }
                        PartyRole::Patient => {
                            t.patient_ids.insert(s(&e.reader_id));
                            t.patient_opened_at = max_time(t.patient_opened_at, at);
                        }
                        PartyRole::System => {}
                    }
                },
                thread_index,
            )]
        }
        EventBody::PaymentRequestSent(e) => {
            let e2 = e.clone();
            let e = e.clone();
            vec![
                merge(
                    keys::payment_request(e.thread_id.as_str(), e.request_id.as_str()),
                    move |r: &mut rm::PaymentRequest| {
                        r.request_id = s(&e.request_id);
                        r.thread_id = s(&e.thread_id);
                        r.practitioner_id = Some(s(&e.practitioner_id));
                        r.patient_id = Some(s(&e.patient_id));
                        r.amount = Some(e.amount.clone());
                        r.sent_at = Some(at);
                    },
                    no_index,
                ),
                {
                    let e = e2;
                    merge(
                        keys::thread(e.thread_id.as_str()),
                        move |t: &mut rm::ThreadSummary| {
                            t.thread_id = s(&e.thread_id);
                            t.requests.entry(s(&e.request_id)).or_default().sent_at = Some(at);
                        },
                        thread_index,
                    )
                },
            ]
        }
        EventBody::PaymentRequestAnswered(e) => {
            let e2 = e.clone();
            let e = e.clone();
            vec![
                merge(
                    keys::payment_request(e.thread_id.as_str(), e.request_id.as_str()),
                    move |r: &mut rm::PaymentRequest| {
                        r.request_id = s(&e.request_id);
                        r.thread_id = s(&e.thread_id);
                        if r.answered_at.is_none_or(|t| t <= at) {
                            r.answer = Some(e.answer);
                            r.answered_at = Some(at);
                        }
                    },
                    no_index,
                ),
                {
                    let e = e2;
                    merge(
                        keys::thread(e.thread_id.as_str()),
                        move |t: &mut rm::ThreadSummary| {
                            t.thread_id = s(&e.thread_id);
                            let r = t.requests.entry(s(&e.request_id)).or_default();
                            if r.answered_at.is_none_or(|t| t <= at) {
                                r.answer = Some(e.answer);
                                r.answered_at = Some(at);
                            }
                        },
                        thread_index,
                    )
                },
            ]
        }
        EventBody::PaymentCompleted(e) => {
            let mut effects = Vec::new();
            let payment = rm::Payment {
                payment_id: s(&e.payment_id),
                payment_type: e.payment_type,
                consultation_id: e.consultation_id.as_ref().map(s),
                thread_id: s(&e.thread_id),
                patient_id: s(&e.patient_id),
                practitioner_id: s(&e.practitioner_id),
                total: e.total.clone(),
                commission_minor: e.commission_minor,
                specialist_minor: e.total.amount_minor - e.commission_minor,
                request_id: e.request_id.as_ref().map(s),
                voucher_code: e.voucher_code.as_ref().map(s),
                paid_at: at,
                names: rm::Names::new(),
            };
            effects.push(merge(
                keys::payment(e.payment_id.as_str()),
                move |p: &mut Option<rm::Payment>| {
                    // The names are ingest's copies (kept by `copy_names`), not the event's.
                    let names = p.as_ref().map(|p| p.names.clone()).unwrap_or_default();
                    *p = Some(rm::Payment {
                        names,
                        ..payment.clone()
                    })
                },
                |p: &Option<rm::Payment>| match p {
                    Some(p) => {
                        let sk = format!("{}#{}", sort_time(p.paid_at), p.payment_id);
                        (
                            ik(lists::PAYMENTS, sk.clone()),
                            ik(lists::practitioner_payments(&p.practitioner_id), sk),
                        )
                    }
                    None => (None, None),
                },
            ));
            if let (true, Some(cid)) = (e.payment_type.opens_consultation(), &e.consultation_id) {
                let c = e.clone();
                let cid2 = s(cid);
                effects.push(merge(
                    keys::consultation(cid.as_str()),
                    move |k: &mut rm::Consultation| {
                        k.consultation_id = cid2.clone();
                        // The earliest opening payment owns the consultation, whatever the
                        // arrival order (ties broken by payment id).
                        let earliest = match (k.started_at, k.payment_id.as_deref()) {
                            (Some(t), Some(p)) => (at, c.payment_id.as_str()) < (t, p),
                            _ => true,
                        };
                        if earliest {
                            k.thread_id = Some(s(&c.thread_id));
                            k.practitioner_id = Some(s(&c.practitioner_id));
                            k.patient_id = Some(s(&c.patient_id));
                            k.payment_id = Some(s(&c.payment_id));
                            k.payment_type = Some(c.payment_type);
                            k.started_at = Some(at);
                        }
                    },
                    consultation_index,
                ));
                let cid3 = s(cid);
                effects.push(merge(
                    keys::thread_consultation(e.thread_id.as_str(), cid.as_str()),
                    move |v: &mut serde_json::Value| {
                        let prev = v
                            .get("started_at")
                            .and_then(|t| t.as_str())
                            .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                        if prev.is_none_or(|p| at < p) {
                            *v = serde_json::json!({ "consultation_id": cid3, "started_at": at });
                        }
                    },
                    no_index,
                ));
            }
            effects
        }
        EventBody::ConsultationCancelled(e) => {
            let e = e.clone();
            vec![merge(
                keys::consultation(e.consultation_id.as_str()),
                move |k: &mut rm::Consultation| {
                    k.consultation_id = s(&e.consultation_id);
                    if k.cancelled_at.is_none_or(|t| t > at) {
                        k.cancelled_at = Some(at);
                        k.cancelled_by = Some(e.cancelled_by);
                    }
                },
                consultation_index,
            )]
        }
        EventBody::ClinicalNoteSent(e) => {
            let note = rm::ClinicalNote {
                note_id: s(&e.note_id),
                thread_id: s(&e.thread_id),
                practitioner_id: s(&e.practitioner_id),
                note_type: e.note_type,
                sent_at: at,
            };
            let thread_id = s(&e.thread_id);
            let note_type = e.note_type;
            vec![
                merge(
                    Key::new(
                        keys::thread_pk(e.thread_id.as_str()),
                        format!("NOTE#{}#{}", sort_time(at), e.note_id),
                    ),
                    move |n: &mut Option<rm::ClinicalNote>| *n = Some(note.clone()),
                    no_index,
                ),
                merge(
                    keys::thread(e.thread_id.as_str()),
                    move |t: &mut rm::ThreadSummary| {
                        t.thread_id = thread_id.clone();
                        let last = t.last_notes.get(&note_type).copied();
                        if let Some(newest) = max_time(last, at) {
                            t.last_notes.insert(note_type, newest);
                        }
                    },
                    thread_index,
                ),
            ]
        }
        EventBody::CallJoined(e) => {
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
        EventBody::CallLeft(e) => {
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
        EventBody::RatingSubmitted(e) => {
            let rating = rm::Rating {
                rating_id: s(&e.rating_id),
                patient_id: s(&e.patient_id),
                practitioner_id: s(&e.practitioner_id),
                stars: e.stars,
                comment: e.comment.as_ref().map(|c| c.as_str().to_string()),
                submitted_at: at,
                names: rm::Names::new(),
            };
            // A rating is a snapshot (an edit re-sends it: the newest wins) and counts once
            // towards its practitioner's count and stars, whichever version it is.
            vec![counted(
                merge(
                    keys::rating(e.rating_id.as_str()),
                    move |r: &mut Option<rm::Rating>| {
                        if r.as_ref().is_none_or(|r| r.submitted_at <= at) {
                            let names = r.as_ref().map(|r| r.names.clone()).unwrap_or_default();
                            *r = Some(rm::Rating {
                                names,
                                ..rating.clone()
                            });
                        }
                    },
                    |r: &Option<rm::Rating>| match r {
                        Some(r) => {
                            let sk = format!("{}#{}", sort_time(r.submitted_at), r.rating_id);
                            (
                                ik(lists::RATINGS, sk.clone()),
                                ik(lists::practitioner_ratings(&r.practitioner_id), sk),
                            )
                        }
                        None => (None, None),
                    },
                ),
                |r: &Option<rm::Rating>| match r {
                    Some(r) => vec![
                        (keys::practitioner_rating_count(&r.practitioner_id), 1),
                        (
                            keys::practitioner_rating_stars(&r.practitioner_id),
                            i64::from(r.stars),
                        ),
                    ],
                    None => Vec::new(),
                },
            )]
        }
        EventBody::VoucherCreated(e) => {
            let e = e.clone();
            vec![merge(
                keys::voucher(e.code.as_str()),
                move |v: &mut rm::Voucher| {
                    v.code = s(&e.code);
                    if v.created_at.is_none_or(|t| t <= at) {
                        v.usage_limit = e.usage_limit;
                        v.expires_at = e.expires_at;
                        v.created_at = Some(at);
                    }
                },
                |v: &rm::Voucher| (ik(lists::VOUCHERS, v.code.clone()), None),
            )]
        }
        EventBody::VoucherRedeemed(e) => {
            let redemption = rm::VoucherRedemption {
                code: s(&e.code),
                redemption_id: s(&e.redemption_id),
                patient_id: s(&e.patient_id),
                payment_id: e.payment_id.as_ref().map(s),
                redeemed_at: at,
            };
            // Each distinct redemption is one use of the code; the earliest report of it stands.
            vec![counted(
                merge(
                    keys::voucher_redemption(e.code.as_str(), e.redemption_id.as_str()),
                    move |v: &mut Option<rm::VoucherRedemption>| {
                        if v.as_ref().is_none_or(|v| at < v.redeemed_at) {
                            *v = Some(redemption.clone());
                        }
                    },
                    no_index,
                ),
                |v: &Option<rm::VoucherRedemption>| match v {
                    Some(v) => vec![(keys::voucher_uses(&v.code), 1)],
                    None => Vec::new(),
                },
            )]
        }
        EventBody::OrganisationUpserted(e) => {
            let e = e.clone();
            vec![merge(
                keys::organisation(e.org_id.as_str()),
                move |o: &mut rm::Organisation| {
                    if o.as_of.is_none_or(|t| t <= at) {
                        *o = rm::Organisation {
                            org_id: s(&e.org_id),
                            name: e.name.as_str().to_string(),
                            state: e.state.as_str().to_string(),
                            specialty: e.specialty.as_str().to_string(),
                            contract: e.contract.as_str().to_string(),
                            created_at: Some(e.created_at),
                            deleted_at: e.deleted_at,
                            as_of: Some(at),
                        };
                    }
                },
                |o: &rm::Organisation| (ik(lists::ORGANISATIONS, o.org_id.clone()), None),
            )]
        }
        EventBody::ClinicUpserted(e) => {
            let c = rm::Clinic {
                clinic_id: s(&e.clinic_id),
                org_id: s(&e.org_id),
                name: e.name.as_str().to_string(),
                subdomain: s(&e.subdomain),
                waiting_area_status: e.waiting_area_status,
                state: e.state.as_str().to_string(),
                specialty: e.specialty.as_str().to_string(),
                contract: e.contract.as_str().to_string(),
                created_at: e.created_at,
                deleted_at: e.deleted_at,
                as_of: at,
            };
            vec![snapshot(
                keys::clinic(e.clinic_id.as_str()),
                c,
                at,
                |o: &rm::Clinic| o.as_of,
                |o: &Option<rm::Clinic>| match o {
                    Some(c) => (ik(lists::org_clinics(&c.org_id), c.clinic_id.clone()), None),
                    None => (None, None),
                },
            )]
        }
        EventBody::RoomUpserted(e) => {
            let r = rm::Room {
                room_id: s(&e.room_id),
                org_id: s(&e.org_id),
                clinic_id: s(&e.clinic_id),
                room_type: e.room_type,
                name: e.name.as_str().to_string(),
                owner_account_id: e.owner_account_id.as_ref().map(s),
                created_at: e.created_at,
                deleted_at: e.deleted_at,
                as_of: at,
            };
            vec![snapshot(
                keys::room(e.room_id.as_str()),
                r,
                at,
                |o: &rm::Room| o.as_of,
                |o: &Option<rm::Room>| match o {
                    Some(r) => (ik(lists::org_rooms(&r.org_id), r.room_id.clone()), None),
                    None => (None, None),
                },
            )]
        }
        EventBody::AccountUpserted(e) => {
            let a = rm::Account {
                account_id: s(&e.account_id),
                org_id: s(&e.org_id),
                email: e.email.as_str().to_string(),
                name: e.name.as_str().to_string(),
                platform_role: s(&e.platform_role),
                access_level: s(&e.access_level),
                created_at: e.created_at,
                deactivated_at: e.deactivated_at,
                as_of: at,
            };
            let (id, name) = (a.account_id.clone(), a.name.clone());
            vec![
                snapshot(
                    keys::account(e.account_id.as_str()),
                    a,
                    at,
                    |o: &rm::Account| o.as_of,
                    |o: &Option<rm::Account>| match o {
                        Some(a) => (
                            ik(lists::org_accounts(&a.org_id), a.account_id.clone()),
                            None,
                        ),
                        None => (None, None),
                    },
                ),
                // The organisation's names item (C6), on the account item's rule: an entry
                // moves only for an event as new as it.
                merge(
                    keys::org_account_names(e.org_id.as_str()),
                    move |names: &mut rm::AccountNames| {
                        if names.accounts.get(&id).is_none_or(|n| n.as_of <= at) {
                            names.accounts.insert(
                                id.clone(),
                                rm::AccountName {
                                    name: name.clone(),
                                    as_of: at,
                                },
                            );
                        }
                    },
                    no_index,
                ),
            ]
        }
        EventBody::MembershipUpserted(e) => {
            let m = rm::Membership {
                account_id: s(&e.account_id),
                clinic_id: s(&e.clinic_id),
                org_id: s(&e.org_id),
                clinic_role: e.clinic_role,
                granted_at: e.granted_at,
                revoked_at: e.revoked_at,
                as_of: at,
            };
            vec![snapshot(
                keys::membership(e.account_id.as_str(), e.clinic_id.as_str()),
                m,
                at,
                |o: &rm::Membership| o.as_of,
                |o: &Option<rm::Membership>| match o {
                    Some(m) => (
                        ik(lists::clinic_members(&m.clinic_id), m.account_id.clone()),
                        None,
                    ),
                    None => (None, None),
                },
            )]
        }
        EventBody::AccountLoggedIn(e) => {
            let login_sk = format!("LOGIN#{}#{}", sort_time(at), event.id);
            let account = s(&e.account_id);
            let org = s(&e.org_id);
            let index_sk = format!("{}#{}#{}", sort_time(at), e.account_id, event.id);
            let logins = lists::org_logins(e.org_id.as_str());
            vec![
                merge(
                    Key::new(format!("ACCOUNT#{}", e.account_id), login_sk),
                    move |v: &mut serde_json::Value| {
                        *v = serde_json::json!({ "account_id": account, "org_id": org, "at": at });
                    },
                    move |_| (ik(logins.clone(), index_sk.clone()), None),
                ),
                merge(
                    keys::account_last_login(e.account_id.as_str()),
                    move |v: &mut serde_json::Value| {
                        let prev = v
                            .get("at")
                            .and_then(|t| t.as_str())
                            .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                        if prev.is_none_or(|p| p < at) {
                            *v = serde_json::json!({ "at": at });
                        }
                    },
                    no_index,
                ),
            ]
        }
        EventBody::QueuedCallEntered(e) => {
            let e = e.clone();
            vec![merge(
                keys::queued_call(e.session_id.as_str()),
                move |q: &mut rm::QueuedCall| {
                    q.queued_call_id = s(&e.queued_call_id);
                    q.session_id = s(&e.session_id);
                    q.org_id = Some(s(&e.org_id));
                    q.clinic_id = Some(s(&e.clinic_id));
                    q.entered_at = min_time(q.entered_at, at);
                },
                queued_index,
            )]
        }
        EventBody::QueuedCallAbandoned(e) => {
            let q = e.clone();
            let g = e.clone();
            vec![
                merge(
                    keys::queued_call(e.session_id.as_str()),
                    move |c: &mut rm::QueuedCall| {
                        c.queued_call_id = s(&q.queued_call_id);
                        c.session_id = s(&q.session_id);
                        c.abandoned_at = min_time(c.abandoned_at, at);
                    },
                    queued_index,
                ),
                merge(
                    keys::segment(e.session_id.as_str(), e.segment_id.as_str()),
                    move |seg: &mut rm::Segment| {
                        seg.session_id = s(&g.session_id);
                        seg.segment_id = s(&g.segment_id);
                        seg.abandoned_at = min_time(seg.abandoned_at, at);
                    },
                    segment_index,
                ),
            ]
        }
        EventBody::SegmentStarted(e) => {
            let e = e.clone();
            vec![merge(
                keys::segment(e.session_id.as_str(), e.segment_id.as_str()),
                move |seg: &mut rm::Segment| {
                    seg.session_id = s(&e.session_id);
                    seg.segment_id = s(&e.segment_id);
                    seg.queued_call_id = Some(s(&e.queued_call_id));
                    seg.org_id = Some(s(&e.org_id));
                    seg.clinic_id = Some(s(&e.clinic_id));
                    seg.started_at = min_time(seg.started_at, at);
                },
                segment_index,
            )]
        }
        EventBody::SegmentTransferred(e) => {
            let e = e.clone();
            vec![merge(
                keys::segment(e.session_id.as_str(), e.segment_id.as_str()),
                move |seg: &mut rm::Segment| {
                    seg.session_id = s(&e.session_id);
                    seg.segment_id = s(&e.segment_id);
                    seg.transferred_at = Some(at);
                    seg.to_clinic_id = Some(s(&e.to_clinic_id));
                    seg.to_segment_id = Some(s(&e.to_segment_id));
                },
                segment_index,
            )]
        }
        EventBody::SegmentEnded(e) => {
            let e = e.clone();
            vec![merge(
                keys::segment(e.session_id.as_str(), e.segment_id.as_str()),
                move |seg: &mut rm::Segment| {
                    seg.session_id = s(&e.session_id);
                    seg.segment_id = s(&e.segment_id);
                    seg.ended_at = max_time(seg.ended_at, at);
                },
                segment_index,
            )]
        }
        EventBody::ParticipantJoined(e) => {
            let e = e.clone();
            vec![merge(
                keys::participant(
                    e.session_id.as_str(),
                    e.segment_id.as_str(),
                    e.participant_id.as_str(),
                ),
                move |p: &mut rm::SegmentParticipant| {
                    p.session_id = s(&e.session_id);
                    p.segment_id = s(&e.segment_id);
                    p.participant_id = s(&e.participant_id);
                    p.participant_type = Some(e.participant_type);
                    p.account_id = e.account_id.as_ref().map(s);
                    p.joined_at = min_time(p.joined_at, at);
                },
                participant_index,
            )]
        }
        EventBody::ParticipantLeft(e) => {
            let e = e.clone();
            vec![merge(
                keys::participant(
                    e.session_id.as_str(),
                    e.segment_id.as_str(),
                    e.participant_id.as_str(),
                ),
                move |p: &mut rm::SegmentParticipant| {
                    p.session_id = s(&e.session_id);
                    p.segment_id = s(&e.segment_id);
                    p.participant_id = s(&e.participant_id);
                    if p.left_at.is_none_or(|t| t <= at) {
                        p.left_at = Some(at);
                        p.bandwidth = Some(e.bandwidth);
                    }
                },
                participant_index,
            )]
        }
        EventBody::RoomCallJoined(e) => {
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
        EventBody::RoomCallLeft(e) => {
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
    }
}

fn platform_name(p: DevicePlatform) -> &'static str {
    match p {
        DevicePlatform::Ios => "ios",
        DevicePlatform::Android => "android",
        DevicePlatform::Web => "web",
    }
}

fn practitioner_index(p: &rm::Practitioner) -> Indexes {
    let name = p.name.as_deref().map(rm::fold_name).unwrap_or_default();
    let sk = format!("{name}#{}", p.practitioner_id);
    (
        ik(lists::PRACTITIONERS, sk.clone()),
        p.approval
            .and_then(|a| ik(lists::practitioners_by_approval(a), sk)),
    )
}

fn thread_index(t: &rm::ThreadSummary) -> Indexes {
    match t.activity_at() {
        Some(at) => (
            ik(lists::FEED, format!("{}#{}", sort_time(at), t.thread_id)),
            None,
        ),
        None => (None, None),
    }
}

fn consultation_index(c: &rm::Consultation) -> Indexes {
    match (c.started_at, &c.practitioner_id) {
        (Some(at), Some(p)) => {
            let sk = format!("{}#{}", sort_time(at), c.consultation_id);
            (
                ik(lists::CONSULTATIONS, sk.clone()),
                ik(lists::practitioner_consultations(p), sk),
            )
        }
        _ => (None, None),
    }
}

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_caps() {
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let mut total = std::time::Duration::ZERO;
        for attempt in 0..MAX_ATTEMPTS {
            let wait = backoff(attempt, hash);
            assert!(wait.as_millis() <= u128::from((2u64 << attempt.min(6)).min(100)));
            total += wait;
        }
        assert!(total <= std::time::Duration::from_secs(3));
    }
}
