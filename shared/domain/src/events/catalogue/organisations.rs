//! Events of the video-call platform's structure (SPEC §5): organisations, their clinics
//! (each also a waiting area) and their rooms, each a snapshot that may carry its deletion.

use super::Validate;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The checks of a snapshot whose only rule is its lifetime: `created_at` and an optional
/// `deleted_at`, not before it.
macro_rules! snapshot_with_lifetime {
    ($event:ty) => {
        impl Validate for $event {
            fn validate(&self) -> Result<(), (&'static str, String)> {
                check_deleted(self.created_at, self.deleted_at)
            }

            fn instants(&self) -> Vec<(&'static str, DateTime<Utc>)> {
                lifetime(self.created_at, self.deleted_at)
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationUpserted {
    pub org_id: Id,
    pub name: Name,
    pub state: Text<100>,
    pub specialty: Text<100>,
    pub contract: Text<100>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}
snapshot_with_lifetime!(OrganisationUpserted);

/// A deletion time must not come before the creation time.
fn check_deleted(
    created: DateTime<Utc>,
    deleted: Option<DateTime<Utc>>,
) -> Result<(), (&'static str, String)> {
    match deleted {
        Some(d) if d < created => Err(("deleted_at", "must not be before created_at".into())),
        _ => Ok(()),
    }
}

/// The instants of a snapshot's creation and deletion, by field.
fn lifetime(
    created: DateTime<Utc>,
    deleted: Option<DateTime<Utc>>,
) -> Vec<(&'static str, DateTime<Utc>)> {
    let mut at = vec![("created_at", created)];
    at.extend(deleted.map(|d| ("deleted_at", d)));
    at
}

/// A clinic, which is also its waiting area. The fields it shares with
/// [`OrganisationUpserted`] are spelled out in both: serde's `flatten` cannot be combined with
/// `deny_unknown_fields`, which every event needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicUpserted {
    pub clinic_id: Id,
    pub org_id: Id,
    pub name: Name,
    pub subdomain: Id,
    pub waiting_area_status: WaitingAreaStatus,
    pub state: Text<100>,
    pub specialty: Text<100>,
    pub contract: Text<100>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}
snapshot_with_lifetime!(ClinicUpserted);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomUpserted {
    pub room_id: Id,
    pub org_id: Id,
    pub clinic_id: Id,
    pub room_type: RoomType,
    pub name: Name,
    /// The one user a user room belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_account_id: Option<Id>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}
impl Validate for RoomUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if (self.room_type == RoomType::User) != self.owner_account_id.is_some() {
            return Err(("owner_account_id", "set exactly for user rooms".into()));
        }
        check_deleted(self.created_at, self.deleted_at)
    }

    fn instants(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        lifetime(self.created_at, self.deleted_at)
    }
}
