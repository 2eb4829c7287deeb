//! Events of the marketplace's people (SPEC §3, §4): a practitioner's profile and
//! availability, and a patient.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

/// The bounds of a response-time commitment, in hours (one hour to 30 days), for the events'
/// and the platform default alike.
pub const MIN_RESPONSE_TIME_HOURS: u32 = 1;
pub const MAX_RESPONSE_TIME_HOURS: u32 = 720;

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
    /// The practitioner's response-time commitment in hours (A11), when they made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_time_hours: Option<u32>,
}
impl Validate for PractitionerUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        check_amount_minor(self.price.amount_minor).map_err(|r| ("price.amount_minor", r))?;
        if self.price.amount_minor < 0 {
            return Err(("price.amount_minor", "must not be negative".into()));
        }
        if self.specialties.len() > 20 {
            return Err(("specialties", "at most 20".into()));
        }
        if let Some(h) = self.response_time_hours {
            if !(MIN_RESPONSE_TIME_HOURS..=MAX_RESPONSE_TIME_HOURS).contains(&h) {
                return Err((
                    "response_time_hours",
                    format!("must be {MIN_RESPONSE_TIME_HOURS} to {MAX_RESPONSE_TIME_HOURS}"),
                ));
            }
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
