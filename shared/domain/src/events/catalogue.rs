//! The event catalogue: every platform event the backend takes in, its payload, and the one
//! parser that validates an envelope into a typed [`Event`]. `docs/events.md` shows one JSON
//! example per type; a test holds that document to this parser.

use super::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A validated event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: Id,
    pub occurred_at: DateTime<Utc>,
    pub body: EventBody,
}

/// Why an event was refused: the field at fault (a JSON path such as `data.total.currency`) and
/// the reason. Never echoes the field's value, which may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub field: String,
    pub reason: String,
}

impl Rejection {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

macro_rules! catalogue {
    ($( $name:literal => $variant:ident($payload:ident) ),* $(,)?) => {
        /// Every event type with its payload.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(tag = "type", content = "data")]
        pub enum EventBody {
            $( #[serde(rename = $name)] $variant($payload), )*
        }

        /// Every event type name, in catalogue order.
        pub const EVENT_TYPES: &[&str] = &[$($name),*];

        impl EventBody {
            pub fn type_name(&self) -> &'static str {
                match self { $( EventBody::$variant(_) => $name, )* }
            }

            fn parse(kind: &str, data: serde_json::Value) -> Result<EventBody, Rejection> {
                match kind {
                    $( $name => decode::<$payload>(data).map(EventBody::$variant), )*
                    _ => Err(Rejection::new("type", "unknown event type")),
                }
            }
        }
    };
}

catalogue! {
    "practitioner.upserted" => PractitionerUpserted(PractitionerUpserted),
    "practitioner.availability_changed" => PractitionerAvailabilityChanged(PractitionerAvailabilityChanged),
    "patient.upserted" => PatientUpserted(PatientUpserted),
    "thread.created" => ThreadCreated(ThreadCreated),
    "message.sent" => MessageSent(MessageSent),
    "thread.opened" => ThreadOpened(ThreadOpened),
    "payment_request.sent" => PaymentRequestSent(PaymentRequestSent),
    "payment_request.answered" => PaymentRequestAnswered(PaymentRequestAnswered),
    "payment.completed" => PaymentCompleted(PaymentCompleted),
    "consultation.cancelled" => ConsultationCancelled(ConsultationCancelled),
    "clinical_note.sent" => ClinicalNoteSent(ClinicalNoteSent),
    "call.joined" => CallJoined(CallJoined),
    "call.left" => CallLeft(CallLeft),
    "rating.submitted" => RatingSubmitted(RatingSubmitted),
    "voucher.created" => VoucherCreated(VoucherCreated),
    "voucher.redeemed" => VoucherRedeemed(VoucherRedeemed),
    "organisation.upserted" => OrganisationUpserted(OrganisationUpserted),
    "clinic.upserted" => ClinicUpserted(ClinicUpserted),
    "room.upserted" => RoomUpserted(RoomUpserted),
    "account.upserted" => AccountUpserted(AccountUpserted),
    "membership.upserted" => MembershipUpserted(MembershipUpserted),
    "account.logged_in" => AccountLoggedIn(AccountLoggedIn),
    "queued_call.entered" => QueuedCallEntered(QueuedCallEntered),
    "queued_call.abandoned" => QueuedCallAbandoned(QueuedCallAbandoned),
    "segment.started" => SegmentStarted(SegmentStarted),
    "segment.transferred" => SegmentTransferred(SegmentTransferred),
    "segment.ended" => SegmentEnded(SegmentEnded),
    "participant.joined" => ParticipantJoined(ParticipantJoined),
    "participant.left" => ParticipantLeft(ParticipantLeft),
    "room_call.joined" => RoomCallJoined(RoomCallJoined),
    "room_call.left" => RoomCallLeft(RoomCallLeft),
}

fn decode<T: serde::de::DeserializeOwned + Validate>(
    data: serde_json::Value,
) -> Result<T, Rejection> {
    let value: T = serde_path_to_error::deserialize(data).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let mut field = String::from("data");
        if path != "." && !path.is_empty() {
            field.push('.');
            field.push_str(&path);
        }
        // serde names a missing or unknown field in its message rather than in the path.
        if inner.starts_with("missing field") || inner.starts_with("unknown field") {
            if let Some(name) = inner.split('`').nth(1) {
                if !field.ends_with(&format!(".{name}")) {
                    field.push('.');
                    field.push_str(name);
                }
            }
        }
        let reason = crate::http::safe_serde_reason(&inner);
        Rejection::new(field, reason)
    })?;
    value
        .validate()
        .map_err(|(field, reason)| Rejection::new(format!("data.{field}"), reason))?;
    Ok(value)
}

