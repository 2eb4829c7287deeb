//! The report configuration of an organisation (SPEC C1): default time zone, default minimum
//! consultation duration, and tags (named labels on clinics and rooms, shown by the room-call
//! report). Read by the org roles, changed by org admins only; every change is written in one
//! transaction with its audit record (D4), conditioned on the version read (a concurrent change
//! answers 409).
//!
//! Key: `pk = ORG#<org id>`, `sk = REPORT_CONFIG` (no index: one item per organisation, read by
//! key). An organisation that never saved one reads the defaults (UTC, 0 seconds, no tags) at
//! version 0.

use crate::audit::{audit_op, AuditRecord};
use crate::auth::Principal;
use crate::error::Error;
use crate::ports::{Condition, Item, Key, Store, StoreError, TxOp};
use crate::readmodels::{keys, Clinic, Room};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Longest minimum consultation duration accepted (one day).
pub const MAX_MIN_DURATION_SECONDS: u32 = 86_400;
/// Most tags per organisation.
pub const MAX_TAGS: usize = 100;
/// Most clinics and rooms one tag may name.
pub const MAX_TAG_TARGETS: usize = 200;
/// Most distinct clinics and rooms all tags together may name (each is read once to check it).
pub const MAX_DISTINCT_TARGETS: usize = 500;
/// Longest tag name (characters).
pub const MAX_TAG_NAME: usize = 100;

/// The key of an organisation's report configuration.
pub fn config_key(org_id: &str) -> Key {
    Key::new(format!("ORG#{org_id}"), "REPORT_CONFIG")
}

/// A named label on clinics and rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub name: String,
    #[serde(default)]
    pub clinic_ids: Vec<String>,
    #[serde(default)]
    pub room_ids: Vec<String>,
}

/// An organisation's report configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportConfig {
    pub org_id: String,
    /// IANA zone name, e.g. `Australia/Sydney`.
    pub time_zone: String,
    pub min_duration_seconds: u32,
    pub tags: Vec<Tag>,
    /// 0 until first saved; each change adds one.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

impl ReportConfig {
    /// The configuration of an organisation that never saved one.
    pub fn defaults(org_id: &str) -> Self {
        Self {
            org_id: org_id.to_string(),
            time_zone: "UTC".into(),
            min_duration_seconds: 0,
            tags: Vec::new(),
            version: 0,
            updated_at: None,
            updated_by: None,
        }
    }

    /// The tag names on a clinic or room, sorted.
    pub fn tags_of(&self, clinic_id: Option<&str>, room_id: Option<&str>) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .tags
            .iter()
            .filter(|t| {
                clinic_id.is_some_and(|c| t.clinic_ids.iter().any(|x| x == c))
                    || room_id.is_some_and(|r| t.room_ids.iter().any(|x| x == r))
            })
            .map(|t| t.name.as_str())
            .collect();
        names.sort_unstable();
        names
    }
}

/// The body of `PUT /orgs/{org_id}/reports/config`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    pub time_zone: String,
    pub min_duration_seconds: u32,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The version the change was made from (0 before the first save): required (428 without
    /// it), and 409 when no longer current.
    #[serde(default)]
    pub version: Option<u64>,
}

/// Parses an IANA zone name, answering a 400 on `field` (never echoing the value).
pub fn parse_zone(field: &str, name: &str) -> Result<chrono_tz::Tz, Error> {
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| Error::invalid(field, "must be an IANA time zone name"))
}

/// Reads the configuration (the defaults when never saved).
pub async fn load_config(store: &dyn Store, org_id: &str) -> Result<ReportConfig, StoreError> {
    match store.get(&config_key(org_id)).await? {
        Some(item) => item.decode(),
        None => Ok(ReportConfig::defaults(org_id)),
    }
}

