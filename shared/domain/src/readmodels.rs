//! Read models: what ingest keeps for the reports to read, their keys, and their indexes.
//! The key design (item types, keys, indexes, TTL) is written down in `docs/dynamodb.md`;
//! every function here that names a key is the single source of that key.
//!
//! Every read model is a merge of events that is independent of their arrival order: snapshot
//! fields take the newest event (`as_of`), first times take the minimum, last times the maximum,
//! and sets union. So a "seen" before its message, or a "left" before its "joined", lands right.

use crate::events::types::*;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A time as a sort key: fixed-width RFC 3339 UTC with milliseconds, so string order is time order.
pub fn sort_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Folds a name for case- and accent-insensitive search and ordering: NFKD, marks removed,
/// lower case.
pub fn fold_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

pub(crate) fn min_time(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

pub(crate) fn max_time(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.max(b)))
}

/// Key names, one function per item type.
pub mod keys {
    use crate::ports::Key;

    pub fn event(id: &str) -> Key {
        Key::new(format!("EVENT#{id}"), "EVENT")
    }
    pub fn practitioner(id: &str) -> Key {
        Key::new(format!("PRAC#{id}"), "PROFILE")
    }
    /// A practitioner's call totals, all time (A4): one item per practitioner with a call.
    pub fn call_totals(id: &str) -> Key {
        Key::new(format!("PRAC#{id}"), "CALL_TOTALS")
    }
    /// A practitioner's payment totals per currency, all time (A7).
    pub fn payment_totals(id: &str) -> Key {
        Key::new(format!("PRAC#{id}"), "PAY_TOTALS")
    }
    /// Every practitioner's rating count and stars, in one item (A6: the Ratings page reads it
    /// once, whatever practitioners its rows name): [`super::RatingTotals`].
    pub fn rating_totals() -> Key {
        Key::new("RATING_TOTALS", "ALL")
    }
    pub fn practitioner_rating_count(id: &str) -> Key {
        Key::new(format!("PRAC#{id}"), "RATING_COUNT")
    }
    pub fn practitioner_rating_stars(id: &str) -> Key {
        Key::new(format!("PRAC#{id}"), "RATING_STARS")
    }
    pub fn patient(id: &str) -> Key {
        Key::new(format!("PAT#{id}"), "PROFILE")
    }
    pub fn thread(id: &str) -> Key {
        Key::new(format!("THREAD#{id}"), "SUMMARY")
    }
    pub fn thread_pk(id: &str) -> String {
        format!("THREAD#{id}")
    }
    /// A party's name as the list items that show it copy it ([`super::PartyName`]).
    pub fn party_name(party_id: &str) -> Key {
        Key::new(format!("NAME#{party_id}"), "NAME")
    }
    /// The sort-key prefix of a party's references ([`party_ref`]).
    pub const PARTY_REF_PREFIX: &str = "REF#";
    /// A reference from a list item that shows a party's name to that party: the item's key,
    /// so that a change of name reaches every copy.
    pub fn party_ref(party_id: &str, item: &Key) -> Key {
        Key::new(
            format!("NAME#{party_id}"),
            format!("{PARTY_REF_PREFIX}{}#{}", item.pk, item.sk),
        )
    }
    pub fn party_thread(party_id: &str, thread_id: &str) -> Key {
        Key::new(format!("PARTY#{party_id}"), format!("THREAD#{thread_id}"))
    }
    pub fn payment_request(thread_id: &str, request_id: &str) -> Key {
        Key::new(format!("THREAD#{thread_id}"), format!("PREQ#{request_id}"))
    }
    pub fn payment(id: &str) -> Key {
        Key::new(format!("PAY#{id}"), "PAYMENT")
    }
    pub fn consultation(id: &str) -> Key {
        Key::new(format!("CONSULT#{id}"), "CONSULT")
    }
    pub fn thread_consultation(thread_id: &str, consultation_id: &str) -> Key {
        Key::new(
            format!("THREAD#{thread_id}"),
            format!("CONSULT#{consultation_id}"),
        )
    }
    pub fn call(id: &str) -> Key {
        Key::new(format!("CALL#{id}"), "CALL")
    }
    pub fn rating(id: &str) -> Key {
        Key::new(format!("RATING#{id}"), "RATING")
    }
    pub fn voucher(code: &str) -> Key {
        Key::new(format!("VOUCHER#{code}"), "VOUCHER")
    }
    pub fn voucher_uses(code: &str) -> Key {
        Key::new(format!("VOUCHER#{code}"), "USES")
    }
    pub fn voucher_redemption(code: &str, redemption_id: &str) -> Key {
        Key::new(format!("VOUCHER#{code}"), format!("REDEEM#{redemption_id}"))
    }
    pub fn organisation(id: &str) -> Key {
        Key::new(format!("ORG#{id}"), "ORG")
    }
    /// Every account's name in the organisation, in one item (C6: the room-call report reads
    /// it once, not one item per account): [`super::AccountNames`].
    pub fn org_account_names(id: &str) -> Key {
        Key::new(format!("ORG#{id}"), "ACCOUNT_NAMES")
    }
    pub fn clinic(id: &str) -> Key {
        Key::new(format!("CLINIC#{id}"), "CLINIC")
    }
    pub fn room(id: &str) -> Key {
        Key::new(format!("ROOM#{id}"), "ROOM")
    }
    pub fn account(id: &str) -> Key {
        Key::new(format!("ACCOUNT#{id}"), "ACCOUNT")
    }
    pub fn account_last_login(id: &str) -> Key {
        Key::new(format!("ACCOUNT#{id}"), "LAST_LOGIN")
    }
    pub fn membership(account_id: &str, clinic_id: &str) -> Key {
        Key::new(
            format!("ACCOUNT#{account_id}"),
            format!("MEMBER#{clinic_id}"),
        )
    }
    pub fn queued_call(session_id: &str) -> Key {
        Key::new(format!("SESSION#{session_id}"), "QUEUED")
    }
    pub fn segment(session_id: &str, segment_id: &str) -> Key {
        Key::new(format!("SESSION#{session_id}"), format!("SEG#{segment_id}"))
    }
    pub fn participant(session_id: &str, segment_id: &str, participant_id: &str) -> Key {
        Key::new(
            format!("SESSION#{session_id}"),
            format!("PART#{segment_id}#{participant_id}"),
        )
    }
    /// The partition of the per-day consultation tag counts of one month (`YYYY-MM`).
    pub fn consultation_tag_counts_pk(month: &str) -> String {
        format!("CONSULT_TAGS#{month}")
    }
    /// The counts of consultations started on a UTC day (`YYYY-MM-DD`): per tag they hold,
    /// and `all` (every consultation of that day), in the body's `totals`.
    pub fn consultation_day_counts(day: &str) -> Key {
        Key::new(consultation_tag_counts_pk(&day[..day.len().min(7)]), day)
    }
    pub fn room_call_participant(call_id: &str, participant_id: &str) -> Key {
        Key::new(
            format!("ROOMCALL#{call_id}"),
            format!("PART#{participant_id}"),
        )
    }
}

