//! Read models: what ingest keeps for the reports to read, their keys, and their indexes.
//! The key design (item types, keys, indexes, TTL) is written down in `docs/dynamodb.md`;
//! every function here that names a key is the single source of that key.
//!
//! Every read model is a merge of events that is independent of their arrival order: snapshot
//! fields take the newest event (`as_of`), first times take the minimum, last times the maximum,
//! and sets union. So a "seen" before its message, or a "left" before its "joined", lands right.
//!
//! One module per model (the item types of one aggregate), with the rules ingest applies to
//! keep it beside it; [`keys`] and [`lists`] name every item and index partition. Ingest
//! writes these models and the reports read them; nothing here depends on either.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

pub mod calls;
pub mod consultations;
pub mod keys;
pub mod lists;
pub mod organisations;
pub mod parties;
pub mod payments;
pub mod practitioners;
pub mod ratings;
pub mod room_calls;
pub mod search;
pub mod segments;
pub mod statistics;
pub mod tags;
pub mod threads;
pub mod vouchers;

pub use calls::{Call, CallMove};
pub use consultations::Consultation;
pub use organisations::{
    Account, AccountName, AccountNames, Clinic, Membership, Organisation, Room,
};
pub use parties::{PartyName, Patient};
pub use payments::{Payment, PaymentRequest};
pub use practitioners::{
    AvailabilityOverride, Commitment, Practitioner, PractitionerTotals, ResponseTimes,
};
pub use ratings::{Rating, RatingTotals};
pub use room_calls::RoomCallParticipant;
pub use segments::{QueuedCall, Segment, SegmentParticipant};
pub use threads::{
    ClinicalNote, RequestState, StoredMessage, ThreadFeedView, ThreadKind, ThreadSummary,
};
pub use vouchers::{Voucher, VoucherRedemption};

/// The idempotency marker of an ingested event: a hash of its validated content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMarker {
    pub event_type: String,
    pub content_sha256: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub ingested_at: DateTime<Utc>,
}

/// Running totals ingest keeps on an item (by name; a missing name is zero). Each source
/// item (a rating, a redemption, a call, a payment) adds what it contributes, and on every
/// change the difference, so a re-sent or updated source is never counted twice.
pub type Totals = BTreeMap<String, i64>;

/// The names a list item shows, copied in by ingest: party id to name (absent when the
/// party's profile is not known yet). Kept current when a profile's name changes.
pub type Names = BTreeMap<String, String>;

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
}
