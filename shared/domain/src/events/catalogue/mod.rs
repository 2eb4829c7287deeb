//! The event catalogue: every platform event the backend takes in, its payload, and the one
//! parser that validates an envelope into a typed [`Event`]. `docs/events.md` shows one JSON
//! example per type; a test holds that document to this parser.
//!
//! The payload of each event lives with its aggregate: `people`, `messaging`, `payments`,
//! `calls`, `ratings`, `vouchers`, `organisations`, `accounts`, `waiting_area` and
//! `room_calls`; every payload is re-exported here.

mod accounts;
mod calls;
mod messaging;
mod organisations;
mod payments;
mod people;
mod ratings;
mod room_calls;
mod vouchers;
mod waiting_area;

pub use accounts::*;
pub use calls::*;
pub use messaging::*;
pub use organisations::*;
pub use payments::*;
pub use people::*;
pub use ratings::*;
pub use room_calls::*;
pub use vouchers::*;
pub use waiting_area::*;

use super::types::*;
use chrono::{DateTime, Utc};
use serde::Serialize;

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

            fn parse(
                kind: &str,
                data: serde_json::Value,
                now: DateTime<Utc>,
            ) -> Result<EventBody, Rejection> {
                match kind {
                    $( $name => decode::<$payload>(data, now).map(EventBody::$variant), )*
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
    now: DateTime<Utc>,
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
        let reason = crate::error::safe_serde_reason(&inner);
        Rejection::new(field, reason)
    })?;
    value
        .validate()
        .map_err(|(field, reason)| Rejection::new(format!("data.{field}"), reason))?;
    for (field, at) in value.instants() {
        check_instant(at, now).map_err(|r| Rejection::new(format!("data.{field}"), r))?;
    }
    Ok(value)
}

/// Rules serde alone cannot state (relations between fields, ranges).
trait Validate {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }

    /// The payload's instants of things that happened (creations, deletions, grants), by
    /// field: each is held to the same bounds as `occurred_at` ([`check_instant`]).
    fn instants(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        Vec::new()
    }
}

/// The earliest instant an event may carry: 2000-01-01T00:00:00Z.
pub fn earliest_instant() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// How far past the receiving clock an instant may lie (the platform's clock may run ahead of
/// this backend's): one day. Further on, an instant is refused: it would win every
/// newest-wins merge until then.
pub fn max_ahead() -> chrono::Duration {
    chrono::Duration::days(1)
}

/// Checks that `at` lies between [`earliest_instant`] and `now` + [`max_ahead`] (both
/// included); the reason never repeats the value.
pub fn check_instant(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if at < earliest_instant() || at > now + max_ahead() {
        return Err(
            "must lie between 2000-01-01T00:00:00Z and one day past the time it is received".into(),
        );
    }
    Ok(())
}

