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
//!
//! Layout: `driver` runs a batch and each event's transaction (idempotency, retries);
//! `effects` is the merge machinery every plan uses; one module per aggregate holds its
//! events' plans (`parties`, `threads`, `payments`, `consultations`, `calls`, `ratings`,
//! `vouchers`, `organisations`, `logins`, `segments`, `room_calls`), and the writes derived
//! from the merged items sit with what they keep: segment copies (`segments`), consultation
//! tags (`consultations`), statistics (`statistics`), running totals (`totals`), copied
//! names (`names`) and practitioners' search words (`words`). `plan` is only the dispatch by
//! event kind. Ingest depends on the read models and their rules ([`crate::readmodels`]),
//! never on the features that read them.

mod calls;
mod consultations;
mod driver;
mod effects;
mod logins;
mod names;
mod organisations;
mod parties;
mod payments;
mod ratings;
mod room_calls;
mod segments;
mod statistics;
mod threads;
mod totals;
mod vouchers;
mod words;

pub use driver::{ingest_batch, ingest_event, BatchReport, EventResult, EventStatus, MAX_BATCH};

use crate::events::catalogue::{Event, EventBody};
use effects::Effect;

/// The effects of one event: which read-model items it merges into and which counters it moves.
fn plan(event: &Event) -> Vec<Effect> {
    let at = event.occurred_at;
    match &event.body {
        EventBody::PractitionerUpserted(e) => parties::practitioner_upserted(e, at),
        EventBody::PractitionerAvailabilityChanged(e) => parties::availability_changed(e, at),
        EventBody::PatientUpserted(e) => parties::patient_upserted(e, at),
        EventBody::ThreadCreated(e) => threads::created(e, at),
        EventBody::MessageSent(e) => threads::message_sent(e, at),
        EventBody::ThreadOpened(e) => threads::opened(e, at),
        EventBody::PaymentRequestSent(e) => payments::request_sent(e, at),
        EventBody::PaymentRequestAnswered(e) => payments::request_answered(e, at),
        EventBody::PaymentCompleted(e) => payments::completed(e, at),
        EventBody::ConsultationCancelled(e) => consultations::cancelled(e, at),
        EventBody::ClinicalNoteSent(e) => threads::note_sent(e, at),
        EventBody::CallJoined(e) => calls::joined(e, at),
        EventBody::CallLeft(e) => calls::left(e, at),
        EventBody::RatingSubmitted(e) => ratings::submitted(e, at),
        EventBody::VoucherCreated(e) => vouchers::created(e, at),
        EventBody::VoucherRedeemed(e) => vouchers::redeemed(e, at),
        EventBody::OrganisationUpserted(e) => organisations::organisation(e, at),
        EventBody::ClinicUpserted(e) => organisations::clinic(e, at),
        EventBody::RoomUpserted(e) => organisations::room(e, at),
        EventBody::AccountUpserted(e) => organisations::account(e, at),
        EventBody::MembershipUpserted(e) => organisations::membership(e, at),
        EventBody::AccountLoggedIn(e) => logins::logged_in(e, &event.id, at),
        EventBody::QueuedCallEntered(e) => segments::queued_call_entered(e, at),
        EventBody::QueuedCallAbandoned(e) => segments::queued_call_abandoned(e, at),
        EventBody::SegmentStarted(e) => segments::segment_started(e, at),
        EventBody::SegmentTransferred(e) => segments::segment_transferred(e, at),
        EventBody::SegmentEnded(e) => segments::segment_ended(e, at),
        EventBody::ParticipantJoined(e) => segments::participant_joined(e, at),
        EventBody::ParticipantLeft(e) => segments::participant_left(e, at),
        EventBody::RoomCallJoined(e) => room_calls::joined(e, at),
        EventBody::RoomCallLeft(e) => room_calls::left(e, at),
    }
}
