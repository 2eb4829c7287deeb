//! Organisations and what they hold: clinics, rooms, accounts (and their names in one
//! item), clinic memberships. Snapshots: the newest event wins.

use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Organisation {
    pub org_id: String,
    pub name: String,
    pub state: String,
    pub specialty: String,
    pub contract: String,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clinic {
    pub clinic_id: String,
    pub org_id: String,
    pub name: String,
    pub subdomain: String,
    pub waiting_area_status: WaitingAreaStatus,
    pub state: String,
    pub specialty: String,
    pub contract: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub room_id: String,
    pub org_id: String,
    pub clinic_id: String,
    pub room_type: RoomType,
    pub name: String,
    pub owner_account_id: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub platform_role: String,
    pub access_level: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub deactivated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

/// Every account's name in one organisation (`ORG#<org>`/`ACCOUNT_NAMES`), written by ingest
/// with each account's snapshot, in the same transaction: an entry changes only for an event
/// as new as its own (`as_of`), the rule of the account item, so the two agree whatever order
/// the events came in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountNames {
    pub accounts: BTreeMap<String, AccountName>,
}

/// An account's name as of its newest event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountName {
    pub name: String,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub account_id: String,
    pub clinic_id: String,
    pub org_id: String,
    pub clinic_role: ClinicRole,
    #[serde(deserialize_with = "crate::time::de")]
    pub granted_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de")]
    pub as_of: DateTime<Utc>,
}