/// Index partitions (GSI partition keys), one function per list the reports need.
pub mod lists {
    /// GSI1: every thread, by last activity (Feed, A1).
    pub const FEED: &str = "FEED";
    /// GSI1: every practitioner, by folded name (A5, B1 search).
    pub const PRACTITIONERS: &str = "PRACTITIONERS";
    /// GSI1: every payment item, by time (A8).
    pub const PAYMENTS: &str = "PAYMENTS";
    /// GSI1: every consultation, by start (A3).
    pub const CONSULTATIONS: &str = "CONSULTS";
    /// GSI1: every rating, by time (A6).
    pub const RATINGS: &str = "RATINGS";
    /// GSI1: every voucher, by code (A9).
    pub const VOUCHERS: &str = "VOUCHERS";
    /// GSI1: every call, by start (A4).
    pub const CALLS: &str = "CALLS";
    /// GSI1: every practitioner with a call, by folded name (A4 without a period).
    pub const CALL_TOTALS: &str = "CALL_TOTALS";
    /// GSI1: every practitioner with a payment, by folded name (A7 without a period).
    pub const PAYMENT_TOTALS: &str = "PAY_TOTALS";
    /// GSI1: every organisation (C4).
    pub const ORGANISATIONS: &str = "ORGS";

    /// GSI2: the practitioners of one approval state, by folded name (A5's `approval` filter).
    pub fn practitioners_by_approval(approval: crate::events::types::Approval) -> String {
        use crate::events::types::Approval;
        let a = match approval {
            Approval::Approved => "approved",
            Approval::Pending => "pending",
            Approval::Rejected => "rejected",
        };
        format!("PRACTITIONERS#{a}")
    }
    pub fn practitioner_payments(id: &str) -> String {
        format!("PRAC#{id}#PAYMENTS")
    }
    pub fn practitioner_consultations(id: &str) -> String {
        format!("PRAC#{id}#CONSULTS")
    }
    pub fn practitioner_ratings(id: &str) -> String {
        format!("PRAC#{id}#RATINGS")
    }
    pub fn practitioner_calls(id: &str) -> String {
        format!("PRAC#{id}#CALLS")
    }
    pub fn org_clinics(org: &str) -> String {
        format!("ORG#{org}#CLINICS")
    }
    pub fn org_rooms(org: &str) -> String {
        format!("ORG#{org}#ROOMS")
    }
    pub fn org_accounts(org: &str) -> String {
        format!("ORG#{org}#ACCOUNTS")
    }
    pub fn org_logins(org: &str) -> String {
        format!("ORG#{org}#LOGINS")
    }
    pub fn org_sessions(org: &str) -> String {
        format!("ORG#{org}#SESSIONS")
    }
    pub fn org_segments(org: &str) -> String {
        format!("ORG#{org}#SEGMENTS")
    }
    pub fn org_room_calls(org: &str) -> String {
        format!("ORG#{org}#ROOMCALLS")
    }
    pub fn clinic_members(clinic: &str) -> String {
        format!("CLINIC#{clinic}#MEMBERS")
    }
    pub fn clinic_segments(clinic: &str) -> String {
        format!("CLINIC#{clinic}#SEGMENTS")
    }
    pub fn account_participations(account: &str) -> String {
        format!("ACCOUNT#{account}#PARTS")
    }
    pub fn room_calls(room: &str) -> String {
        format!("ROOM#{room}#CALLS")
    }
}

