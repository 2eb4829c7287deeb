//! In-thread calls (A4): every join and leave of a call.

use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One join or leave of an in-thread call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallMove {
    #[serde(deserialize_with = "crate::time::de")]
    pub at: DateTime<Utc>,
    pub participant_id: String,
    pub role: CallRole,
    pub joined: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Call {
    pub call_id: String,
    pub thread_id: Option<String>,
    pub practitioner_id: Option<String>,
    pub media: Option<Media>,
    /// Every join and leave, in time order.
    pub moves: Vec<CallMove>,
}
