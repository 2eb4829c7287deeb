//! Platform events as the platform sends them (`docs/events.md`), one builder a type. A builder
//! takes what the scenarios vary and answers the event's [`Payload`]: its type and data, the
//! fields the catalogue requires. [`Payload::with`] adds an optional field (a device, a
//! comment, a consultation id); [`Payload::event`] puts the payload in its envelope, with the
//! event's id and the instant it occurred.

use chrono::{DateTime, Utc};
use domain::readmodels::sort_time;
use serde_json::{json, Value};

/// The instant in an envelope's `occurred_at`, as the scenario writes it: a text taken as it
/// is, or a time written as the platform writes it (RFC 3339, milliseconds, `Z`).
pub struct OccurredAt(String);

impl From<&str> for OccurredAt {
    fn from(text: &str) -> Self {
        OccurredAt(text.to_string())
    }
}

impl From<String> for OccurredAt {
    fn from(text: String) -> Self {
        OccurredAt(text)
    }
}

impl From<DateTime<Utc>> for OccurredAt {
    fn from(at: DateTime<Utc>) -> Self {
        OccurredAt(sort_time(at))
    }
}

/// An event envelope: `id`, `type`, `occurred_at` and `data`.
pub fn event(id: &str, kind: &str, at: impl Into<OccurredAt>, data: Value) -> Value {
    json!({ "id": id, "type": kind, "occurred_at": at.into().0, "data": data })
}

/// What an event of one type carries: its type and its data.
pub struct Payload {
    kind: &'static str,
    data: Value,
}

impl Payload {
    fn new(kind: &'static str, data: Value) -> Payload {
        Payload { kind, data }
    }

    /// The same data with `field` set to `value`.
    pub fn with(mut self, field: &str, value: impl Into<Value>) -> Payload {
        self.data[field] = value.into();
        self
    }

    /// The event `id` that occurred `at`, carrying this payload.
    pub fn event(self, id: &str, at: impl Into<OccurredAt>) -> Value {
        event(id, self.kind, at, self.data)
    }
}

/// An amount in euros, in minor units.
pub fn eur(amount_minor: i64) -> Value {
    json!({ "amount_minor": amount_minor, "currency": "EUR" })
}

// ---- the marketplace: practitioners, patients, threads and what happens in them ----

/// `practitioner.upserted`: a profile with a consultation price in euros.
pub fn practitioner(
    practitioner_id: &str,
    name: &str,
    specialties: &[&str],
    approval: &str,
    price_minor: i64,
    has_scheduling_practice: bool,
) -> Payload {
    Payload::new(
        "practitioner.upserted",
        json!({ "practitioner_id": practitioner_id, "name": name, "specialties": specialties,
            "approval": approval, "price": eur(price_minor),
            "has_scheduling_practice": has_scheduling_practice }),
    )
}

/// `practitioner.availability_changed`.
pub fn availability_changed(practitioner_id: &str, availability: &str) -> Payload {
    Payload::new(
        "practitioner.availability_changed",
        json!({ "practitioner_id": practitioner_id, "availability": availability }),
    )
}

/// `patient.upserted`.
pub fn patient(patient_id: &str, name: &str) -> Payload {
    Payload::new(
        "patient.upserted",
        json!({ "patient_id": patient_id, "name": name }),
    )
}

/// `thread.created` between these patients and practitioners.
pub fn thread_created(thread_id: &str, patient_ids: &[&str], practitioner_ids: &[&str]) -> Payload {
    Payload::new(
        "thread.created",
        json!({ "thread_id": thread_id, "patient_ids": patient_ids,
            "practitioner_ids": practitioner_ids }),
    )
}

/// `thread.opened` by a reader.
pub fn thread_opened(thread_id: &str, reader_id: &str, reader_role: &str) -> Payload {
    Payload::new(
        "thread.opened",
        json!({ "thread_id": thread_id, "reader_id": reader_id, "reader_role": reader_role }),
    )
}

/// `message.sent` by a participant: a text message, its content only as ciphertext (base64).
/// The sender's device is optional (`.with("device", ...)`).
pub fn text_message(
    thread_id: &str,
    message_id: &str,
    sender_id: &str,
    sender_role: &str,
    ciphertext: &str,
) -> Payload {
    Payload::new(
        "message.sent",
        json!({ "thread_id": thread_id, "message_id": message_id, "sender_id": sender_id,
            "sender_role": sender_role, "kind": "text", "ciphertext": ciphertext }),
    )
}

