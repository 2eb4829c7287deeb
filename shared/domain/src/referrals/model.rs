//! The referral item, its states and transitions, its keys, and what each party is shown of it.
//!
//! A referral is one item (`REFERRAL#<id>` / `REFERRAL`) whose body holds the whole history
//! (every transition: who, when, from, to); its `version` is what every decision is
//! conditioned on. Each party's list of referrals is a partition of its own
//! (`REFLIST#<as>#<party id>`), holding a copy of the referral written in the same transaction
//! as the referral itself, so a list is one Query and never disagrees with the item.

use crate::auth::Role;
use crate::ports::{Item, Key};
use crate::readmodels::sort_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The states of a referral (see the module documentation of [`crate::referrals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for the patient's approval (only when the deployment asks for it, B2/B3).
    PendingPatient,
    /// The patient declined: final; nothing reached the specialist.
    PatientRejected,
    /// Waiting for the specialist's decision.
    PendingSpecialist,
    /// The specialist accepted: final; a specialist–patient thread exists.
    Accepted,
    /// The specialist declined: final; the patient is not told.
    Rejected,
    /// The referrer withdrew it while it was pending (B9): final.
    Withdrawn,
    /// Nobody answered within the deployment's expiry time (B9): final.
    Expired,
}

impl State {
    /// The state's name in answers, audit records and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            State::PendingPatient => "pending_patient",
            State::PatientRejected => "patient_rejected",
            State::PendingSpecialist => "pending_specialist",
            State::Accepted => "accepted",
            State::Rejected => "rejected",
            State::Withdrawn => "withdrawn",
            State::Expired => "expired",
        }
    }

    /// Whether the referral still awaits someone's answer (the states that may be withdrawn
    /// and that expire).
    pub fn is_pending(self) -> bool {
        matches!(self, State::PendingPatient | State::PendingSpecialist)
    }
}

/// One change of state, recorded on the referral (and in the audit trail, D4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// `None` for the creation.
    pub from: Option<State>,
    pub to: State,
    /// The subject (`sub`) of the caller who made it.
    pub by: String,
    pub by_role: Role,
    pub at: DateTime<Utc>,
    /// Why the specialist declined (B8): only on the transition to `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeclineReason>,
}

/// The reasons a specialist may give for declining a referral (B8): a closed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The patient's need lies outside the specialist's specialty.
    OutsideSpecialty,
    /// The specialist cannot take on new patients now.
    NoCapacity,
    /// The specialist needs more information before they could accept.
    NeedsMoreInformation,
    /// Another practitioner or service would serve the patient better.
    BetterServedElsewhere,
    /// Another reason, said in the free text (required for this code).
    Other,
}

impl ReasonCode {
    /// Every code, in the order a form offers them.
    pub const ALL: [ReasonCode; 5] = [
        ReasonCode::OutsideSpecialty,
        ReasonCode::NoCapacity,
        ReasonCode::NeedsMoreInformation,
        ReasonCode::BetterServedElsewhere,
        ReasonCode::Other,
    ];

    /// The code's name in requests, answers, audit records and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::OutsideSpecialty => "outside_specialty",
            ReasonCode::NoCapacity => "no_capacity",
            ReasonCode::NeedsMoreInformation => "needs_more_information",
            ReasonCode::BetterServedElsewhere => "better_served_elsewhere",
            ReasonCode::Other => "other",
        }
    }
}

/// A specialist's reason for declining: a code and, optionally (required for
/// [`ReasonCode::Other`]), a few words for the referrer. The text is shown to the referrer and
/// the specialist only: never to the patient, never in a system message (admins read those,
/// A2), never in a log or an audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineReason {
    pub code: ReasonCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A referral as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    pub referral_id: String,
    pub referrer_id: String,
    pub specialist_id: String,
    pub patient_id: String,
    /// The referrer's optional note for the specialist; never in a system message, never in a
    /// log, never shown to the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub state: State,
    /// Whether the patient's approval was asked (the deployment setting when it was created).
    pub patient_approval: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the referral expires if it is still pending (B9): its creation plus the
    /// deployment's expiry time then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The referrer's thread with the patient (where the patient is asked, and answers).
    pub patient_thread_id: String,
    /// The practitioner-to-practitioner thread, once the request has reached the specialist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_thread_id: Option<String>,
    /// Whether referrals created the pair thread (then its `thread.created` is theirs to land).
    #[serde(default)]
    pub pair_thread_new: bool,
    /// The new specialist–patient thread, once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialist_thread_id: Option<String>,
    /// The booking prompt shown to the patient on acceptance (B6), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_url: Option<String>,
    /// Display names taken when the referral was made, for the system messages' text.
    pub names: PartyNames,
    /// The specialist's specialties when the referral was made, the groups its ageing counters
    /// (B11) count it in; absent on referrals made before those counters were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialties: Option<Vec<String>>,
    pub transitions: Vec<Transition>,
}

