//! Events of waiting-area calls (SPEC §5): a queued call entered or abandoned, the segments
//! of its session (one per clinic it is transferred through), and the participants of each
//! segment.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

/// A caller entered a clinic's waiting area: a queued call, and the session that will cover the
/// whole call through transfers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedCallEntered {
    pub queued_call_id: Id,
    pub session_id: Id,
    pub org_id: Id,
    pub clinic_id: Id,
}
impl Validate for QueuedCallEntered {}

/// The caller left before any host joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedCallAbandoned {
    pub queued_call_id: Id,
    pub session_id: Id,
    pub segment_id: Id,
}
impl Validate for QueuedCallAbandoned {}

/// A segment of a session began in a clinic (the first one on entry, one more per transfer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentStarted {
    pub session_id: Id,
    pub segment_id: Id,
    pub queued_call_id: Id,
    pub org_id: Id,
    pub clinic_id: Id,
}
impl Validate for SegmentStarted {}

/// The call was transferred from this segment to a new segment in another clinic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentTransferred {
    pub session_id: Id,
    pub segment_id: Id,
    pub to_clinic_id: Id,
    pub to_segment_id: Id,
}
impl Validate for SegmentTransferred {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.segment_id == self.to_segment_id {
            return Err(("to_segment_id", "must differ from segment_id".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentEnded {
    pub session_id: Id,
    pub segment_id: Id,
}
impl Validate for SegmentEnded {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantJoined {
    pub session_id: Id,
    pub segment_id: Id,
    pub participant_id: Id,
    pub participant_type: ParticipantType,
    /// The account of a host; callers have none (no patient data is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Id>,
}
impl Validate for ParticipantJoined {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        match (self.participant_type, &self.account_id) {
            (ParticipantType::Host, None) => Err(("account_id", "required for a host".into())),
            (ParticipantType::Caller, Some(_)) => Err((
                "account_id",
                "a caller has no account (no patient data)".into(),
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantLeft {
    pub session_id: Id,
    pub segment_id: Id,
    pub participant_id: Id,
    pub bandwidth: Bandwidth,
}
impl Validate for ParticipantLeft {}
