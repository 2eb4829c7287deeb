//! Value types shared by the events: identifiers, money, enumerations. Each validates itself
//! once at the edge (`parse, don't validate`); inside, they are trusted.

use serde::{Deserialize, Deserializer, Serialize};

/// An identifier from the platform: 1–128 characters of `[A-Za-z0-9_.:-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    pub fn parse(text: &str) -> Result<Id, String> {
        if text.is_empty() || text.len() > 128 {
            return Err("must be 1 to 128 characters".into());
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
        {
            return Err("may hold only letters, digits and _ . : -".into());
        }
        Ok(Id(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Id::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Free text with a length bound, trimmed, never empty (names, subjects, labels).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        if t.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters"));
        }
        if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err("must not hold control characters".into());
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A name of a person, organisation, clinic or room.
pub type Name = Text<200>;

/// An ISO 4217 currency code (three upper-case letters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    pub fn parse(text: &str) -> Result<Currency, String> {
        if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(text.to_string()))
        } else {
            Err("must be an ISO 4217 code such as EUR".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Money: integer minor units (cents) and a currency. Never floating point.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

/// Largest absolute amount of one money value an event may carry, in minor units: 10^12
/// (ten billion in a currency of two decimals). Far below `i64::MAX`, so that millions of
/// them add up without overflow; sums are still added with checks.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;

/// Checks an amount of minor units against [`MAX_AMOUNT_MINOR`] (either sign).
pub fn check_amount_minor(amount: i64) -> Result<(), String> {
    if (-MAX_AMOUNT_MINOR..=MAX_AMOUNT_MINOR).contains(&amount) {
        Ok(())
    } else {
        Err(format!(
            "must be between -{MAX_AMOUNT_MINOR} and {MAX_AMOUNT_MINOR} minor units"
        ))
    }
}

/// Who sent a message or acted in a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Patient,
    Practitioner,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Image,
    File,
    Audio,
    /// A system or default message: its text is shown to admins.
    System,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub platform: DevicePlatform,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Text<100>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<Text<40>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevicePlatform {
    Ios,
    Android,
    Web,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Approved,
    Pending,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    Away,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAnswer {
    Accepted,
    Rejected,
}

/// Kinds of payment items (SPEC A8). Refunds are negative; fees are items of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentType {
    BookedAppointment,
    ThreadRequest,
    Voucher,
    Refund,
    LateCancellationFee,
    NoShowFee,
}

impl PaymentType {
    /// Whether a completed payment of this type opens a consultation (SPEC A3).
    pub fn opens_consultation(self) -> bool {
        matches!(
            self,
            PaymentType::BookedAppointment | PaymentType::ThreadRequest | PaymentType::Voucher
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteType {
    Diagnosis,
    MedicalAdvice,
    Prescription,
    InPersonRecommendation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Audio,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallRole {
    Practitioner,
    Patient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingAreaStatus {
    Open,
    Closed,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomType {
    Meeting,
    User,
    Group,
}

/// Role of an account holder in one clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClinicRole {
    Admin,
    Coordinator,
    Reporter,
    Provider,
    Receptionist,
}

/// Participant type in a waiting-area call (SPEC C9): caller = patient side, host = provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantType {
    Caller,
    Host,
}

/// The six bandwidth figures reported when a participant leaves a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bandwidth {
    pub send_kbps_avg: u32,
    pub receive_kbps_avg: u32,
    pub send_kbps_max: u32,
    pub receive_kbps_max: u32,
    /// Packets lost, per thousand sent.
    pub packet_loss_permille: u32,
    pub round_trip_ms_avg: u32,
}
