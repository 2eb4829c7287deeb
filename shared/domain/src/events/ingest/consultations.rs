//! Consultations: opened by a payment, cancelled by anyone; their tags (SPEC A3) re-derived
//! in every event's transaction that may change them, with the per-day tag counts.

use super::effects::{ik, lookup, merge, no_index, s, to_json, Effect, Indexes, Merged};
use super::totals::add_totals;
use crate::events::catalogue::{ConsultationCancelled, Event, EventBody, PaymentCompleted};
use crate::events::types::Id;
use crate::ports::{Condition, Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, keys, lists, sort_time};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A payment that opens a consultation (`payment.completed` of an opening type, naming its
/// consultation): the consultation, and its link from the thread.
pub(super) fn opened(e: &PaymentCompleted, at: DateTime<Utc>) -> Vec<Effect> {
    let mut effects = Vec::new();
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

/// `consultation.cancelled`: the earliest cancellation stands.
pub(super) fn cancelled(e: &ConsultationCancelled, at: DateTime<Utc>) -> Vec<Effect> {
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

/// Every consultation by start (A3), and each practitioner's.
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

/// What a consultation adds to the tag counts, for `all` and for each of its tags: one to its
/// start day's count (`<tag>`) and to its start hour's (`HH/<tag>`) on the day item, and one
/// to its start minute's (`MM/<tag>`) on the hour item ([`keys::consultation_hour_counts`]).
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
    let hour = start.format("%Y-%m-%dT%H").to_string();
    let (hh, mm) = (
        start.format("%H").to_string(),
        start.format("%M").to_string(),
    );
    let tags = std::iter::once("all").chain(c.tags.iter().map(|t| t.as_str()));
    let mut out = Vec::new();
    for tag in tags {
        out.push(((day.clone(), tag.to_string()), 1));
        out.push(((day.clone(), format!("{hh}/{tag}")), 1));
        out.push(((hour.clone(), format!("{mm}/{tag}")), 1));
    }
    Ok(out)
}

/// Re-derives the tags of every consultation the event may touch (SPEC A3,
/// [`rm::tags::consultation_tags`]) from the items as this transaction leaves them,
/// writes the changed ones, and moves the tag counts by the difference (one item per UTC day
/// of a start, holding every tag's count per day and per hour:
/// [`keys::consultation_day_counts`]; one per UTC hour of a start, per minute:
/// [`keys::consultation_hour_counts`]). Items read
/// but not written are version-checked in the same transaction, so a concurrent event on the
/// same thread or consultation makes one of the two re-read and re-derive.
///
/// Known limit: all of this is one transaction of at most [`crate::ports::store::MAX_TX_OPS`]
/// writes, so a thread with more than about 40 consultations (each written or checked, plus
/// two count items per start day (the day's and the hour's), and the names and totals the event moves) cannot take an
/// event; the store refuses the transaction and the event fails (no thread of the demo data
/// comes near it).
pub(super) async fn retag(
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
    // `day` is a day (`YYYY-MM-DD`) or an hour (`YYYY-MM-DDTHH`): both keys share the month's
    // partition.
    for (day, deltas) in days {
        add_totals(
            store,
            ops,
            &keys::consultation_day_counts(&day),
            None,
            &deltas,
        )
        .await
        .map_err(super::totals::TotalsError::into_store_error)?;
    }
    Ok(())
}