async fn check_change(store: &dyn Store, org_id: &str, change: &ConfigChange) -> Result<(), Error> {
    parse_zone("time_zone", &change.time_zone)?;
    if change.min_duration_seconds > MAX_MIN_DURATION_SECONDS {
        return Err(Error::invalid(
            "min_duration_seconds",
            format!("must be at most {MAX_MIN_DURATION_SECONDS}"),
        ));
    }
    if change.tags.len() > MAX_TAGS {
        return Err(Error::invalid("tags", format!("at most {MAX_TAGS} tags")));
    }
    let mut names = BTreeSet::new();
    for (i, tag) in change.tags.iter().enumerate() {
        let name = tag.name.trim();
        if name.is_empty() || name.chars().count() > MAX_TAG_NAME || name != tag.name {
            return Err(Error::invalid(
                &format!("tags[{i}].name"),
                format!("must be 1 to {MAX_TAG_NAME} characters without surrounding spaces"),
            ));
        }
        if !names.insert(crate::readmodels::fold_name(name)) {
            return Err(Error::invalid(
                &format!("tags[{i}].name"),
                "must differ from the other tag names",
            ));
        }
        if tag.clinic_ids.len() + tag.room_ids.len() > MAX_TAG_TARGETS {
            return Err(Error::invalid(
                &format!("tags[{i}]"),
                format!("at most {MAX_TAG_TARGETS} clinics and rooms per tag"),
            ));
        }
    }
    // Every clinic and room a tag names must be this organisation's: each distinct id is read
    // once (at most MAX_DISTINCT_TARGETS reads), errors name the first place it appears.
    let clinic_ids: BTreeSet<&str> = change
        .tags
        .iter()
        .flat_map(|t| t.clinic_ids.iter().map(String::as_str))
        .collect();
    let room_ids: BTreeSet<&str> = change
        .tags
        .iter()
        .flat_map(|t| t.room_ids.iter().map(String::as_str))
        .collect();
    if clinic_ids.len() + room_ids.len() > MAX_DISTINCT_TARGETS {
        return Err(Error::invalid(
            "tags",
            format!("at most {MAX_DISTINCT_TARGETS} distinct clinics and rooms in all"),
        ));
    }
    let mut ok: HashMap<(bool, &str), bool> = HashMap::new();
    for (i, tag) in change.tags.iter().enumerate() {
        let targets = tag
            .clinic_ids
            .iter()
            .enumerate()
            .map(|(j, id)| (true, j, id.as_str()))
            .chain(
                tag.room_ids
                    .iter()
                    .enumerate()
                    .map(|(j, id)| (false, j, id.as_str())),
            );
        for (is_clinic, j, id) in targets {
            let found = match ok.get(&(is_clinic, id)) {
                Some(found) => *found,
                None => {
                    let found = if id.is_empty() || id.len() > 128 {
                        false
                    } else if is_clinic {
                        match store.get(&keys::clinic(id)).await? {
                            Some(item) => item.decode::<Clinic>()?.org_id == org_id,
                            None => false,
                        }
                    } else {
                        match store.get(&keys::room(id)).await? {
                            Some(item) => item.decode::<Room>()?.org_id == org_id,
                            None => false,
                        }
                    };
                    ok.insert((is_clinic, id), found);
                    found
                }
            };
            if !found {
                let (list, what) = if is_clinic {
                    ("clinic_ids", "no such clinic in this organisation")
                } else {
                    ("room_ids", "no such room in this organisation")
                };
                return Err(Error::invalid(&format!("tags[{i}].{list}[{j}]"), what));
            }
        }
    }
    Ok(())
}

/// Validates and saves a change with its audit record (`report_config.updated`); answers the
/// saved configuration. A change without `version` answers 428 (every org admin of the
/// organisation shares the configuration: a write that does not say what it was made from
/// could undo another's change unseen); a stale one (or a concurrent change) 409.
pub async fn save_config(
    store: &dyn Store,
    actor: &Principal,
    now: DateTime<Utc>,
    org_id: &str,
    change: ConfigChange,
) -> Result<ReportConfig, Error> {
    check_change(store, org_id, &change).await?;
    let Some(version) = change.version else {
        return Err(Error::PreconditionRequired("version"));
    };
    let current = load_config(store, org_id).await?;
    if version != current.version {
        return Err(Error::Conflict(
            "the configuration changed since that version was read; read it again".into(),
        ));
    }
    let next = ReportConfig {
        org_id: org_id.to_string(),
        time_zone: change.time_zone,
        min_duration_seconds: change.min_duration_seconds,
        tags: change.tags,
        version: current.version + 1,
        updated_at: Some(now),
        updated_by: Some(actor.sub.clone()),
    };
    let key = config_key(org_id);
    let item = Item::new(
        key.pk,
        key.sk,
        serde_json::to_value(&next).map_err(|_| Error::Internal)?,
    )
    .with_version(next.version);
    let condition = if current.version == 0 {
        Condition::NotExists
    } else {
        Condition::VersionIs(current.version)
    };
    let record = AuditRecord::in_org(
        actor,
        now,
        "report_config.updated",
        org_id,
        org_id,
        serde_json::json!({
            "from_version": current.version,
            "to_version": next.version,
            "time_zone": next.time_zone,
            "min_duration_seconds": next.min_duration_seconds,
            "tag_count": next.tags.len(),
        }),
    );
    match store
        .transact(vec![TxOp::put(item, condition), audit_op(&record)])
        .await
    {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => Err(
            Error::Conflict("the configuration changed at the same time; read it again".into()),
        ),
        Err(e) => Err(e.into()),
    }
}