/// Names of the three parties, as the read models held them when the referral was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartyNames {
    pub referrer: Option<String>,
    pub specialist: Option<String>,
    pub patient: Option<String>,
}

/// As whom a caller lists or reads referrals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyAs {
    Referrer,
    Specialist,
    Patient,
}

impl PartyAs {
    /// Parses the `as` query parameter (`referrer`, `specialist`, `patient`).
    pub fn parse(text: &str) -> Option<PartyAs> {
        match text {
            "referrer" => Some(PartyAs::Referrer),
            "specialist" => Some(PartyAs::Specialist),
            "patient" => Some(PartyAs::Patient),
            _ => None,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            PartyAs::Referrer => "REFERRER",
            PartyAs::Specialist => "SPECIALIST",
            PartyAs::Patient => "PATIENT",
        }
    }
}

/// Keys of the referral items.
pub mod keys {
    use super::*;

    /// The referral itself.
    pub fn referral(id: &str) -> Key {
        Key::new(format!("REFERRAL#{id}"), "REFERRAL")
    }

    /// The partition listing one party's referrals in one capacity.
    pub fn list_partition(party: PartyAs, party_id: &str) -> String {
        format!("REFLIST#{}#{party_id}", party.tag())
    }

    /// A referral's entry in one party's list (sorted by creation time, then id).
    pub fn list_entry(party: PartyAs, party_id: &str, r: &Referral) -> Key {
        Key::new(
            list_partition(party, party_id),
            format!("{}#{}", sort_time(r.created_at), r.referral_id),
        )
    }

    /// The index partition (GSI1) of the pending referrals, sorted by when they expire: the
    /// expiry sweep reads the due ones from its start, never more than a batch.
    pub const EXPIRY: &str = "REFEXPIRY";

    /// A pending referral's sort key in [`EXPIRY`].
    pub fn expiry_sort(expires_at: DateTime<Utc>, referral_id: &str) -> String {
        format!("{}#{referral_id}", sort_time(expires_at))
    }

    /// The stored answer of a decision sent with an `Idempotency-Key`.
    pub fn decision_answer(referral_id: &str, step: &str, sub: &str, key: &str) -> Key {
        Key::new(
            format!("REFERRAL#{referral_id}"),
            format!("IDEM#{step}#{sub}#{key}"),
        )
    }

    /// The stored answer of a creation sent with an `Idempotency-Key`.
    pub fn create_answer(sub: &str, key: &str) -> Key {
        Key::new(format!("IDEM#{sub}"), format!("REFERRAL_CREATE#{key}"))
    }

    /// The practitioner-to-practitioner thread of an (unordered) pair.
    pub fn pair(a: &str, b: &str) -> Key {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        Key::new(format!("REFPAIR#{lo}#{hi}"), "PAIR")
    }
}

impl Referral {
    /// The stored item (versioned by the caller); while pending it is listed in the expiry
    /// index, and a final state's write takes it out.
    pub fn item(&self, version: u64) -> Item {
        let key = keys::referral(&self.referral_id);
        let item = Item::new(key.pk, key.sk, to_json(self)).with_version(version);
        match self.expires_at {
            Some(at) if self.state.is_pending() => {
                item.with_gsi1(keys::EXPIRY, keys::expiry_sort(at, &self.referral_id))
            }
            _ => item,
        }
    }

    /// The lists this referral is in now: the referrer's always; the specialist's once the
    /// request has reached them; the patient's once they were asked or it was accepted.
    pub fn list_entries(&self) -> Vec<Item> {
        let mut parties = vec![(PartyAs::Referrer, self.referrer_id.as_str())];
        if self.reached_specialist() {
            parties.push((PartyAs::Specialist, self.specialist_id.as_str()));
        }
        if self.visible_to_patient() {
            parties.push((PartyAs::Patient, self.patient_id.as_str()));
        }
        parties
            .into_iter()
            .map(|(a, id)| {
                let k = keys::list_entry(a, id, self);
                Item::new(k.pk, k.sk, to_json(self))
            })
            .collect()
    }

    /// Whether the request has reached the specialist (B3: a patient's refusal stops it, and
    /// so does a withdrawal or an expiry before the patient's approval).
    pub fn reached_specialist(&self) -> bool {
        self.transitions
            .iter()
            .any(|t| t.to == State::PendingSpecialist)
    }

