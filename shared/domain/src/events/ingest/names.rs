//! Parties' names copied into the list items that show them ([`rm::PartyName`], references
//! `NAME#<party>` / `REF#<item key>`), so that a page of a tab is one Query of exactly its rows;
//! a change of name reaches every copy.

use super::effects::{merge, no_index, s, to_json, Effect, Merged};
use super::totals::totals_index;
use crate::events::types::Id;
use crate::ports::{Condition, Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, keys};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A profile's name into the party's [`rm::PartyName`]: the newest profile wins, whatever the
/// arrival order.
pub(super) fn party_name(id: &Id, name: &str, at: DateTime<Utc>) -> Effect {
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
pub(super) async fn copy_names(
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
