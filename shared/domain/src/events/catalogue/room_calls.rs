//! Events of calls in meeting, user and group rooms (SPEC §5): a participant joined, a
//! participant left.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

/// Someone joined a call in a meeting, user or group room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomCallJoined {
    pub room_id: Id,
    pub call_id: Id,
    pub org_id: Id,
    pub participant_id: Id,
    /// Team members have an account; guests have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Id>,
}
impl Validate for RoomCallJoined {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomCallLeft {
    pub room_id: Id,
    pub call_id: Id,
    pub participant_id: Id,
    pub bandwidth: Bandwidth,
}
impl Validate for RoomCallLeft {}
