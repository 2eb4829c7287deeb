//! Delivery of a referral step's threads and messages, at least once (SPEC Q6).
//!
//! A step that changes a referral writes, in the same transaction, a delivery marker beside
//! the referral (`REFERRAL#<id>` / `DELIVERY`, its version the referral's). Whoever settles
//! the marker lands the referral's events ([`super::threads::deliver`], idempotent by their
//! derived ids) and then deletes the marker on that version, so a later step's marker is never
//! taken for an earlier one:
//!
//! - the request that made the step, right after the commit (the common case);
//! - a retried request of the same step;
//! - in AWS, the `referral-delivery` function, on the marker's stream record and on a schedule
//!   for any marker left behind; locally, the local server's worker, at start and every
//!   second.
//!
//! A crash after the commit at any point therefore ends with the events landed once: a marker
//! still there is settled again, and landing an event twice is a duplicate.

use super::model::{keys, Referral};
use super::threads::deliver;
use crate::ports::{Condition, Index, Item, Key, Query, Store, StoreError, TxOp};
use crate::readmodels::sort_time;
use chrono::{DateTime, Utc};

/// The index partition listing the referrals whose events are not yet known to be landed
/// (GSI1, sorted by the step's time).
pub const PENDING: &str = "OUTBOX#referral-delivery";

/// The delivery marker of a referral.
pub fn marker_key(referral_id: &str) -> Key {
    Key::new(keys::referral(referral_id).pk, "DELIVERY")
}

/// The marker a step writes in its own transaction, for the referral as written at `version`.
pub fn marker_op(r: &Referral, version: u64) -> TxOp {
    let key = marker_key(&r.referral_id);
    let item = Item::new(
        key.pk,
        key.sk,
        serde_json::json!({ "referral_id": r.referral_id }),
    )
    .with_version(version)
    .with_gsi1(
        PENDING,
        format!("{}#{}", sort_time(r.updated_at), r.referral_id),
    );
    TxOp::put(item, Condition::None)
}

/// Lands the events of the referral as written at `version` and clears its marker if it is
/// still that version's. Called right after a step commits.
pub async fn settle(
    store: &dyn Store,
    now: DateTime<Utc>,
    r: &Referral,
    version: u64,
) -> Result<(), StoreError> {
    deliver(store, now, r).await?;
    match store
        .delete(&marker_key(&r.referral_id), Condition::VersionIs(version))
        .await
    {
        // A later step wrote its own marker (or another runner cleared this one).
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Settles one referral's marker, if it has one: reads the referral as it is now (its events
/// are a function of the stored referral), lands them and clears the marker. Answers whether
/// there was a marker.
pub async fn settle_pending(
    store: &dyn Store,
    now: DateTime<Utc>,
    referral_id: &str,
) -> Result<bool, StoreError> {
    let Some(marker) = store.get(&marker_key(referral_id)).await? else {
        return Ok(false);
    };
    match store.get(&keys::referral(referral_id)).await? {
        Some(item) => deliver(store, now, &item.decode()?).await?,
        // A marker is only written with its referral: nothing to deliver.
        None => tracing::error!(referral_id, "delivery marker without its referral"),
    }
    match store
        .delete(&marker.key(), Condition::VersionIs(marker.version))
        .await
    {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

/// The referrals with a marker, oldest step first, at most `limit`.
pub async fn pending(store: &dyn Store, limit: usize) -> Result<Vec<String>, StoreError> {
    let q = Query::partition(Index::Gsi1, PENDING).limit(limit);
    Ok(store
        .query(&q)
        .await?
        .items
        .into_iter()
        .filter_map(|i| {
            i.body
                .get("referral_id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect())
}

/// Settles every marker there is, in rounds of `batch`; answers how many were settled. A
/// referral that fails is logged and left for the next sweep.
pub async fn settle_all(
    store: &dyn Store,
    now: DateTime<Utc>,
    batch: usize,
) -> Result<usize, StoreError> {
    let mut settled = 0;
    loop {
        let ids = pending(store, batch).await?;
        let round = ids.len();
        let mut failed = 0;
        for id in ids {
            match settle_pending(store, now, &id).await {
                Ok(_) => settled += 1,
                Err(e) => {
                    failed += 1;
                    tracing::error!(referral_id = %id, error = %e, "referral delivery failed");
                }
            }
        }
        if round < batch || failed == round {
            return Ok(settled);
        }
    }
}

/// What one scheduled sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Swept {
    /// Pending referrals expired (B9).
    pub expired: usize,
    /// Delivery markers settled.
    pub settled: usize,
}

/// The scheduled sweep (the `referral-delivery` function's schedule in AWS, the local server's
/// worker): expires the referrals that are due ([`super::flow::expire_due`]), then settles
/// every marker left behind, both in rounds of `batch`.
pub async fn sweep(
    store: &dyn Store,
    now: DateTime<Utc>,
    batch: usize,
) -> Result<Swept, StoreError> {
    let expired = super::flow::expire_due(store, now, batch).await?;
    let settled = settle_all(store, now, batch).await?;
    Ok(Swept { expired, settled })
}
