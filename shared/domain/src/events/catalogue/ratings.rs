//! The event of a patient rating a practitioner (SPEC §3, §4): one to five stars.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

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