/// The idempotency marker of an ingested event: a hash of its validated content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMarker {
    pub event_type: String,
    pub content_sha256: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub ingested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Practitioner {
    pub practitioner_id: String,
    pub name: Option<String>,
    pub specialties: Vec<String>,
    pub approval: Option<Approval>,
    pub price: Option<Money>,
    pub has_scheduling_practice: bool,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub profile_as_of: Option<DateTime<Utc>>,
    pub availability: Option<Availability>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub availability_as_of: Option<DateTime<Utc>>,
    /// Totals ingest keeps on the profile: `rating_count`, `rating_stars` (A5, A6).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub totals: Totals,
    /// The admin's availability override, as the override route last set it (A5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_override: Option<crate::admin::practitioners::AvailabilityOverride>,
}

impl Practitioner {
    /// Whether a profile or availability event has been seen (an item holding only totals
    /// is not a listed practitioner yet).
    pub fn is_known(&self) -> bool {
        self.profile_as_of.is_some() || self.availability_as_of.is_some()
    }
}

/// Running totals ingest keeps on an item (by name; a missing name is zero). Each source
/// item (a rating, a redemption, a call, a payment) adds what it contributes, and on every
/// change the difference, so a re-sent or updated source is never counted twice.
pub type Totals = BTreeMap<String, i64>;

/// Every practitioner's rating count and stars summed (A6), one item for the whole platform
/// ([`keys::rating_totals`]): practitioner id → `[count, stars]` (a pair, not named fields, to
/// keep the item small: the id, about 7 bytes of JSON and the digits, 17 bytes per
/// practitioner on the demo data; the 400 KB item limit this sets is in `docs/dynamodb.md`).
/// Ingest moves it in the same transaction and by the same amounts as the
/// `rating_count`/`rating_stars` totals on the practitioner's profile; a practitioner back at
/// no rating is left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RatingTotals {
    pub practitioners: BTreeMap<String, (i64, i64)>,
}

