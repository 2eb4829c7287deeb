//! The effect machinery every aggregate's plan uses: an [`Effect`] merges an event into one
//! read-model item (read, apply, write back on its version), maybe moving counters by the
//! difference; [`resolve`] turns a plan into transaction ops, and [`restage`] and
//! [`versioned_put`] let the derived writes (segments, statistics, tags, totals, names) change
//! items in the same transaction on the same version rule.

use crate::events::types::Id;
use crate::ports::{Condition, IndexKey, Item, Key, Store, StoreError, TxOp};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

pub(super) fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// An id as the read models hold it.
pub(super) fn s(id: &Id) -> String {
    id.to_string()
}

type Apply = Box<dyn Fn(Option<&Item>) -> Result<Option<Item>, StoreError> + Send + Sync>;

/// What a read-model item adds to which counters while it exists (its contributions).
type Counts = Box<dyn Fn(Option<&Item>) -> Result<Vec<(Key, i64)>, StoreError> + Send + Sync>;

/// One effect of an event on the read models: read the item (maybe missing), apply the event,
/// write it back if it changed. When the item counts towards counters, each counter moves by
/// the difference between the item's contributions after and before, so an item re-sent under
/// a new event id (the same rating, the same voucher redemption) is never counted twice.
pub(super) struct Effect {
    key: Key,
    apply: Apply,
    counts: Option<Counts>,
}

/// Index keys a read model item carries, computed from its merged body.
pub(super) type Indexes = (Option<IndexKey>, Option<IndexKey>);

pub(super) fn merge<T, F, I>(key: Key, update: F, index: I) -> Effect
where
    T: Default + Serialize + DeserializeOwned + PartialEq + 'static,
    F: Fn(&mut T) + Send + Sync + 'static,
    I: Fn(&T) -> Indexes + Send + Sync + 'static,
{
    let k = key.clone();
    let apply: Apply = Box::new(move |old: Option<&Item>| {
        let (before, mut after) = decoded_twice::<T>(old)?;
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
pub(super) fn counted<T, C>(mut effect: Effect, counts: C) -> Effect
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
pub(super) fn snapshot<T, I>(
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

pub(super) fn no_index<T>(_: &T) -> Indexes {
    (None, None)
}

pub(super) fn ik(pk: impl Into<String>, sk: impl Into<String>) -> Option<IndexKey> {
    Some(IndexKey::new(pk, sk))
}

/// The item a merge read, what the plan made of it so far, and what it counts towards.
struct Slot<'a> {
    old: Option<Item>,
    new: Option<Item>,
    counts: Option<&'a Counts>,
}

/// An item a plan merged into: as read, and as written (`None` when unchanged).
pub(super) struct Merged {
    pub(super) old: Option<Item>,
    pub(super) new: Option<Item>,
}

/// Reads what the merges need and turns the plan into transaction ops; also hands back every
/// item the plan merged into, for the writes derived from them (segment copies, statistics,
/// tags, totals, names).
pub(super) async fn resolve(
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
        let condition = rewrite_over(&mut item, slot.old.as_ref());
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

/// An item as read and as the plan leaves it: from the plan's merges when it merged into it,
/// else read from the store (then both are the stored item).
pub(super) async fn lookup(
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

/// Changes the read model at `key` as this transaction leaves it: in the transaction's own
/// write of it when there is one, else read and written back on its version (created when
/// missing) — only when `change` changed something. Returns the model as changed, and whether
/// this transaction creates the item.
pub(super) async fn restage<T>(
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
    let (before, mut after) = decoded_twice::<T>(stored.as_ref())?;
    change(&mut after);
    if stored.is_some() && after == before {
        return Ok((after, false));
    }
    let mut item = Item::new(key.pk.clone(), key.sk.clone(), to_json(&after));
    (item.gsi1, item.gsi2) = index(&after);
    let condition = rewrite_over(&mut item, stored.as_ref());
    let created = stored.is_none();
    ops.push(TxOp::put(item, condition));
    Ok((after, created))
}

/// The put of `item` over what is `stored` at its key: the next version on the stored one's
/// (a lost race fails the transaction), or version 1 where nothing is stored yet.
pub(super) fn versioned_put(mut item: Item, stored: Option<&Item>) -> TxOp {
    let condition = next_version(&mut item, stored);
    TxOp::put(item, condition)
}

/// Gives `item` the version after the `stored` one's (1 where nothing is stored yet) and
/// answers the condition that holds it to that: a lost race fails the transaction.
fn next_version(item: &mut Item, stored: Option<&Item>) -> Condition {
    match stored {
        Some(o) => {
            item.version = o.version + 1;
            Condition::VersionIs(o.version)
        }
        None => {
            item.version = 1;
            Condition::NotExists
        }
    }
}

/// [`next_version`] for a read model written back over its stored self: it also keeps the
/// stored item's expiry, which the model's body does not carry.
fn rewrite_over(item: &mut Item, stored: Option<&Item>) -> Condition {
    if let Some(o) = stored {
        item.expires_at = o.expires_at;
    }
    next_version(item, stored)
}

/// A read model as stored (its default where nothing is), and a second copy of it, taken
/// through JSON, to change: comparing the two after the change says whether the item changed.
fn decoded_twice<T>(stored: Option<&Item>) -> Result<(T, T), StoreError>
where
    T: Default + Serialize + DeserializeOwned,
{
    let before: T = match stored {
        Some(item) => item.decode()?,
        None => T::default(),
    };
    let after = serde_json::from_value::<T>(to_json(&before))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((before, after))
}
