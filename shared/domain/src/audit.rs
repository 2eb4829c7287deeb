//! The audit trail (SPEC D4): every report generation, download and email, availability
//! override and referral transition writes one record — who, what, when, which organisation,
//! parameters, row count, object key. Records are written in the same transaction as the
//! change they describe ([`audit_op`]), so there is never a change without its record.
//!
//! Keys: `pk = AUDIT#<scope>` (`ORG#<id>` for organisation reports, `PLATFORM` for the admin
//! area, `REFERRAL#<id>` for referrals), `sk = <time>#<record id>`; `gsi1 = AUDIT#ACTOR#<sub>` /
//! same sort key, for "what did this person do"; `gsi2 = AUDIT#ALL` / same sort key, every
//! record in time order (A10: the trail in view, `crate::admin::audit_trail`). No personal
//! data: ids only.

use crate::auth::Principal;
use crate::ports::{Condition, Item, TxOp};
use crate::readmodels::sort_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `gsi2` partition of every record (A10).
pub const ALL_RECORDS: &str = "AUDIT#ALL";
/// The `gsi1` partition prefix of one actor's records.
pub const ACTOR_PREFIX: &str = "AUDIT#ACTOR#";

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub record_id: String,
    pub at: DateTime<Utc>,
    pub actor_sub: String,
    pub actor_role: String,
    /// What happened, e.g. `report.generated`, `report.downloaded`, `report.emailed`,
    /// `availability.overridden`, `referral.accepted`.
    pub action: String,
    /// Where it happened: `ORG#<id>`, `PLATFORM`, `REFERRAL#<id>`.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The object acted on (report id, practitioner id, referral id, ...).
    pub object_id: String,
    /// Parameters of the action (report parameters, old and new values, ...). Ids and values
    /// only, never names, emails or message text.
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
}

impl AuditRecord {
    /// A record of `action` on `object_id` by `actor` at `at`, in `scope`.
    pub fn new(
        actor: &Principal,
        at: DateTime<Utc>,
        action: &str,
        scope: &str,
        object_id: &str,
    ) -> Self {
        Self {
            record_id: crate::ids::new_id("aud", at),
            at,
            actor_sub: actor.sub.clone(),
            actor_role: actor.role.as_str().to_string(),
            action: action.to_string(),
            scope: scope.to_string(),
            org_id: None,
            object_id: object_id.to_string(),
            params: serde_json::Value::Null,
            row_count: None,
            object_key: None,
        }
    }

    /// A record of `action` on `object_id` in organisation `org_id`'s scope (`ORG#<org_id>`),
    /// with its `params`.
    pub fn in_org(
        actor: &Principal,
        at: DateTime<Utc>,
        action: &str,
        org_id: &str,
        object_id: &str,
        params: serde_json::Value,
    ) -> Self {
        Self {
            org_id: Some(org_id.to_string()),
            params,
            ..Self::new(actor, at, action, &format!("ORG#{org_id}"), object_id)
        }
    }

    /// The partition holding a scope's records.
    pub fn partition(scope: &str) -> String {
        format!("AUDIT#{scope}")
    }

    pub fn item(&self) -> Item {
        let sk = format!("{}#{}", sort_time(self.at), self.record_id);
        Item::new(
            Self::partition(&self.scope),
            sk.clone(),
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        )
        .with_gsi1(format!("{ACTOR_PREFIX}{}", self.actor_sub), sk.clone())
        .with_gsi2(ALL_RECORDS, sk)
    }
}

/// The transaction write that records `record` (never overwrites: ids are fresh).
pub fn audit_op(record: &AuditRecord) -> TxOp {
    TxOp::put(record.item(), Condition::NotExists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn records_are_keyed_by_scope_and_actor_in_time_order() {
        let actor = Principal {
            sub: "acc-1".into(),
            role: Role::OrgAdmin,
            orgs: vec!["org-1".into()],
            clinics: vec![],
        };
        let at = DateTime::from_timestamp(1_700_000_000, 0).expect("t");
        let params = serde_json::json!({"report_type": "clinics"});
        let r = AuditRecord::in_org(&actor, at, "report.downloaded", "org-1", "rep-1", params);
        assert_eq!(
            (r.scope.as_str(), r.org_id.as_deref(), r.object_id.as_str()),
            ("ORG#org-1", Some("org-1"), "rep-1")
        );
        assert_eq!(r.params["report_type"], "clinics");
        let item = r.item();
        assert_eq!(item.pk, "AUDIT#ORG#org-1");
        assert!(item.sk.starts_with("2023-11-14T22:13:20.000Z#aud-"));
        assert_eq!(
            item.gsi1.as_ref().map(|k| k.pk.as_str()),
            Some("AUDIT#ACTOR#acc-1")
        );
        assert_eq!(
            item.gsi2.as_ref().map(|k| (k.pk.as_str(), k.sk == item.sk)),
            Some(("AUDIT#ALL", true))
        );
        let back: AuditRecord = item.decode().expect("decode");
        assert_eq!(back, r);
    }
}
