//! A practitioner's profile (A5), the admin's availability override it carries, and the
//! practitioner's all-time totals items (A4, A7).

use super::{Names, Totals};
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    pub availability_override: Option<AvailabilityOverride>,
}

impl Practitioner {
    /// Whether a profile or availability event has been seen (an item holding only totals
    /// is not a listed practitioner yet).
    pub fn is_known(&self) -> bool {
        self.profile_as_of.is_some() || self.availability_as_of.is_some()
    }
}

/// An admin's availability override, as the override route sets it
/// (`PUT /admin/practitioners/{practitioner_id}/availability`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityOverride {
    pub availability: Availability,
    pub until: Option<DateTime<Utc>>,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

impl AvailabilityOverride {
    /// Whether the override still holds at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|u| now < u)
    }
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
