//! Payment requests (and their state on the thread summary) and payments; the consultation
//! a payment opens is planned with the consultations.

use super::effects::{ik, merge, no_index, s, Effect};
use super::threads::thread_index;
use crate::events::catalogue::{PaymentCompleted, PaymentRequestAnswered, PaymentRequestSent};
use crate::readmodels::{self as rm, keys, lists, sort_time};
use chrono::{DateTime, Utc};

/// `payment_request.sent`: the request, and its state on the thread summary.
pub(super) fn request_sent(e: &PaymentRequestSent, at: DateTime<Utc>) -> Vec<Effect> {
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

/// `payment_request.answered`: the answer (the newest wins), on the request and the summary.
pub(super) fn request_answered(e: &PaymentRequestAnswered, at: DateTime<Utc>) -> Vec<Effect> {
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

/// `payment.completed`: the payment, and the consultation it opens.
pub(super) fn completed(e: &PaymentCompleted, at: DateTime<Utc>) -> Vec<Effect> {
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
    effects.extend(super::consultations::opened(e, at));
    effects
}