/// Rules serde alone cannot state (relations between fields, ranges).
trait Validate {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// Parses and validates one envelope: a JSON object with `id`, `type`, `occurred_at` and
/// `data` (other members are ignored). On refusal, gives back the event id too when it is a
/// valid one (so the caller can match the answer up), never an invalid one (which is a value
/// like any other).
pub fn parse_event(raw: &serde_json::Value) -> Result<Event, (Option<String>, Rejection)> {
    let Some(env) = raw.as_object() else {
        return Err((
            None,
            Rejection::new(
                "event",
                "must be a JSON object with id, type, occurred_at and data",
            ),
        ));
    };
    let member = |name: &'static str| {
        env.get(name)
            .ok_or_else(|| Rejection::new(name, "is required"))
    };
    let id = member("id")
        .and_then(|v| {
            v.as_str()
                .ok_or_else(|| Rejection::new("id", "must be a string"))
        })
        .and_then(|s| Id::parse(s).map_err(|r| Rejection::new("id", r)))
        .map_err(|r| (None, r))?;
    let fail = |r: Rejection| (Some(id.to_string()), r);
    let kind = member("type")
        .and_then(|v| {
            v.as_str()
                .ok_or_else(|| Rejection::new("type", "must be a string"))
        })
        .map_err(fail)?;
    let occurred_at = member("occurred_at")
        .and_then(|v| {
            v.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| {
                    Rejection::new("occurred_at", "must be an RFC 3339 time with offset")
                })
        })
        .map_err(fail)?;
    let data = member("data").map_err(fail)?;
    if !data.is_object() {
        return Err(fail(Rejection::new("data", "must be an object")));
    }
    let body = EventBody::parse(kind, data.clone()).map_err(fail)?;
    Ok(Event {
        id,
        occurred_at,
        body,
    })
}

// ---- Marketplace: practitioners, patients, threads, payments (SPEC §3, §4) ----

/// A practitioner's profile as the platform holds it now (a snapshot: the newest wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PractitionerUpserted {
    pub practitioner_id: Id,
    pub name: Name,
    pub specialties: Vec<Text<100>>,
    pub approval: Approval,
    pub price: Money,
    /// Whether the practitioner has a practice in the scheduling portal (booking prompts, B6).
    pub has_scheduling_practice: bool,
}
impl Validate for PractitionerUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.price.amount_minor < 0 {
            return Err(("price.amount_minor", "must not be negative".into()));
        }
        if self.specialties.len() > 20 {
            return Err(("specialties", "at most 20".into()));
        }
        Ok(())
    }
}