    /// Whether the patient knows of the referral: they were asked, or it was accepted.
    pub fn visible_to_patient(&self) -> bool {
        self.patient_approval || self.state == State::Accepted
    }

    /// The caller's capacities on this referral (a practitioner could in principle be asked
    /// as specialist on a referral they did not make; never both, as self-referral is refused).
    pub fn capacity_of(&self, sub: &str, role: Role) -> Option<PartyAs> {
        match role {
            Role::Practitioner if sub == self.referrer_id => Some(PartyAs::Referrer),
            Role::Practitioner if sub == self.specialist_id => Some(PartyAs::Specialist),
            Role::Patient if sub == self.patient_id => Some(PartyAs::Patient),
            _ => None,
        }
    }

    /// Whether this party may see the referral at all now.
    pub fn visible_to(&self, party: PartyAs) -> bool {
        match party {
            PartyAs::Referrer => true,
            PartyAs::Specialist => self.reached_specialist(),
            PartyAs::Patient => self.visible_to_patient(),
        }
    }

    /// What `party` is shown. The patient never learns of the specialist's refusal (B5): to
    /// them a declined referral stays `pending_specialist`; they never see the referrer's note.
    pub fn view(&self, party: PartyAs) -> ReferralView {
        let patient = party == PartyAs::Patient;
        let transitions: Vec<Transition> = self
            .transitions
            .iter()
            .filter(|t| !(patient && t.to == State::Rejected))
            .cloned()
            .collect();
        let state = transitions.last().map(|t| t.to).unwrap_or(self.state);
        let decline_reason = if patient {
            None
        } else {
            transitions
                .iter()
                .find(|t| t.to == State::Rejected)
                .and_then(|t| t.reason.clone())
        };
        ReferralView {
            referral_id: self.referral_id.clone(),
            state,
            referrer_id: self.referrer_id.clone(),
            specialist_id: self.specialist_id.clone(),
            patient_id: self.patient_id.clone(),
            message: if patient { None } else { self.message.clone() },
            patient_approval: self.patient_approval,
            created_at: self.created_at,
            updated_at: transitions.last().map(|t| t.at).unwrap_or(self.created_at),
            patient_thread_id: if party == PartyAs::Specialist {
                None
            } else {
                Some(self.patient_thread_id.clone())
            },
            pair_thread_id: if patient {
                None
            } else {
                self.pair_thread_id.clone()
            },
            specialist_thread_id: if party == PartyAs::Referrer {
                None
            } else {
                self.specialist_thread_id.clone()
            },
            booking_url: if patient {
                self.booking_url.clone()
            } else {
                None
            },
            // Not to the patient: an expiry time that went by without an expiry would tell
            // them of a refusal they are not told of.
            expires_at: self
                .expires_at
                .filter(|_| !patient && self.state.is_pending()),
            decline_reason,
            transitions,
        }
    }
}

/// A referral as one party sees it (the body of every referral answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralView {
    pub referral_id: String,
    pub state: State,
    pub referrer_id: String,
    pub specialist_id: String,
    pub patient_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub patient_approval: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialist_thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_url: Option<String>,
    /// When a pending referral expires (B9): the referrer's and the specialist's views, absent
    /// once it is final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The specialist's reason, on a declined referral (the referrer's and the specialist's
    /// views only; the patient's never has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<DeclineReason>,
    pub transitions: Vec<Transition>,
}

