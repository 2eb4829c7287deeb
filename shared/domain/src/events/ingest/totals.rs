//! Running totals ([`rm::Totals`]) kept by difference: what each item contributes while it
//! exists (a rating, a voucher redemption, a call, a payment), moved in the event's own
//! transaction; and the platform's rating totals in one item ([`rm::RatingTotals`]).

use super::effects::{ik, to_json, Merged};
use crate::events::types::Media;
use crate::ports::{Condition, IndexKey, Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{self as rm, keys, lists};
use std::collections::BTreeMap;

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
pub(super) async fn move_rating_totals(
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

/// Why running totals could not be moved.
#[derive(Debug)]
pub(super) enum TotalsError {
    Store(StoreError),
    /// The move would take the named total past the range of its integer: the event is
    /// refused and nothing is written (amounts are bounded, so only totals that an earlier,
    /// unbounded version of ingest left near the end of the range can get here).
    OutOfRange(String),
}

impl From<StoreError> for TotalsError {
    fn from(e: StoreError) -> Self {
        TotalsError::Store(e)
    }
}

impl TotalsError {
    /// For totals that cannot come near the end of the range (counts): a failure like any other.
    pub(super) fn into_store_error(self) -> StoreError {
        match self {
            TotalsError::Store(e) => e,
            TotalsError::OutOfRange(total) => {
                StoreError::Invalid(format!("the total {total} is out of range"))
            }
        }
    }
}

/// `total` + `sign` × `amount`, or the total's name when it leaves the range.
fn moved(total: i64, sign: i64, amount: i64, name: &str) -> Result<i64, TotalsError> {
    amount
        .checked_mul(sign)
        .and_then(|d| total.checked_add(d))
        .ok_or_else(|| TotalsError::OutOfRange(name.to_string()))
}

/// Moves the running totals ([`contributions`]) by the difference between what every item
/// this transaction merged into contributed before and after: each total's item is read and
/// written back on a version condition (created when missing, with no index key but its own
/// kind's). Hands back the items written, as they were read, for [`super::names::copy_names`].
pub(super) async fn move_totals(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<BTreeMap<Key, Option<Item>>, TotalsError> {
    let mut moves: BTreeMap<Key, (Owner, BTreeMap<String, i64>)> = BTreeMap::new();
    for (key, m) in finals {
        let Some(new) = &m.new else { continue };
        for (sign, item) in [(-1, m.old.as_ref()), (1, Some(new))] {
            for c in contributions(key, item)? {
                let entry = moves
                    .entry(c.key)
                    .or_insert_with(|| (c.owner, BTreeMap::new()));
                let total = entry.1.entry(c.total.clone()).or_default();
                *total = moved(*total, sign, c.amount, &c.total)?;
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
pub(super) async fn add_totals(
    store: &dyn Store,
    ops: &mut Vec<TxOp>,
    key: &Key,
    owner: Option<(&'static str, String)>,
    deltas: &BTreeMap<String, i64>,
) -> Result<Option<Option<Item>>, TotalsError> {
    if deltas.values().all(|d| *d == 0) {
        return Ok(None);
    }
    let apply = |body: &mut serde_json::Value| -> Result<(), TotalsError> {
        if !body.is_object() {
            *body = serde_json::json!({});
        }
        let Some(obj) = body.as_object_mut() else {
            return Ok(());
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
                let n = moved(
                    t.get(name).and_then(|v| v.as_i64()).unwrap_or(0),
                    1,
                    *d,
                    name,
                )?;
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
        Ok(())
    };
    if let Some(TxOp::Put { item, .. }) = ops.iter_mut().find(|op| op.key() == *key) {
        apply(&mut item.body)?;
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
    apply(&mut item.body)?;
    ops.push(TxOp::put(item, condition));
    Ok(Some(stored))
}

/// The index key of a practitioner's totals item (calls or payments): in name order (the
/// copied name, folded, as the practitioners' list), once it counts a call or a payment.
pub(super) fn totals_index(key: &Key, body: &serde_json::Value) -> Option<IndexKey> {
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