/// Parses and validates one envelope: a JSON object with `id`, `type`, `occurred_at` and
/// `data` (other members are ignored), received at `now` (the bound of its instants,
/// [`check_instant`]). On refusal, gives back the event id too when it is a valid one (so the
/// caller can match the answer up), never an invalid one (which is a value like any other).
pub fn parse_event(
    raw: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Event, (Option<String>, Rejection)> {
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
        .and_then(|at| {
            check_instant(at, now)
                .map(|()| at)
                .map_err(|r| Rejection::new("occurred_at", r))
        })
        .map_err(fail)?;
    let data = member("data").map_err(fail)?;
    if !data.is_object() {
        return Err(fail(Rejection::new("data", "must be an object")));
    }
    let body = EventBody::parse(kind, data.clone(), now).map_err(fail)?;
    Ok(Event {
        id,
        occurred_at,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The receiving clock of these tests: 2026-03-02T12:00:00Z.
    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_452_800, 0).expect("an instant")
    }

    fn refusal(raw: serde_json::Value) -> (Option<String>, Rejection) {
        match parse_event(&raw, now()) {
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
        let event = parse_event(&raw, now()).expect("valid");
        assert_eq!(event.id.as_str(), "evt_1");
        assert_eq!(event.body.type_name(), "rating.submitted");
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-03-02T08:00:00+00:00");
    }

    /// A non-object event is refused as a whole: never named by text it holds between
    /// backticks (a value echo), and an array is not an envelope in member order.
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

    /// An invalid event id is not echoed back in the answer.
    #[test]
    fn an_invalid_id_is_not_given_back() {
        let mut raw = rating();
        raw["id"] = json!("evt for Jonas Lindqvist");
        let (id, r) = refusal(raw);
        assert_eq!((id, r.field.as_str()), (None, "id"));
        assert!(!r.reason.contains("Jonas"));
    }

    /// Instants from 2000-01-01 to one day past the receiving clock, both included, in the
    /// envelope and in the data; one second further either way is refused naming the field.
    #[test]
    fn instants_are_held_between_2000_and_a_day_ahead() {
        let at = |occurred_at: DateTime<Utc>| {
            let mut raw = rating();
            raw["occurred_at"] = json!(occurred_at.to_rfc3339());
            raw
        };
        let earliest = earliest_instant();
        let latest = now() + max_ahead();
        for ok in [earliest, latest] {
            parse_event(&at(ok), now()).expect("at the bound");
        }
        let second = chrono::Duration::seconds(1);
        for bad in [earliest - second, latest + second] {
            assert_eq!(refusal(at(bad)).1.field, "occurred_at", "{bad}");
        }
        let mut raw = rating();
        raw["occurred_at"] = json!("9999-12-31T23:59:59Z");
        let (id, r) = refusal(raw);
        assert_eq!(
            (id.as_deref(), r.field.as_str()),
            (Some("evt_1"), "occurred_at")
        );
        assert!(!r.reason.contains("9999"), "{}", r.reason);

        let clinic = |created_at: &str, deleted_at: Option<&str>| {
            json!({
                "id": "evt_c", "type": "clinic.upserted", "occurred_at": "2026-03-02T09:00:00Z",
                "data": {"clinic_id": "c", "org_id": "o", "name": "C", "subdomain": "c",
                    "waiting_area_status": "open", "state": "S", "specialty": "P",
                    "contract": "K", "created_at": created_at, "deleted_at": deleted_at},
            })
        };
        parse_event(
            &clinic("2000-01-01T00:00:00Z", Some("2026-03-03T12:00:00Z")),
            now(),
        )
        .expect("at the bounds");
        assert_eq!(
            refusal(clinic("1999-12-31T23:59:59Z", None)).1.field,
            "data.created_at"
        );
        assert_eq!(
            refusal(clinic("2026-01-01T00:00:00Z", Some("9999-01-01T00:00:00Z")))
                .1
                .field,
            "data.deleted_at"
        );
    }

    /// Money is held to |amount| <= 10^12 minor units, on every money field.
    #[test]
    fn amounts_are_held_to_their_bound() {
        let payment = |total: i64, commission: i64| {
            json!({
                "id": "evt_p", "type": "payment.completed", "occurred_at": "2026-03-02T09:00:00Z",
                "data": {"payment_id": "p", "payment_type": "no_show_fee", "thread_id": "t",
                    "patient_id": "a", "practitioner_id": "d",
                    "total": {"amount_minor": total, "currency": "EUR"},
                    "commission_minor": commission},
            })
        };
        let max = crate::events::types::MAX_AMOUNT_MINOR;
        parse_event(&payment(max, max), now()).expect("at the bound");
        for (total, commission, field) in [
            (max + 1, 0, "data.total.amount_minor"),
            (i64::MAX, 0, "data.total.amount_minor"),
            (max, max + 1, "data.commission_minor"),
            (max, i64::MIN, "data.commission_minor"),
        ] {
            assert_eq!(
                refusal(payment(total, commission)).1.field,
                field,
                "{total} {commission}"
            );
        }
    }
}
