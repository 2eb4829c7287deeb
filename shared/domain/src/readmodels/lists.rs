//! Index partitions (GSI partition keys), one function per list the reports need.

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
/// GSI1: every word of every practitioner's name, by `<word>#<id>` (A12 people search).
pub const PRACTITIONER_NAME_WORDS: &str = "PRAC_NAME_WORDS";
/// GSI1: every word of every practitioner's specialties, by `<word>#<id>` (A12).
pub const PRACTITIONER_SPECIALTY_WORDS: &str = "PRAC_SPECIALTY_WORDS";

/// GSI2: the patient threads waiting answer, by the start of their wait (A11).
pub const WAITING: &str = "WAITING";
/// GSI2: the practitioner pair threads, by last activity (the Feed's `kind` filter, A13; the
/// patient threads are the rest of `FEED`).
pub fn feed_by_kind(kind: crate::readmodels::ThreadKind) -> String {
    format!("FEED#{}", kind.as_str())
}

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
