//! Room calls: one item per participant of a call in an organisation's room.

use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomCallParticipant {
    pub call_id: String,
    pub participant_id: String,
    pub room_id: String,
    pub org_id: Option<String>,
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub left_at: Option<DateTime<Utc>>,
    pub bandwidth: Option<Bandwidth>,
}