/// `message.sent` by the platform itself: a system message with its text.
pub fn system_message(thread_id: &str, message_id: &str, system_text: &str) -> Payload {
    Payload::new(
        "message.sent",
        json!({ "thread_id": thread_id, "message_id": message_id, "sender_id": "system",
            "sender_role": "system", "kind": "system", "system_text": system_text }),
    )
}

/// `payment_request.sent` in a thread, for an amount in euros.
pub fn payment_request(
    request_id: &str,
    thread_id: &str,
    practitioner_id: &str,
    patient_id: &str,
    amount_minor: i64,
) -> Payload {
    Payload::new(
        "payment_request.sent",
        json!({ "request_id": request_id, "thread_id": thread_id,
            "practitioner_id": practitioner_id, "patient_id": patient_id,
            "amount": eur(amount_minor) }),
    )
}

/// `payment_request.answered`.
pub fn payment_request_answered(request_id: &str, thread_id: &str, answer: &str) -> Payload {
    Payload::new(
        "payment_request.answered",
        json!({ "request_id": request_id, "thread_id": thread_id, "answer": answer }),
    )
}

/// `payment.completed`: a payment in euros and the platform's commission. The consultation it
/// opens or concerns and the request it answers are optional (`consultation_id`,
/// `request_id`).
pub fn payment(
    payment_id: &str,
    payment_type: &str,
    thread_id: &str,
    patient_id: &str,
    practitioner_id: &str,
    total_minor: i64,
    commission_minor: i64,
) -> Payload {
    Payload::new(
        "payment.completed",
        json!({ "payment_id": payment_id, "payment_type": payment_type, "thread_id": thread_id,
            "patient_id": patient_id, "practitioner_id": practitioner_id,
            "total": eur(total_minor), "commission_minor": commission_minor }),
    )
}

/// `consultation.cancelled`.
pub fn consultation_cancelled(consultation_id: &str, cancelled_by: &str) -> Payload {
    Payload::new(
        "consultation.cancelled",
        json!({ "consultation_id": consultation_id, "cancelled_by": cancelled_by }),
    )
}

/// `clinical_note.sent` in a thread.
pub fn clinical_note(
    thread_id: &str,
    note_id: &str,
    practitioner_id: &str,
    note_type: &str,
) -> Payload {
    Payload::new(
        "clinical_note.sent",
        json!({ "thread_id": thread_id, "note_id": note_id, "practitioner_id": practitioner_id,
            "note_type": note_type }),
    )
}

/// `call.joined`: a participant joins a thread's call with this media.
pub fn call_joined(
    call_id: &str,
    participant_id: &str,
    participant_role: &str,
    thread_id: &str,
    practitioner_id: &str,
    media: &str,
) -> Payload {
    Payload::new(
        "call.joined",
        json!({ "call_id": call_id, "participant_id": participant_id,
            "participant_role": participant_role, "thread_id": thread_id,
            "practitioner_id": practitioner_id, "media": media }),
    )
}

/// `call.left`.
pub fn call_left(call_id: &str, participant_id: &str, participant_role: &str) -> Payload {
    Payload::new(
        "call.left",
        json!({ "call_id": call_id, "participant_id": participant_id,
            "participant_role": participant_role }),
    )
}

/// `rating.submitted`; the comment is optional (`.with("comment", ...)`).
pub fn rating(rating_id: &str, patient_id: &str, practitioner_id: &str, stars: u8) -> Payload {
    Payload::new(
        "rating.submitted",
        json!({ "rating_id": rating_id, "patient_id": patient_id,
            "practitioner_id": practitioner_id, "stars": stars }),
    )
}

/// `voucher.created`; a usage limit and an expiry are optional.
pub fn voucher_created(code: &str) -> Payload {
    Payload::new("voucher.created", json!({ "code": code }))
}

/// `voucher.redeemed` by a patient; the payment it went to is optional (`payment_id`).
pub fn voucher_redeemed(code: &str, redemption_id: &str, patient_id: &str) -> Payload {
    Payload::new(
        "voucher.redeemed",
        json!({ "code": code, "redemption_id": redemption_id, "patient_id": patient_id }),
    )
}

// ---- organisations: clinics, rooms, accounts and their waiting-area calls ----