/// A practitioner's all-time totals of one kind (calls or payments): a list item of its own,
/// in name order, with the practitioner's name copied in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PractitionerTotals {
    pub practitioner_id: String,
    pub totals: Totals,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Patient {
    pub patient_id: String,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub as_of: Option<DateTime<Utc>>,
}

/// A party's (patient's or practitioner's) name as the list items copy it: the newest
/// profile's name, and the number of references ([`keys::party_ref`]) taken on it. Every
/// transaction that adds a reference or changes the name writes this item on a version
/// condition, so a change of name and a new copy of the name never miss each other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartyName {
    pub party_id: String,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub as_of: Option<DateTime<Utc>>,
    pub refs: u64,
}

/// The names a list item shows, copied in by ingest: party id to name (absent when the
/// party's profile is not known yet). Kept current when a profile's name changes.
pub type Names = BTreeMap<String, String>;

/// What the Feed and the tag rules read of a thread (SPEC A1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThreadSummary {
    pub thread_id: String,
    pub patient_ids: BTreeSet<String>,
    pub practitioner_ids: BTreeSet<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub first_patient_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub last_patient_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub first_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub last_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    /// The newest time any practitioner of the thread opened it.
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub practitioner_opened_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub patient_opened_at: Option<DateTime<Utc>>,
    pub message_count: u64,
    /// Devices each participant sent from (`platform` or `platform/model`).
    pub devices: BTreeMap<String, BTreeSet<String>>,
    /// The newest clinical note of each type (consultation tags, A3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub last_notes: BTreeMap<NoteType, DateTime<Utc>>,
    /// Every payment request of the thread, by request id (consultation tags, A3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, RequestState>,
    /// The participants' names (Feed, thread details).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}

/// What the consultation tags read of one payment request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestState {
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub answer: Option<RequestAnswer>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub answered_at: Option<DateTime<Utc>>,
}

/// What the Feed reads of a [`ThreadSummary`] item: everything but the devices, the clinical
/// notes and the payment requests, which serde skips without building them (the Feed decodes
/// one summary per row; those maps were a third of its allocations). [`ThreadSummary::from`]
/// fills the rest with their defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ThreadFeedView {
    pub thread_id: String,
    pub patient_ids: BTreeSet<String>,
    pub practitioner_ids: BTreeSet<String>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub first_patient_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub last_patient_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub first_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub last_practitioner_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub practitioner_opened_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub patient_opened_at: Option<DateTime<Utc>>,
    pub message_count: u64,
    pub names: Names,
}

impl From<ThreadFeedView> for ThreadSummary {
    fn from(v: ThreadFeedView) -> Self {
        ThreadSummary {
            thread_id: v.thread_id,
            patient_ids: v.patient_ids,
            practitioner_ids: v.practitioner_ids,
            created_at: v.created_at,
            first_patient_message_at: v.first_patient_message_at,
            last_patient_message_at: v.last_patient_message_at,
            first_practitioner_message_at: v.first_practitioner_message_at,
            last_practitioner_message_at: v.last_practitioner_message_at,
            last_message_at: v.last_message_at,
            practitioner_opened_at: v.practitioner_opened_at,
            patient_opened_at: v.patient_opened_at,
            message_count: v.message_count,
            names: v.names,
            devices: BTreeMap::new(),
            last_notes: BTreeMap::new(),
            requests: BTreeMap::new(),
        }
    }
}

impl ThreadSummary {
    /// When the thread last saw activity (its Feed order).
    pub fn activity_at(&self) -> Option<DateTime<Utc>> {
        self.last_message_at.or(self.created_at)
    }
}

