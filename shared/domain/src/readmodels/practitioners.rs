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

/// Every practitioner's response-time commitment (A11), as their newest profile says, in one
/// item ([`super::keys::response_times`]); only practitioners whose profile ever carried one
/// are in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseTimes {
    pub practitioners: BTreeMap<String, Commitment>,
}

/// One practitioner's commitment: hours (none when the newest profile has none) and the time
/// of the profile that said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub hours: Option<u32>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

impl ResponseTimes {
    /// A profile's commitment at `at`: the newest profile wins; a profile without one clears
    /// an earlier one.
    pub fn set(&mut self, id: &str, hours: Option<u32>, at: DateTime<Utc>) {
        match self.practitioners.get_mut(id) {
            Some(c) if c.as_of <= at => {
                c.hours = hours;
                c.as_of = at;
            }
            Some(_) => {}
            None if hours.is_some() => {
                self.practitioners
                    .insert(id.to_string(), Commitment { hours, as_of: at });
            }
            None => {}
        }
    }

    /// The commitment of a thread's practitioners: the shortest any of them made, else
    /// `default_hours` (the platform's).
    pub fn thread_hours<'a>(
        &self,
        practitioners: impl IntoIterator<Item = &'a String>,
        default_hours: u32,
    ) -> u32 {
        practitioners
            .into_iter()
            .filter_map(|id| self.practitioners.get(id).and_then(|c| c.hours))
            .min()
            .unwrap_or(default_hours)
    }
}
