//! Key names, one function per item type: the single source of every item's key.

use crate::ports::Key;

pub fn event(id: &str) -> Key {
    Key::new(format!("EVENT#{id}"), "EVENT")
}
pub fn practitioner(id: &str) -> Key {
    Key::new(format!("PRAC#{id}"), "PROFILE")
}
/// The sort-key prefix of a practitioner's search words ([`practitioner_word`]).
pub const PRACTITIONER_WORD_PREFIX: &str = "WORD#";
/// One word of a practitioner's name or specialties (A12): [`super::search::PractitionerWord`].
pub fn practitioner_word(id: &str, field: super::search::WordField, word: &str) -> Key {
    Key::new(
        format!("PRAC#{id}"),
        format!("{PRACTITIONER_WORD_PREFIX}{}#{word}", field.as_str()),
    )
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
/// Every practitioner's response-time commitment, in one item (A11: a Feed page reads it
/// once, whatever practitioners its rows name): [`super::ResponseTimes`].
pub fn response_times() -> Key {
    Key::new("RESPONSE_TIMES", "ALL")
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
/// The body's `totals` also hold each hour's counts of the day, as `HH/<tag>`.
pub fn consultation_day_counts(day: &str) -> Key {
    Key::new(consultation_tag_counts_pk(&day[..day.len().min(7)]), day)
}
/// The counts of consultations started in a UTC hour (`YYYY-MM-DDTHH`), per minute of the
/// hour as `MM/<tag>` in the body's `totals`: the edges of a window that does not fall on
/// whole hours. In the partition of the hour's month, after its day's item.
pub fn consultation_hour_counts(hour: &str) -> Key {
    consultation_day_counts(hour)
}
pub fn room_call_participant(call_id: &str, participant_id: &str) -> Key {
    Key::new(
        format!("ROOMCALL#{call_id}"),
        format!("PART#{participant_id}"),
    )
}