/// The availability the practitioner set in the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PractitionerAvailabilityChanged {
    pub practitioner_id: Id,
    pub availability: Availability,
}
impl Validate for PractitionerAvailabilityChanged {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientUpserted {
    pub patient_id: Id,
    pub name: Name,
}
impl Validate for PatientUpserted {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadCreated {
    pub thread_id: Id,
    pub patient_ids: Vec<Id>,
    pub practitioner_ids: Vec<Id>,
}
impl Validate for ThreadCreated {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.patient_ids.len() + self.practitioner_ids.len() < 2 {
            return Err((
                "practitioner_ids",
                "a thread needs at least two participants".into(),
            ));
        }
        if self.practitioner_ids.is_empty() {
            return Err(("practitioner_ids", "a thread needs a practitioner".into()));
        }
        if self.patient_ids.len() + self.practitioner_ids.len() > 50 {
            return Err(("patient_ids", "at most 50 participants".into()));
        }
        Ok(())
    }
}

/// A message in a thread. Patient and practitioner messages carry only opaque ciphertext
/// (end-to-end encrypted); system messages carry their text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSent {
    pub thread_id: Id,
    pub message_id: Id,
    pub sender_id: Id,
    pub sender_role: PartyRole,
    pub kind: MessageKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// Base64 ciphertext of a patient or practitioner message; never shown to admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
    /// Text of a system or default message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_text: Option<Text<2000>>,
}
impl Validate for MessageSent {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let system = self.sender_role == PartyRole::System;
        if system != (self.kind == MessageKind::System) {
            return Err((
                "kind",
                "is `system` exactly when sender_role is `system`".into(),
            ));
        }
        if system {
            if self.system_text.is_none() {
                return Err(("system_text", "required for a system message".into()));
            }
            if self.ciphertext.is_some() {
                return Err(("ciphertext", "a system message has no ciphertext".into()));
            }
        } else {
            if self.system_text.is_some() {
                return Err(("system_text", "only system messages carry text".into()));
            }
            match &self.ciphertext {
                None => return Err(("ciphertext", "required for a participant's message".into())),
                Some(c) if c.is_empty() || c.len() > 65_536 => {
                    return Err(("ciphertext", "must be 1 to 65536 characters".into()))
                }
                Some(c)
                    if !c
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(&b)) =>
                {
                    return Err(("ciphertext", "must be base64".into()))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// A participant opened the thread (saw its messages). May arrive before the messages it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadOpened {
    pub thread_id: Id,
    pub reader_id: Id,
    pub reader_role: PartyRole,
}
impl Validate for ThreadOpened {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.reader_role == PartyRole::System {
            return Err(("reader_role", "must be patient or practitioner".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequestSent {
    pub request_id: Id,
    pub thread_id: Id,
    pub practitioner_id: Id,
    pub patient_id: Id,
    pub amount: Money,
}
impl Validate for PaymentRequestSent {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.amount.amount_minor <= 0 {
            return Err(("amount.amount_minor", "must be positive".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequestAnswered {
    pub request_id: Id,
    pub thread_id: Id,
    pub answer: RequestAnswer,
}
impl Validate for PaymentRequestAnswered {}

/// A completed payment item. Booked appointments, accepted thread requests and voucher payments
/// open a consultation (`consultation_id` required); refunds (negative) and fees are items of
/// their own that may point at the consultation they concern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentCompleted {
    pub payment_id: Id,
    pub payment_type: PaymentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultation_id: Option<Id>,
    pub thread_id: Id,
    pub patient_id: Id,
    pub practitioner_id: Id,
    /// What the patient paid (negative for a refund).
    pub total: Money,
    /// The platform's commission in the same currency; the specialist receives total - commission.
    pub commission_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_code: Option<Id>,
}
impl Validate for PaymentCompleted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let t = self.total.amount_minor;
        match self.payment_type {
            PaymentType::Refund if t >= 0 => {
                return Err(("total.amount_minor", "a refund is negative".into()))
            }
            PaymentType::Refund => {}
            _ if t < 0 => return Err(("total.amount_minor", "only a refund is negative".into())),
            _ => {}
        }
        if self.commission_minor.signum() * t.signum() < 0 || self.commission_minor.abs() > t.abs()
        {
            return Err((
                "commission_minor",
                "must have the total's sign and not exceed it".into(),
            ));
        }
        if self.payment_type.opens_consultation() && self.consultation_id.is_none() {
            return Err((
                "consultation_id",
                "required for a payment that opens a consultation".into(),
            ));
        }
        if self.payment_type == PaymentType::ThreadRequest && self.request_id.is_none() {
            return Err((
                "request_id",
                "required for an in-thread request payment".into(),
            ));
        }
        if self.payment_type == PaymentType::Voucher && self.voucher_code.is_none() {
            return Err(("voucher_code", "required for a voucher payment".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultationCancelled {
    pub consultation_id: Id,
    pub cancelled_by: PartyRole,
}
impl Validate for ConsultationCancelled {}

/// A diagnosis, medical advice, prescription or in-person recommendation sent in a thread.
/// Its content is not carried: only that it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicalNoteSent {
    pub thread_id: Id,
    pub note_id: Id,
    pub practitioner_id: Id,
    pub note_type: NoteType,
}
impl Validate for ClinicalNoteSent {}

/// A side joined an audio or video call of a thread. Only practitioners start calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallJoined {
    pub call_id: Id,
    pub thread_id: Id,
    pub practitioner_id: Id,
    pub participant_id: Id,
    pub participant_role: CallRole,
    pub media: Media,
}
impl Validate for CallJoined {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallLeft {
    pub call_id: Id,
    pub participant_id: Id,
    pub participant_role: CallRole,
}
impl Validate for CallLeft {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingSubmitted {
    pub rating_id: Id,
    pub patient_id: Id,
    pub practitioner_id: Id,
    pub stars: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text<2000>>,
}
impl Validate for RatingSubmitted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=5).contains(&self.stars) {
            return Err(("stars", "must be 1 to 5".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherCreated {
    pub code: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}
impl Validate for VoucherCreated {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.usage_limit == Some(0) {
            return Err(("usage_limit", "must be at least 1 when set".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherRedeemed {
    pub code: Id,
    pub redemption_id: Id,
    pub patient_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Id>,
}
impl Validate for VoucherRedeemed {}

// ---- Organisations, clinics, rooms, accounts, waiting-area calls (SPEC §5) ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationUpserted {
    pub org_id: Id,
    pub name: Name,
    pub state: Text<100>,
    pub specialty: Text<100>,
    pub contract: Text<100>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}
impl Validate for OrganisationUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        check_deleted(self.created_at, self.deleted_at)
    }
}

fn check_deleted(
    created: DateTime<Utc>,
    deleted: Option<DateTime<Utc>>,
) -> Result<(), (&'static str, String)> {
    match deleted {
        Some(d) if d < created => Err(("deleted_at", "must not be before created_at".into())),
        _ => Ok(()),
    }
}

/// A clinic, which is also its waiting area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicUpserted {
    pub clinic_id: Id,
    pub org_id: Id,
    pub name: Name,
    pub subdomain: Id,
    pub waiting_area_status: WaitingAreaStatus,
    pub state: Text<100>,
    pub specialty: Text<100>,
    pub contract: Text<100>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}
impl Validate for ClinicUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        check_deleted(self.created_at, self.deleted_at)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomUpserted {
    pub room_id: Id,
    pub org_id: Id,
    pub clinic_id: Id,
    pub room_type: RoomType,
    pub name: Name,
    /// The one user a user room belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_account_id: Option<Id>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}
impl Validate for RoomUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if (self.room_type == RoomType::User) != self.owner_account_id.is_some() {
            return Err(("owner_account_id", "set exactly for user rooms".into()));
        }
        check_deleted(self.created_at, self.deleted_at)
    }
}

/// A video-call account holder (service provider or staff). Patients have no account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountUpserted {
    pub account_id: Id,
    pub org_id: Id,
    pub email: Text<254>,
    pub name: Name,
    /// The account's platform role (e.g. `org_admin`, `standard`).
    pub platform_role: Id,
    /// The account's access level (e.g. `full`, `limited`).
    pub access_level: Id,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
}
impl Validate for AccountUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let e = self.email.as_str();
        let ok = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            && !e.contains(char::is_whitespace);
        if !ok {
            return Err(("email", "must be an email address".into()));
        }
        match self.deactivated_at {
            Some(d) if d < self.created_at => {
                Err(("deactivated_at", "must not be before created_at".into()))
            }
            _ => Ok(()),
        }
    }
}

/// An account's membership of a clinic and its role there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipUpserted {
    pub account_id: Id,
    pub clinic_id: Id,
    pub org_id: Id,
    pub clinic_role: ClinicRole,
    pub granted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}
impl Validate for MembershipUpserted {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLoggedIn {
    pub account_id: Id,
    pub org_id: Id,
}
impl Validate for AccountLoggedIn {}

/// A caller entered a clinic's waiting area: a queued call, and the session that will cover the
/// whole call through transfers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedCallEntered {
    pub queued_call_id: Id,
    pub session_id: Id,
    pub org_id: Id,
    pub clinic_id: Id,
}
impl Validate for QueuedCallEntered {}

/// The caller left before any host joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedCallAbandoned {
    pub queued_call_id: Id,
    pub session_id: Id,
    pub segment_id: Id,
}
impl Validate for QueuedCallAbandoned {}

/// A segment of a session began in a clinic (the first one on entry, one more per transfer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentStarted {
    pub session_id: Id,
    pub segment_id: Id,
    pub queued_call_id: Id,
    pub org_id: Id,
    pub clinic_id: Id,
}
impl Validate for SegmentStarted {}

/// The call was transferred from this segment to a new segment in another clinic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentTransferred {
    pub session_id: Id,
    pub segment_id: Id,
    pub to_clinic_id: Id,
    pub to_segment_id: Id,
}
impl Validate for SegmentTransferred {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.segment_id == self.to_segment_id {
            return Err(("to_segment_id", "must differ from segment_id".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentEnded {
    pub session_id: Id,
    pub segment_id: Id,
}
impl Validate for SegmentEnded {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantJoined {
    pub session_id: Id,
    pub segment_id: Id,
    pub participant_id: Id,
    pub participant_type: ParticipantType,
    /// The account of a host; callers have none (no patient data is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Id>,
}
impl Validate for ParticipantJoined {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        match (self.participant_type, &self.account_id) {
            (ParticipantType::Host, None) => Err(("account_id", "required for a host".into())),
            (ParticipantType::Caller, Some(_)) => Err((
                "account_id",
                "a caller has no account (no patient data)".into(),
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantLeft {
    pub session_id: Id,
    pub segment_id: Id,
    pub participant_id: Id,
    pub bandwidth: Bandwidth,
}
impl Validate for ParticipantLeft {}

/// Someone joined a call in a meeting, user or group room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomCallJoined {
    pub room_id: Id,
    pub call_id: Id,
    pub org_id: Id,
    pub participant_id: Id,
    /// Team members have an account; guests have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Id>,
}
impl Validate for RoomCallJoined {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomCallLeft {
    pub room_id: Id,
    pub call_id: Id,
    pub participant_id: Id,
    pub bandwidth: Bandwidth,
}
impl Validate for RoomCallLeft {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(raw: serde_json::Value) -> (Option<String>, Rejection) {
        match parse_event(&raw) {
            Ok(e) => panic!("accepted: {e:?}"),
            Err(e) => e,
        }
    }

    fn rating() -> serde_json::Value {
        json!({
            "id": "evt_1",
            "type": "rating.submitted",
            "occurred_at": "2026-03-02T09:00:00+01:00",
            "data": {"rating_id": "r", "patient_id": "p", "practitioner_id": "d", "stars": 5},
        })
    }

    #[test]
    fn a_valid_envelope_parses_and_ignores_other_members() {
        let mut raw = rating();
        raw["source"] = json!("telehealth.platform");
        let event = parse_event(&raw).expect("valid");
        assert_eq!(event.id.as_str(), "evt_1");
        assert_eq!(event.body.type_name(), "rating.submitted");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-03-02T08:00:00+00:00");
    }

    /// Regression: a non-object event was named by whatever its text held between backticks
    /// (a value echo), and an array was taken as an envelope in member order.
    #[test]
    fn only_an_object_is_an_envelope() {
        for raw in [
            json!("Jonas `Lindqvist`"),
            json!(7),
            json!(null),
            json!(["evt_1", "rating.submitted", "2026-03-02T09:00:00Z", {"stars": 5}]),
        ] {
            let (id, r) = refusal(raw);
            assert_eq!((id, r.field.as_str()), (None, "event"));
        }
    }

    #[test]
    fn missing_members_are_named_and_a_valid_id_is_given_back() {
        for member in ["type", "occurred_at", "data"] {
            let mut raw = rating();
            raw.as_object_mut().map(|o| o.remove(member));
            let (id, r) = refusal(raw);
            assert_eq!((id.as_deref(), r.field.as_str()), (Some("evt_1"), member));
        }
        let mut raw = rating();
        raw.as_object_mut().map(|o| o.remove("id"));
        assert_eq!(refusal(raw).1.field, "id");
    }

    /// Regression: an invalid event id was echoed back in the answer.
    #[test]
    fn an_invalid_id_is_not_given_back() {
        let mut raw = rating();
        raw["id"] = json!("evt for Jonas Lindqvist");
        let (id, r) = refusal(raw);
        assert_eq!((id, r.field.as_str()), (None, "id"));
        assert!(!r.reason.contains("Jonas"));
    }
}
