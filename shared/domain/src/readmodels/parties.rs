//! Patients, and every party's name as the list items copy it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Patient {
    pub patient_id: String,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub as_of: Option<DateTime<Utc>>,
}

/// A party's (patient's or practitioner's) name as the list items copy it: the newest
/// profile's name, and the number of references ([`super::keys::party_ref`]) taken on it. Every
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
