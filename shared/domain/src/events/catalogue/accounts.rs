//! Events of video-call accounts (SPEC §5): an account holder, a membership of a clinic with
//! its role, a login.

use super::Validate;
use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A video-call account holder (service provider or staff). Patients have no account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountUpserted {
    pub account_id: Id,
    pub org_id: Id,
    pub email: Text<254>,
    pub name: Name,
    /// The account's platform role (e.g. `org_admin`, `standard`).
    pub platform_role: Id,
    /// The account's access level (e.g. `full`, `limited`).
    pub access_level: Id,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
}
impl Validate for AccountUpserted {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let e = self.email.as_str();
        let ok = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            && !e.contains(char::is_whitespace);
        if !ok {
            return Err(("email", "must be an email address".into()));
        }
        match self.deactivated_at {
            Some(d) if d < self.created_at => {
                Err(("deactivated_at", "must not be before created_at".into()))
            }
            _ => Ok(()),
        }
    }

    fn instants(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        let mut at = vec![("created_at", self.created_at)];
        at.extend(self.deactivated_at.map(|d| ("deactivated_at", d)));
        at
    }
}

/// An account's membership of a clinic and its role there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipUpserted {
    pub account_id: Id,
    pub clinic_id: Id,
    pub org_id: Id,
    pub clinic_role: ClinicRole,
    pub granted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}
impl Validate for MembershipUpserted {
    fn instants(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        let mut at = vec![("granted_at", self.granted_at)];
        at.extend(self.revoked_at.map(|r| ("revoked_at", r)));
        at
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLoggedIn {
    pub account_id: Id,
    pub org_id: Id,
}
impl Validate for AccountLoggedIn {}