/// The stored first answer of a request sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAnswer {
    /// SHA-256 of the request (route, referral, canonical body): the same key with another
    /// request is refused.
    pub request_sha256: String,
    pub referral_id: String,
    pub status: u16,
    pub body: serde_json::Value,
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + minute * 60, 0).expect("t")
    }

    fn step(from: Option<State>, to: State, by: &str, role: Role, minute: i64) -> Transition {
        Transition {
            from,
            to,
            by: by.into(),
            by_role: role,
            at: at(minute),
            reason: (to == State::Rejected).then(|| DeclineReason {
                code: ReasonCode::Other,
                text: Some("seen elsewhere".into()),
            }),
        }
    }

    /// A referral that went through `path` (states after the creation), approval as given.
    pub(crate) fn referral(approval: bool, path: &[State]) -> Referral {
        let first = if approval {
            State::PendingPatient
        } else {
            State::PendingSpecialist
        };
        let mut transitions = vec![step(None, first, "prac_a", Role::Practitioner, 0)];
        let mut state = first;
        for (n, to) in path.iter().enumerate() {
            let (by, role) = match state {
                State::PendingPatient => ("pat_1", Role::Patient),
                _ => ("prac_b", Role::Practitioner),
            };
            transitions.push(step(Some(state), *to, by, role, n as i64 + 1));
            state = *to;
        }
        let reached = !matches!(state, State::PendingPatient | State::PatientRejected);
        Referral {
            referral_id: "ref-1".into(),
            referrer_id: "prac_a".into(),
            specialist_id: "prac_b".into(),
            patient_id: "pat_1".into(),
            message: Some("note".into()),
            state,
            patient_approval: approval,
            created_at: at(0),
            updated_at: transitions.last().map(|t| t.at).unwrap_or(at(0)),
            patient_thread_id: "thr_ap".into(),
            pair_thread_id: reached.then(|| "pair-x".to_string()),
            pair_thread_new: reached,
            specialist_thread_id: (state == State::Accepted).then(|| "ref-1.thread".to_string()),
            booking_url: (state == State::Accepted)
                .then(|| "https://x/practitioners/prac_b".into()),
            expires_at: Some(at(14 * 24 * 60)),
            specialties: Some(vec!["Cardiology".into()]),
            names: PartyNames::default(),
            transitions,
        }
    }

    #[test]
    fn the_patient_never_sees_the_refusal_nor_the_note() {
        let r = referral(true, &[State::PendingSpecialist, State::Rejected]);
        let patient = r.view(PartyAs::Patient);
        assert_eq!(patient.state, State::PendingSpecialist);
        assert_eq!(patient.transitions.len(), 2);
        assert_eq!(patient.updated_at, at(1));
        assert_eq!(patient.message, None);
        assert_eq!(patient.pair_thread_id, None);
        assert_eq!(patient.decline_reason, None);
        assert!(patient.transitions.iter().all(|t| t.reason.is_none()));
        let json = serde_json::to_string(&patient).expect("json");
        assert!(
            !json.contains("reason") && !json.contains("seen elsewhere"),
            "{json}"
        );
        let referrer = r.view(PartyAs::Referrer);
        assert_eq!(referrer.state, State::Rejected);
        let reason = referrer
            .decline_reason
            .as_ref()
            .expect("the referrer sees the reason");
        assert_eq!(reason.code, ReasonCode::Other);
        assert_eq!(reason.text.as_deref(), Some("seen elsewhere"));
        assert_eq!(
            r.view(PartyAs::Specialist).decline_reason.as_ref(),
            Some(reason)
        );
        assert_eq!(referrer.transitions.len(), 3);
        assert_eq!(referrer.message.as_deref(), Some("note"));
        assert_eq!(r.view(PartyAs::Specialist).patient_thread_id, None);
    }

    #[test]
    fn lists_and_visibility_follow_the_state() {
        let parties =
            |r: &Referral| -> Vec<String> { r.list_entries().into_iter().map(|i| i.pk).collect() };
        let asked = referral(true, &[]);
        assert_eq!(
            parties(&asked),
            vec!["REFLIST#REFERRER#prac_a", "REFLIST#PATIENT#pat_1"]
        );
        assert!(!asked.visible_to(PartyAs::Specialist));
        let declined = referral(true, &[State::PatientRejected]);
        assert!(!declined.visible_to(PartyAs::Specialist));
        let direct = referral(false, &[]);
        assert_eq!(
            parties(&direct),
            vec!["REFLIST#REFERRER#prac_a", "REFLIST#SPECIALIST#prac_b"]
        );
        assert!(!direct.visible_to(PartyAs::Patient));
        let rejected = referral(false, &[State::Rejected]);
        assert!(!rejected.visible_to(PartyAs::Patient));
        let accepted = referral(false, &[State::Accepted]);
        assert_eq!(accepted.list_entries().len(), 3);
        assert_eq!(accepted.view(PartyAs::Patient).state, State::Accepted);
    }

    #[test]
    fn only_the_parties_have_a_capacity() {
        let r = referral(true, &[]);
        assert_eq!(
            r.capacity_of("prac_a", Role::Practitioner),
            Some(PartyAs::Referrer)
        );
        assert_eq!(
            r.capacity_of("prac_b", Role::Practitioner),
            Some(PartyAs::Specialist)
        );
        assert_eq!(
            r.capacity_of("pat_1", Role::Patient),
            Some(PartyAs::Patient)
        );
        assert_eq!(r.capacity_of("pat_1", Role::Practitioner), None);
        assert_eq!(r.capacity_of("prac_a", Role::PlatformAdmin), None);
        assert_eq!(r.capacity_of("prac_c", Role::Practitioner), None);
    }

    #[test]
    fn the_pair_key_ignores_order() {
        assert_eq!(keys::pair("b", "a"), keys::pair("a", "b"));
        assert_eq!(keys::pair("a", "b").pk, "REFPAIR#a#b");
    }
}