/// `organisation.upserted` (specialty: general practice).
pub fn organisation(
    org_id: &str,
    name: &str,
    state: &str,
    contract: &str,
    created_at: &str,
) -> Payload {
    Payload::new(
        "organisation.upserted",
        json!({ "org_id": org_id, "name": name, "state": state,
            "specialty": "General practice", "contract": contract, "created_at": created_at }),
    )
}

/// `clinic.upserted`: an open waiting area at the subdomain of the clinic's id (specialty:
/// general practice).
pub fn clinic(
    clinic_id: &str,
    org_id: &str,
    name: &str,
    state: &str,
    contract: &str,
    created_at: &str,
) -> Payload {
    Payload::new(
        "clinic.upserted",
        json!({ "clinic_id": clinic_id, "org_id": org_id, "name": name,
            "subdomain": clinic_id, "waiting_area_status": "open", "state": state,
            "specialty": "General practice", "contract": contract, "created_at": created_at }),
    )
}

/// `room.upserted`; an owner (of a user room) and a deletion are optional
/// (`owner_account_id`, `deleted_at`).
pub fn room(
    room_id: &str,
    org_id: &str,
    clinic_id: &str,
    room_type: &str,
    name: &str,
    created_at: &str,
) -> Payload {
    Payload::new(
        "room.upserted",
        json!({ "room_id": room_id, "org_id": org_id, "clinic_id": clinic_id,
            "room_type": room_type, "name": name, "created_at": created_at }),
    )
}

/// `account.upserted`; a deactivation is optional (`deactivated_at`).
pub fn account(
    account_id: &str,
    org_id: &str,
    email: &str,
    name: &str,
    platform_role: &str,
    access_level: &str,
    created_at: &str,
) -> Payload {
    Payload::new(
        "account.upserted",
        json!({ "account_id": account_id, "org_id": org_id, "email": email, "name": name,
            "platform_role": platform_role, "access_level": access_level,
            "created_at": created_at }),
    )
}

/// `membership.upserted`: an account's role in a clinic.
pub fn membership(
    account_id: &str,
    clinic_id: &str,
    org_id: &str,
    clinic_role: &str,
    granted_at: &str,
) -> Payload {
    Payload::new(
        "membership.upserted",
        json!({ "account_id": account_id, "clinic_id": clinic_id, "org_id": org_id,
            "clinic_role": clinic_role, "granted_at": granted_at }),
    )
}

/// `account.logged_in`.
pub fn logged_in(account_id: &str, org_id: &str) -> Payload {
    Payload::new(
        "account.logged_in",
        json!({ "account_id": account_id, "org_id": org_id }),
    )
}

/// `queued_call.entered`: a caller enters a clinic's waiting area.
pub fn queued_call_entered(
    queued_call_id: &str,
    session_id: &str,
    org_id: &str,
    clinic_id: &str,
) -> Payload {
    Payload::new(
        "queued_call.entered",
        json!({ "queued_call_id": queued_call_id, "session_id": session_id, "org_id": org_id,
            "clinic_id": clinic_id }),
    )
}

/// `queued_call.abandoned` in a segment.
pub fn queued_call_abandoned(queued_call_id: &str, session_id: &str, segment_id: &str) -> Payload {
    Payload::new(
        "queued_call.abandoned",
        json!({ "queued_call_id": queued_call_id, "session_id": session_id,
            "segment_id": segment_id }),
    )
}

/// `segment.started` in a clinic.
pub fn segment_started(
    session_id: &str,
    segment_id: &str,
    queued_call_id: &str,
    org_id: &str,
    clinic_id: &str,
) -> Payload {
    Payload::new(
        "segment.started",
        json!({ "session_id": session_id, "segment_id": segment_id,
            "queued_call_id": queued_call_id, "org_id": org_id, "clinic_id": clinic_id }),
    )
}

/// `segment.transferred` to another clinic's segment.
pub fn segment_transferred(
    session_id: &str,
    segment_id: &str,
    to_clinic_id: &str,
    to_segment_id: &str,
) -> Payload {
    Payload::new(
        "segment.transferred",
        json!({ "session_id": session_id, "segment_id": segment_id,
            "to_clinic_id": to_clinic_id, "to_segment_id": to_segment_id }),
    )
}

