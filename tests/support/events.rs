//! Platform events as the platform sends them (`docs/events.md`), one builder a type (named
//! after the type, or after what an `*.upserted` profile describes). A builder takes what the
//! scenarios vary and answers the event's [`Payload`]: its type and data, the fields the
//! catalogue requires. [`Payload::with`] adds an optional field (a device, a
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

/// Builders whose data is their arguments, each under its own name, and the fields every
/// event of the type carries alike: `builder => "type" (field, ...) { "fixed": value, ... };`
/// makes `pub fn builder(field: &str, ...) -> Payload`.
macro_rules! plain_events {
    ($(
        $(#[$doc:meta])*
        $name:ident => $kind:literal ($($field:ident),+) $({ $($key:literal: $value:expr),+ })?;
    )+) => {
        $(
            $(#[$doc])*
            pub fn $name($($field: &str),+) -> Payload {
                let mut data = serde_json::Map::new();
                $(data.insert(stringify!($field).to_string(), Value::from($field));)+
                $($(data.insert($key.to_string(), Value::from($value));)+)?
                Payload::new($kind, Value::Object(data))
            }
        )+
    };
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

/// `thread.created` between these patients and practitioners.
pub fn thread_created(thread_id: &str, patient_ids: &[&str], practitioner_ids: &[&str]) -> Payload {
    Payload::new(
        "thread.created",
        json!({ "thread_id": thread_id, "patient_ids": patient_ids,
            "practitioner_ids": practitioner_ids }),
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

/// `rating.submitted`; the comment is optional (`.with("comment", ...)`).
pub fn rating(rating_id: &str, patient_id: &str, practitioner_id: &str, stars: u8) -> Payload {
    Payload::new(
        "rating.submitted",
        json!({ "rating_id": rating_id, "patient_id": patient_id,
            "practitioner_id": practitioner_id, "stars": stars }),
    )
}

plain_events! {
    /// A text message of a participant, its content only as ciphertext (base64); the sender's
    /// device is optional (`device`).
    text_message => "message.sent" (thread_id, message_id, sender_id, sender_role, ciphertext)
        { "kind": "text" };
    /// A system message of the platform, with its text.
    system_message => "message.sent" (thread_id, message_id, system_text)
        { "sender_id": "system", "sender_role": "system", "kind": "system" };
    /// A practitioner's availability (`available`, `away`, ...).
    availability_changed => "practitioner.availability_changed" (practitioner_id, availability);
    /// A patient's profile.
    patient => "patient.upserted" (patient_id, name);
    /// A reader opens a thread.
    thread_opened => "thread.opened" (thread_id, reader_id, reader_role);
    /// The patient's answer to a payment request.
    payment_request_answered => "payment_request.answered" (request_id, thread_id, answer);
    consultation_cancelled => "consultation.cancelled" (consultation_id, cancelled_by);
    /// A practitioner's clinical note in a thread.
    clinical_note => "clinical_note.sent" (thread_id, note_id, practitioner_id, note_type);
    /// A participant joins a thread's call with this media.
    call_joined => "call.joined"
        (call_id, participant_id, participant_role, thread_id, practitioner_id, media);
    call_left => "call.left" (call_id, participant_id, participant_role);
    /// A voucher; a usage limit and an expiry are optional (`usage_limit`, `expires_at`).
    voucher_created => "voucher.created" (code);
    /// A patient redeems a voucher; the payment it went to is optional (`payment_id`).
    voucher_redeemed => "voucher.redeemed" (code, redemption_id, patient_id);
}

// ---- organisations: clinics, rooms, accounts and their waiting-area calls ----

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

plain_events! {
    /// An organisation in general practice.
    organisation => "organisation.upserted" (org_id, name, state, contract, created_at)
        { "specialty": "General practice" };
    /// A clinic in general practice with an open waiting area at the subdomain of its id.
    clinic => "clinic.upserted" (clinic_id, org_id, name, state, contract, created_at)
        { "subdomain": clinic_id, "waiting_area_status": "open", "specialty": "General practice" };
    /// A room; an owner (of a user room) and a deletion are optional (`owner_account_id`,
    /// `deleted_at`).
    room => "room.upserted" (room_id, org_id, clinic_id, room_type, name, created_at);
    /// An account holder; a deactivation is optional (`deactivated_at`).
    account => "account.upserted"
        (account_id, org_id, email, name, platform_role, access_level, created_at);
    /// An account's role in a clinic.
    membership => "membership.upserted" (account_id, clinic_id, org_id, clinic_role, granted_at);
    logged_in => "account.logged_in" (account_id, org_id);
    /// A caller enters a clinic's waiting area.
    queued_call_entered => "queued_call.entered" (queued_call_id, session_id, org_id, clinic_id);
    /// The caller leaves the waiting area unanswered, in this segment.
    queued_call_abandoned => "queued_call.abandoned" (queued_call_id, session_id, segment_id);
    /// A segment of a session starts in a clinic.
    segment_started => "segment.started"
        (session_id, segment_id, queued_call_id, org_id, clinic_id);
    /// A segment moves to another clinic's segment.
    segment_transferred => "segment.transferred"
        (session_id, segment_id, to_clinic_id, to_segment_id);
    segment_ended => "segment.ended" (session_id, segment_id);
    /// A participant joins a call in a room; an account is optional (`account_id`).
    room_call_joined => "room_call.joined" (room_id, call_id, org_id, participant_id);
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
