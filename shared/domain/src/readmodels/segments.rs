//! The waiting area: queued calls, their segments (one per clinic a call passes through)
//! and each segment's participants; and the rules of a segment's consultation time (first
//! host join to segment end), which ingest applies to keep the tile statistics and the
//! Consultations report applies to its rows.

use crate::events::types::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueuedCall {
    pub queued_call_id: String,
    pub session_id: String,
    pub org_id: Option<String>,
    pub clinic_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub entered_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub abandoned_at: Option<DateTime<Utc>>,
    /// Ids of the session's segment items (sorted), kept by ingest: the segments whose copy of
    /// `entered_at` ([`Segment::session_entered_at`]) a change of it rewrites. Every event that
    /// creates a segment item writes this item too, so the two never miss each other. The item
    /// may exist with only this list (a segment event came before the queued call's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Segment {
    pub session_id: String,
    pub segment_id: String,
    pub queued_call_id: Option<String>,
    pub org_id: Option<String>,
    pub clinic_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub transferred_at: Option<DateTime<Utc>>,
    pub to_clinic_id: Option<String>,
    pub to_segment_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub abandoned_at: Option<DateTime<Utc>>,
    /// The session's waiting-area entry: a copy of its queued call's `entered_at`, kept by
    /// ingest because the Consultations report reads only the segment items.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::time::de_opt"
    )]
    pub session_entered_at: Option<DateTime<Utc>>,
    /// Every participant of this segment: copies of its `PART#` items, by participant id,
    /// written in the same transaction as the item they copy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<SegmentParticipant>,
}

/// One participant of one segment: first join, last leave, bandwidth at leave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentParticipant {
    pub session_id: String,
    pub segment_id: String,
    pub participant_id: String,
    pub participant_type: Option<ParticipantType>,
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::de_opt")]
    pub left_at: Option<DateTime<Utc>>,
    pub bandwidth: Option<Bandwidth>,
}

/// When a segment ended: its end, else its transfer, else its abandonment.
pub fn segment_end(seg: &Segment) -> Option<DateTime<Utc>> {
    seg.ended_at.or(seg.transferred_at).or(seg.abandoned_at)
}

/// The first join of a host among `(type, joined)` pairs.
pub(crate) fn first_host_join(
    participants: impl Iterator<Item = (Option<ParticipantType>, Option<DateTime<Utc>>)>,
) -> Option<DateTime<Utc>> {
    participants
        .filter(|(kind, _)| *kind == Some(ParticipantType::Host))
        .filter_map(|(_, joined)| joined)
        .min()
}

/// Consultation time: first host join to segment end (None without either).
pub(crate) fn consultation_between(
    first_host: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Option<i64> {
    Some((end? - first_host?).num_seconds().max(0))
}

/// Consultation time of a segment: first host join to segment end (None without a host).
pub fn consultation_seconds(seg: &Segment, participants: &[&SegmentParticipant]) -> Option<i64> {
    let first_host = first_host_join(
        participants
            .iter()
            .map(|p| (p.participant_type, p.joined_at)),
    );
    consultation_between(first_host, segment_end(seg))
}

/// The participants of a segment by join time (then id): the copies on its item.
pub fn segment_participants(seg: &Segment) -> Vec<&SegmentParticipant> {
    let mut parts: Vec<&SegmentParticipant> = seg.participants.iter().collect();
    parts.sort_by(|a, b| (a.joined_at, &a.participant_id).cmp(&(b.joined_at, &b.participant_id)));
    parts
}
