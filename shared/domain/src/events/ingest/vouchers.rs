//! Vouchers and their redemptions, each distinct redemption one use of the code.

use super::effects::{counted, ik, merge, no_index, s, Effect};
use crate::events::catalogue::{VoucherCreated, VoucherRedeemed};
use crate::readmodels::{self as rm, keys, lists};
use chrono::{DateTime, Utc};

/// `voucher.created`: the code's limit and expiry (the newest wins).
pub(super) fn created(e: &VoucherCreated, at: DateTime<Utc>) -> Vec<Effect> {
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

/// `voucher.redeemed`: the redemption (the earliest report stands), one use of the code.
pub(super) fn redeemed(e: &VoucherRedeemed, at: DateTime<Utc>) -> Vec<Effect> {
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
