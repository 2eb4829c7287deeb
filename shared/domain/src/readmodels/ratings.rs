//! Ratings (A6): one item per rating, and the platform's rating totals in one item.

use super::Names;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every practitioner's rating count and stars summed (A6), one item for the whole platform
/// ([`super::keys::rating_totals`]): practitioner id → `[count, stars]` (a pair, not named
/// fields, to keep the item small: the id, about 7 bytes of JSON and the digits, 17 bytes per
/// practitioner on the demo data; the 400 KB item limit this sets is in `docs/dynamodb.md`).
/// Ingest moves it in the same transaction and by the same amounts as the
/// `rating_count`/`rating_stars` totals on the practitioner's profile; a practitioner back at
/// no rating is left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RatingTotals {
    pub practitioners: BTreeMap<String, (i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub rating_id: String,
    pub patient_id: String,
    pub practitioner_id: String,
    pub stars: u8,
    pub comment: Option<String>,
    #[serde(deserialize_with = "crate::time::de")]
    pub submitted_at: DateTime<Utc>,
    /// The patient's and practitioner's names (A6).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: Names,
}