/// One message. Participant messages keep only the opaque ciphertext, which no admin
/// response ever carries (SPEC A2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoredMessage {
    pub message_id: String,
    pub thread_id: String,
    pub sender_id: String,
    pub sender_role: Option<PartyRole>,
    pub kind: Option<MessageKind>,
    pub device: Option<Device>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub system_text: Option<String>,
    pub ciphertext: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentRequest {
    pub request_id: String,
    pub thread_id: String,
    pub practitioner_id: Option<String>,
    pub patient_id: Option<String>,
    pub amount: Option<Money>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub answer: Option<RequestAnswer>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: String,
    pub payment_type: PaymentType,
    pub consultation_id: Option<String>,
    pub thread_id: String,
    pub patient_id: String,
    pub practitioner_id: String,
    pub total: Money,
    pub commission_minor: i64,
    /// total - commission: what reaches the specialist.
    pub specialist_minor: i64,
    pub request_id: Option<String>,
    pub voucher_code: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub paid_at: DateTime<Utc>,
    /// The patient's and practitioner's names (A8).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Consultation {
    pub consultation_id: String,
    pub thread_id: Option<String>,
    pub practitioner_id: Option<String>,
    pub patient_id: Option<String>,
    pub payment_id: Option<String>,
    pub payment_type: Option<PaymentType>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<PartyRole>,
    /// The tags as ingest last derived them ([`crate::admin::tags::consultation_tags`]); they
    /// feed the per-day tag counters.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<crate::admin::tags::ConsultationTag>,
    /// The practitioner's and patient's names (A3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClinicalNote {
    pub note_id: String,
    pub thread_id: String,
    pub practitioner_id: String,
    pub note_type: NoteType,
    #[serde(deserialize_with = "crate::time::de")]
    pub sent_at: DateTime<Utc>,
}

/// One join or leave of an in-thread call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallMove {
    #[serde(deserialize_with = "crate::time::de")]
    pub at: DateTime<Utc>,
    pub participant_id: String,
    pub role: CallRole,
    pub joined: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Call {
    pub call_id: String,
    pub thread_id: Option<String>,
    pub practitioner_id: Option<String>,
    pub media: Option<Media>,
    /// Every join and leave, in time order.
    pub moves: Vec<CallMove>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub rating_id: String,
    pub patient_id: String,
    pub practitioner_id: String,
    pub stars: u8,
    pub comment: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub submitted_at: DateTime<Utc>,
    /// The patient's and practitioner's names (A6).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Voucher {
    pub code: String,
    pub usage_limit: Option<u32>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// `uses`: distinct redemptions (A9).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub totals: Totals,
}

/// One use of a voucher code. Each distinct redemption counts once towards the code's uses
/// (the `USES` counter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoucherRedemption {
    pub code: String,
    pub redemption_id: String,
    pub patient_id: String,
    pub payment_id: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub redeemed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Organisation {
    pub org_id: String,
    pub name: String,
    pub state: String,
    pub specialty: String,
    pub contract: String,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clinic {
    pub clinic_id: String,
    pub org_id: String,
    pub name: String,
    pub subdomain: String,
    pub waiting_area_status: WaitingAreaStatus,
    pub state: String,
    pub specialty: String,
    pub contract: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub room_id: String,
    pub org_id: String,
    pub clinic_id: String,
    pub room_type: RoomType,
    pub name: String,
    pub owner_account_id: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub platform_role: String,
    pub access_level: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deactivated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

/// Every account's name in one organisation (`ORG#<org>`/`ACCOUNT_NAMES`), written by ingest
/// with each account's snapshot, in the same transaction: an entry changes only for an event
/// as new as its own (`as_of`), the rule of the account item, so the two agree whatever order
/// the events came in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountNames {
    pub accounts: BTreeMap<String, AccountName>,
}

/// An account's name as of its newest event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountName {
    pub name: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub account_id: String,
    pub clinic_id: String,
    pub org_id: String,
    pub clinic_role: ClinicRole,
    #[serde(deserialize_with = "crate::time::de")]
    pub granted_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueuedCall {
    pub queued_call_id: String,
    pub session_id: String,
    pub org_id: Option<String>,
    pub clinic_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub entered_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub abandoned_at: Option<DateTime<Utc>>,
    /// Ids of the session's segment items (sorted), kept by ingest: the segments whose copy of
    /// `entered_at` ([`Segment::session_entered_at`]) a change of it rewrites. Every event that
    /// creates a segment item writes this item too, so the two never miss each other. The item
    /// may exist with only this list (a segment event came before the queued call's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Segment {
    pub session_id: String,
    pub segment_id: String,
    pub queued_call_id: Option<String>,
    pub org_id: Option<String>,
    pub clinic_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub transferred_at: Option<DateTime<Utc>>,
    pub to_clinic_id: Option<String>,
    pub to_segment_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub abandoned_at: Option<DateTime<Utc>>,
    /// The session's waiting-area entry: a copy of its queued call's `entered_at`, kept by
    /// ingest (issue 8: the Consultations report reads only the segment items).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::time::de_opt"
    )]
    pub session_entered_at: Option<DateTime<Utc>>,
    /// Every participant of this segment: copies of its `PART#` items, by participant id,
    /// written in the same transaction as the item they copy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<SegmentParticipant>,
}

