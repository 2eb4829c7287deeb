//! B9: pending referrals expire through the scheduled sweep (the delivery worker's schedule in
//! AWS, the local worker): each expiry is a transition like a party's step, one transaction on
//! the version read, so a decision and an expiry racing each other end with exactly one winner.

use super::flow::{back_off, settle_after_commit, transition_ops, MAX_ATTEMPTS};
use super::model::{keys, Referral, State, Transition};
use crate::auth::{Principal, Role};
use crate::ports::{Index, Query, SkRange, Store, StoreError};
use crate::readmodels::sort_time;
use chrono::{DateTime, Utc};

/// The subject that expiries are recorded as (`by` of the transition, actor of the audit
/// record).
pub const EXPIRY_ACTOR: &str = "system";

/// Most referrals one sweep expires (rounds of `batch` until none is due or this many).
pub const MAX_EXPIRED_PER_SWEEP: usize = 500;

/// B9: expires every pending referral whose time has come, reading the expiry index from its
/// start (`batch` entries a round, never past `now`), at most [`MAX_EXPIRED_PER_SWEEP`] per
/// call. Each expiry is one transaction on the version read, like a party's step: a decision
/// committed first wins (the referral is no longer pending and is left), an expiry committed
/// first makes the decision answer 409. Answers how many referrals it expired; one that fails
/// is logged and left for the next sweep.
pub async fn expire_due(
    store: &dyn Store,
    now: DateTime<Utc>,
    batch: usize,
) -> Result<usize, StoreError> {
    let due = Query::partition(Index::Gsi1, keys::EXPIRY)
        .range(SkRange::AtMost(format!("{}#~", sort_time(now))))
        .limit(batch.max(1));
    let mut expired = 0;
    let mut seen = 0;
    while seen < MAX_EXPIRED_PER_SWEEP {
        let page = store.query(&due).await?;
        let round = page.items.len();
        seen += round;
        let mut moved = 0;
        for entry in page.items {
            let Some(id) = entry.pk.strip_prefix("REFERRAL#") else {
                continue;
            };
            match expire_one(store, now, id).await {
                Ok(true) => {
                    expired += 1;
                    moved += 1;
                }
                Ok(false) => moved += 1,
                Err(e) => {
                    tracing::error!(referral_id = %id, error = %e, "referral expiry failed")
                }
            }
        }
        // A short round was the last due; a round that moved nothing would repeat itself.
        if round < batch.max(1) || moved == 0 {
            break;
        }
    }
    Ok(expired)
}

/// Expires one referral if it is still pending and due; answers whether this call did.
async fn expire_one(store: &dyn Store, now: DateTime<Utc>, id: &str) -> Result<bool, StoreError> {
    let actor = Principal {
        sub: EXPIRY_ACTOR.to_string(),
        role: Role::Service,
        orgs: vec![],
        clinics: vec![],
    };
    for attempt in 0..MAX_ATTEMPTS {
        let Some(item) = store.get(&keys::referral(id)).await? else {
            return Ok(false);
        };
        let version = item.version;
        let mut r: Referral = item.decode()?;
        if !r.state.is_pending() || r.expires_at.is_none_or(|at| at > now) {
            return Ok(false);
        }
        let transition = Transition {
            from: Some(r.state),
            to: State::Expired,
            by: actor.sub.clone(),
            by_role: actor.role,
            at: now,
            reason: None,
        };
        r.state = State::Expired;
        r.updated_at = now;
        r.transitions.push(transition.clone());
        let ops = transition_ops(&actor, &r, version, &transition, "referral.expired");
        match store.transact(ops).await {
            Ok(()) => {
                tracing::info!(
                    referral_id = %r.referral_id,
                    from = transition.from.map(State::as_str),
                    to = "expired",
                    "referral transition"
                );
                settle_after_commit(store, now, &r, version + 1).await;
                return Ok(true);
            }
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(StoreError::Conflict) => back_off(attempt).await,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
