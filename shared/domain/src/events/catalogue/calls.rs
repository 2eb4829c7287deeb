//! Events of the audio and video calls of a thread (SPEC §3, §4): a side joined, a side left.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

/// A side joined an audio or video call of a thread. Only practitioners start calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallJoined {
    pub call_id: Id,
    pub thread_id: Id,
    pub practitioner_id: Id,
    pub participant_id: Id,
    pub participant_role: CallRole,
    pub media: Media,
}
impl Validate for CallJoined {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallLeft {
    pub call_id: Id,
    pub participant_id: Id,
    pub participant_role: CallRole,
}
impl Validate for CallLeft {}