/// `segment.ended`.
pub fn segment_ended(session_id: &str, segment_id: &str) -> Payload {
    Payload::new(
        "segment.ended",
        json!({ "session_id": session_id, "segment_id": segment_id }),
    )
}

/// `participant.joined` a segment: a host when it names its account, else the caller.
pub fn participant_joined(
    session_id: &str,
    segment_id: &str,
    participant_id: &str,
    account_id: Option<&str>,
) -> Payload {
    let kind = if account_id.is_some() {
        "host"
    } else {
        "caller"
    };
    let mut data = json!({ "session_id": session_id, "segment_id": segment_id,
        "participant_id": participant_id, "participant_type": kind });
    if let Some(account) = account_id {
        data["account_id"] = json!(account);
    }
    Payload::new("participant.joined", data)
}

/// `participant.left` a segment, with the bandwidth of the connection.
pub fn participant_left(
    session_id: &str,
    segment_id: &str,
    participant_id: &str,
    bandwidth: Value,
) -> Payload {
    Payload::new(
        "participant.left",
        json!({ "session_id": session_id, "segment_id": segment_id,
            "participant_id": participant_id, "bandwidth": bandwidth }),
    )
}

/// A connection's bandwidth: `send_kbps_avg` as given, the rest of an ordinary call.
pub fn bandwidth(send_kbps_avg: u32) -> Value {
    json!({ "send_kbps_avg": send_kbps_avg, "receive_kbps_avg": 900, "send_kbps_max": 2000,
        "receive_kbps_max": 1900, "packet_loss_permille": 4, "round_trip_ms_avg": 40 })
}

/// `room_call.joined`: a participant joins a call in a room; an account is optional
/// (`account_id`).
pub fn room_call_joined(
    room_id: &str,
    call_id: &str,
    org_id: &str,
    participant_id: &str,
) -> Payload {
    Payload::new(
        "room_call.joined",
        json!({ "room_id": room_id, "call_id": call_id, "org_id": org_id,
            "participant_id": participant_id }),
    )
}

/// `room_call.left`, with the bandwidth of the connection.
pub fn room_call_left(
    room_id: &str,
    call_id: &str,
    participant_id: &str,
    bandwidth: Value,
) -> Payload {
    Payload::new(
        "room_call.left",
        json!({ "room_id": room_id, "call_id": call_id, "participant_id": participant_id,
            "bandwidth": bandwidth }),
    )
}

// ---- a world ----

/// Two organisations with a clinic each (`org-1`/`clinic-1`, `org-2`/`clinic-2`) and an admin
/// account of `org-2`, three approved practitioners, two patients and a thread between
/// `prac-a` and `pat-a`, on 10 November 2026.
pub fn two_organisations() -> Value {
    let at = "2026-11-10T09:00:00Z";
    let an_org = |id: &str, name: &str| {
        organisation(
            id,
            name,
            "Victoria",
            "Enterprise 2025",
            "2024-01-01T00:00:00Z",
        )
        .event(&format!("w-{id}"), at)
    };
    let a_clinic = |id: &str, org_id: &str| {
        clinic(
            id,
            org_id,
            &format!("Clinic {id}"),
            "Victoria",
            "Enterprise 2025",
            "2024-01-01T00:00:00Z",
        )
        .event(&format!("w-{id}"), at)
    };
    let a_practitioner = |id: &str, name: &str| {
        practitioner(id, name, &["Cardiology"], "approved", 5000, false)
            .event(&format!("w-{id}"), at)
    };
    json!([
        an_org("org-1", "Org One"),
        an_org("org-2", "Org Two"),
        account(
            "acc-9",
            "org-2",
            "acc9@org-two.example",
            "Org Two Admin",
            "standard",
            "full",
            "2024-03-18T00:00:00Z",
        )
        .event("w-acc-9", at),
        a_clinic("clinic-1", "org-1"),
        a_clinic("clinic-2", "org-2"),
        a_practitioner("prac-a", "Dr. Ann Able"),
        a_practitioner("prac-b", "Dr. Ben Baker"),
        a_practitioner("prac-c", "Dr. Cy Cole"),
        patient("pat-a", "Pat Alpha").event("w-pat-a", at),
        patient("pat-b", "Pat Beta").event("w-pat-b", at),
        thread_created("thr-a", &["pat-a"], &["prac-a"]).event("w-thr-a", at),
    ])
}