/// One participant of one segment: first join, last leave, bandwidth at leave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentParticipant {
    pub session_id: String,
    pub segment_id: String,
    pub participant_id: String,
    pub participant_type: Option<ParticipantType>,
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub left_at: Option<DateTime<Utc>>,
    pub bandwidth: Option<Bandwidth>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomCallParticipant {
    pub call_id: String,
    pub participant_id: String,
    pub room_id: String,
    pub org_id: Option<String>,
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub left_at: Option<DateTime<Utc>>,
    pub bandwidth: Option<Bandwidth>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold_name("Ángela Müller"), "angela muller");
        assert_eq!(fold_name("ÉLODIE"), fold_name("elodie"));
    }

    #[test]
    fn sort_times_order_as_times() {
        let a = sort_time("2026-03-29T00:59:59.999Z".parse().expect("t"));
        let b = sort_time("2026-03-29T01:00:00Z".parse().expect("t"));
        assert!(a < b);
        assert_eq!(b, "2026-03-29T01:00:00.000Z");
    }
    /// The Feed's view of a summary item is the summary without its devices, notes and
    /// requests: every other field survives the round trip.
    #[test]
    fn the_feed_view_keeps_every_field_but_devices_notes_and_requests() {
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().expect("test value"));
        let full = ThreadSummary {
            thread_id: "thr-1".into(),
            patient_ids: ["pat-1".to_string()].into(),
            practitioner_ids: ["pr-1".to_string(), "pr-2".to_string()].into(),
            created_at: t("2026-11-01T08:00:00Z"),
            first_patient_message_at: t("2026-11-01T08:01:00Z"),
            last_patient_message_at: t("2026-11-02T08:01:00.5Z"),
            first_practitioner_message_at: t("2026-11-01T09:00:00Z"),
            last_practitioner_message_at: t("2026-11-02T07:00:00Z"),
            last_message_at: t("2026-11-02T08:01:00.5Z"),
            practitioner_opened_at: t("2026-11-02T07:30:00Z"),
            patient_opened_at: t("2026-11-02T07:45:00Z"),
            message_count: 42,
            devices: [("pat-1".to_string(), ["ios/iPhone".to_string()].into())].into(),
            last_notes: [(
                NoteType::Diagnosis,
                "2026-11-01T10:00:00Z".parse().expect("v"),
            )]
            .into(),
            requests: [("req-1".to_string(), RequestState::default())].into(),
            names: [("pr-1".to_string(), "Dr A".to_string())].into(),
        };
        let json = serde_json::to_string(&full).expect("test value");
        let view: ThreadFeedView = serde_json::from_str(&json).expect("test value");
        let back = ThreadSummary::from(view);
        assert_eq!(
            back,
            ThreadSummary {
                devices: BTreeMap::new(),
                last_notes: BTreeMap::new(),
                requests: BTreeMap::new(),
                ..full
            }
        );
    }
}
