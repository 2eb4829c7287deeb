//! Payment requests (and their state on the thread summary) and payments; the consultation
//! a payment opens is planned with the consultations.

use super::effects::{ik, merge, no_index, s, Effect};
use super::threads::thread_index;
use crate::events::catalogue::{PaymentCompleted, PaymentRequestAnswered, PaymentRequestSent};
use crate::events::types::{Id, RequestAnswer};
use crate::readmodels::{self as rm, keys, lists, sort_time};
use chrono::{DateTime, Utc};

/// `payment_request.sent`: the request, and its state on the thread summary.
pub(super) fn request_sent(e: &PaymentRequestSent, at: DateTime<Utc>) -> Vec<Effect> {
    let (practitioner_id, patient_id) = (s(&e.practitioner_id), s(&e.patient_id));
    let amount = e.amount.clone();
    request_and_summary(
        &e.thread_id,
        &e.request_id,
        move |r: &mut rm::PaymentRequest| {
            r.practitioner_id = Some(practitioner_id.clone());
            r.patient_id = Some(patient_id.clone());
            r.amount = Some(amount.clone());
            r.sent_at = Some(at);
        },
        move |state: &mut rm::RequestState| state.sent_at = Some(at),
    )
}

/// `payment_request.answered`: the answer (the newest wins), on the request and the summary.
pub(super) fn request_answered(e: &PaymentRequestAnswered, at: DateTime<Utc>) -> Vec<Effect> {
    let answer = e.answer;
    request_and_summary(
        &e.thread_id,
        &e.request_id,
        move |r: &mut rm::PaymentRequest| {
            newest_answer(&mut r.answer, &mut r.answered_at, answer, at)
        },
        move |state: &mut rm::RequestState| {
            newest_answer(&mut state.answer, &mut state.answered_at, answer, at)
        },
    )
}

/// The merges of a payment request event: into the request, and into the request's state on
/// its thread summary, each carrying the ids it is kept under.
fn request_and_summary(
    thread_id: &Id,
    request_id: &Id,
    on_request: impl Fn(&mut rm::PaymentRequest) + Send + Sync + 'static,
    on_summary: impl Fn(&mut rm::RequestState) + Send + Sync + 'static,
) -> Vec<Effect> {
    let (thread_id, request_id) = (s(thread_id), s(request_id));
    let request = {
        let (thread_id, request_id) = (thread_id.clone(), request_id.clone());
        merge(
            keys::payment_request(&thread_id, &request_id),
            move |r: &mut rm::PaymentRequest| {
                r.request_id.clone_from(&request_id);
                r.thread_id.clone_from(&thread_id);
                on_request(r);
            },
            no_index,
        )
    };
    let summary = merge(
        keys::thread(&thread_id),
        move |t: &mut rm::ThreadSummary| {
            t.thread_id.clone_from(&thread_id);
            on_summary(t.requests.entry(request_id.clone()).or_default());
        },
        thread_index,
    );
    vec![request, summary]
}

/// A request's answer: the newest wins (an answer as old as the one kept replaces it).
fn newest_answer(
    answer: &mut Option<RequestAnswer>,
    answered_at: &mut Option<DateTime<Utc>>,
    new: RequestAnswer,
    at: DateTime<Utc>,
) {
    if answered_at.is_none_or(|t| t <= at) {
        *answer = Some(new);
        *answered_at = Some(at);
    }
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
