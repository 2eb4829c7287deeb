//! The Consultations report (SPEC C9): one row per participant per segment of every waiting-area
//! call in the period. A pure function from read models to rows.
//!
//! - The session id is shared by every segment of a call; a call transferred across clinics
//!   shows one segment per clinic, each with its own clinic, duration and providers.
//! - Rows follow the segments by start (then session and segment id), each segment's
//!   participants by join time; the segments of a transferred call follow each other in time.
//! - A segment is in the report when it started in the period (and, for a clinic-level report,
//!   in that clinic). Segments without any host whose consultation time (first host join to
//!   segment end) is shorter than the minimum duration are left out; abandoned calls (the
//!   caller left before any host joined) are always shown, with their abandon time.
//! - User names are those of account holders (hosts) only: callers have no stored identity.
//! - A segment nobody joined still shows one row (participant columns empty), so an abandoned
//!   call is never lost.

use crate::events::types::ParticipantType;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;
use crate::readmodels::{Account, Clinic, Organisation, Segment, SegmentParticipant};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What the builder reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsultationInput {
    pub organisation: Organisation,
    /// The organisation's clinics by id.
    pub clinics: HashMap<String, Clinic>,
    /// The organisation's accounts by id (for host names).
    pub accounts: HashMap<String, Account>,
    /// The segments that started in the period, each carrying its participants and its
    /// session's waiting-area entry (kept on the segment item by ingest).
    pub segments: Vec<Segment>,
}

/// Which segments the report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationFilter {
    /// Segments that started at or after this instant...
    pub start: DateTime<Utc>,
    /// ...and before this one.
    pub end: DateTime<Utc>,
    /// Only this clinic's segments (clinic-level reports, C10).
    pub clinic_id: Option<String>,
    pub min_duration_seconds: u32,
}

/// The columns, in order (their descriptions make the field-descriptions sheet).
pub const FIELDS: &[FieldDescription] = &[
    FieldDescription {
        name: "Organisation",
        meaning: "Organisation name",
        unit: "",
    },
    FieldDescription {
        name: "Clinic",
        meaning: "Clinic (waiting area) of this segment",
        unit: "",
    },
    FieldDescription {
        name: "Queued call ID",
        meaning: "The caller's entry in the waiting-area queue",
        unit: "",
    },
    FieldDescription {
        name: "Session ID",
        meaning: "The whole call; the same for every segment of a transferred call",
        unit: "",
    },
    FieldDescription {
        name: "Segment ID",
        meaning: "The part of the call in one clinic",
        unit: "",
    },
    FieldDescription {
        name: "Participant ID",
        meaning: "One participant of the segment (every participant has their own)",
        unit: "",
    },
    FieldDescription {
        name: "Waiting-area entry",
        meaning: "When the caller entered the waiting area",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "User name",
        meaning: "Name of the account holder taking part (hosts only; no patient data is stored)",
        unit: "",
    },
    FieldDescription {
        name: "Participant type",
        meaning: "caller (the patient side) or host (a service provider)",
        unit: "",
    },
    FieldDescription {
        name: "Joined",
        meaning: "When the participant first joined the segment",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Left",
        meaning: "When the participant last left the segment",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Attendance duration",
        meaning: "Left minus joined",
        unit: "duration [h]:mm:ss",
    },
    FieldDescription {
        name: "Segment start",
        meaning: "When the segment began in this clinic",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Segment end",
        meaning: "When the segment ended (the session end for its last segment)",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Segment duration",
        meaning: "Segment end minus segment start: the call's time in this clinic",
        unit: "duration [h]:mm:ss",
    },
    FieldDescription {
        name: "Transfer time",
        meaning: "When the call was transferred out of this segment",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Transferred to clinic",
        meaning: "Clinic the call was transferred to",
        unit: "",
    },
    FieldDescription {
        name: "Transferred to segment ID",
        meaning: "Segment the call continued in",
        unit: "",
    },
    FieldDescription {
        name: "Participants in segment",
        meaning: "Number of participants who joined the segment",
        unit: "count",
    },
    FieldDescription {
        name: "Abandoned",
        meaning: "The caller left before any host joined",
        unit: "TRUE / FALSE",
    },
    FieldDescription {
        name: "Abandon time",
        meaning: "When the caller left unanswered",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Send average",
        meaning: "Average sending bandwidth of the participant",
        unit: "kbit/s",
    },
    FieldDescription {
        name: "Receive average",
        meaning: "Average receiving bandwidth of the participant",
        unit: "kbit/s",
    },
    FieldDescription {
        name: "Send maximum",
        meaning: "Highest sending bandwidth of the participant",
        unit: "kbit/s",
    },
    FieldDescription {
        name: "Receive maximum",
        meaning: "Highest receiving bandwidth of the participant",
        unit: "kbit/s",
    },
    FieldDescription {
        name: "Packet loss",
        meaning: "Packets lost per thousand sent",
        unit: "‰",
    },
    FieldDescription {
        name: "Round trip average",
        meaning: "Average network round-trip time",
        unit: "ms",
    },
];

/// When a segment ended: its end, else its transfer, else its abandonment.
pub fn segment_end(seg: &Segment) -> Option<DateTime<Utc>> {
    seg.ended_at.or(seg.transferred_at).or(seg.abandoned_at)
}

fn seconds(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Cell {
    match (from, to) {
        (Some(a), Some(b)) if b >= a => Cell::Seconds((b - a).num_seconds()),
        _ => Cell::Empty,
    }
}

/// Consultation time of a segment: first host join to segment end (None without a host).
pub fn consultation_seconds(seg: &Segment, participants: &[&SegmentParticipant]) -> Option<i64> {
    let first_host = participants
        .iter()
        .filter(|p| p.participant_type == Some(ParticipantType::Host))
        .filter_map(|p| p.joined_at)
        .min()?;
    let end = segment_end(seg)?;
    Some((end - first_host).num_seconds().max(0))
}

/// Whether a segment is in the report: started in the period (and the clinic), and abandoned or
/// answered for at least the minimum duration.
pub fn segment_in_report(
    seg: &Segment,
    participants: &[&SegmentParticipant],
    filter: &ConsultationFilter,
) -> bool {
    let Some(start) = seg.started_at else {
        return false;
    };
    if start < filter.start || start >= filter.end {
        return false;
    }
    if filter
        .clinic_id
        .as_deref()
        .is_some_and(|c| seg.clinic_id.as_deref() != Some(c))
    {
        return false;
    }
    if seg.abandoned_at.is_some() {
        return true;
    }
    match consultation_seconds(seg, participants) {
        Some(secs) => secs >= i64::from(filter.min_duration_seconds),
        // No host and not marked abandoned (e.g. still waiting): shown only without a minimum.
        None => filter.min_duration_seconds == 0,
    }
}

/// The participants of a segment by join time (then id): the copies on its item.
pub fn segment_participants(seg: &Segment) -> Vec<&SegmentParticipant> {
    let mut parts: Vec<&SegmentParticipant> = seg.participants.iter().collect();
    parts.sort_by(|a, b| (a.joined_at, &a.participant_id).cmp(&(b.joined_at, &b.participant_id)));
    parts
}

/// The rows of one segment (none when the segment is not in the report), participants by
/// join time (then id). Everything comes from the segment item: its participants and its
/// session's waiting-area entry are copied there by ingest.
pub fn segment_rows(
    input: &ConsultationInput,
    seg: &Segment,
    filter: &ConsultationFilter,
) -> Vec<Vec<Cell>> {
    let clinic_name = |id: Option<&str>| -> Cell {
        id.map_or(Cell::Empty, |id| {
            Cell::text(input.clinics.get(id).map_or(id, |c| c.name.as_str()))
        })
    };
    let parts = segment_participants(seg);
    if !segment_in_report(seg, &parts, filter) {
        return Vec::new();
    }
    // `segment.started` names the queued call, and only a started segment is in the report.
    let queued_call_id = seg.queued_call_id.clone();
    let entered = seg.session_entered_at;
    let end = segment_end(seg);
    let common_head = vec![
        Cell::text(input.organisation.name.clone()),
        clinic_name(seg.clinic_id.as_deref()),
        Cell::opt_text(queued_call_id),
        Cell::text(seg.session_id.clone()),
        Cell::text(seg.segment_id.clone()),
    ];
    let common_tail = vec![
        Cell::opt_time(seg.started_at),
        Cell::opt_time(end),
        seconds(seg.started_at, end),
        Cell::opt_time(seg.transferred_at),
        clinic_name(seg.to_clinic_id.as_deref()),
        Cell::opt_text(seg.to_segment_id.clone()),
        Cell::Int(parts.len() as i64),
        Cell::Bool(seg.abandoned_at.is_some()),
        Cell::opt_time(seg.abandoned_at),
    ];
    let mut rows = Vec::with_capacity(parts.len().max(1));
    if parts.is_empty() {
        let mut row = common_head;
        row.push(Cell::Empty);
        row.push(Cell::opt_time(entered));
        row.extend([
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]);
        row.extend(common_tail);
        row.extend(std::iter::repeat_n(Cell::Empty, 6));
        rows.push(row);
        return rows;
    }
    for p in parts {
        // One allocation per row: the row has every column's room from the start.
        let mut row = Vec::with_capacity(FIELDS.len());
        row.extend(common_head.iter().cloned());
        row.push(Cell::text(p.participant_id.clone()));
        row.push(Cell::opt_time(entered));
        let is_host = p.participant_type == Some(ParticipantType::Host);
        let name = if is_host {
            p.account_id
                .as_deref()
                .and_then(|a| input.accounts.get(a))
                .map(|a| a.name.clone())
        } else {
            None
        };
        row.push(Cell::opt_text(name));
        row.push(Cell::opt_text(p.participant_type.map(|t| match t {
            ParticipantType::Caller => "caller",
            ParticipantType::Host => "host",
        })));
        row.push(Cell::opt_time(p.joined_at));
        row.push(Cell::opt_time(p.left_at));
        row.push(seconds(p.joined_at, p.left_at));
        row.extend(common_tail.iter().cloned());
        row.extend(bandwidth_cells(p.bandwidth));
        rows.push(row);
    }
    rows
}

/// The order of segments in the report: by start, then session id, then segment id — the
/// order of the segment indexes, so the report can also be written page by page
/// ([`super::load::stream_consultation_rows`]) with the same result.
pub fn segment_order(seg: &Segment) -> (Option<DateTime<Utc>>, &str, &str) {
    (
        seg.started_at,
        seg.session_id.as_str(),
        seg.segment_id.as_str(),
    )
}

/// The report's rows: segments in [`segment_order`], each segment's participants by join time.
pub fn build_rows(input: &ConsultationInput, filter: &ConsultationFilter) -> Vec<Vec<Cell>> {
    let mut segments: Vec<&Segment> = input.segments.iter().collect();
    segments.sort_by(|a, b| segment_order(a).cmp(&segment_order(b)));
    segments
        .into_iter()
        .flat_map(|seg| segment_rows(input, seg, filter))
        .collect()
}

/// The six bandwidth columns of a participant (empty while it has not left), shared by the
/// Consultations and the room-call reports.
pub(crate) fn bandwidth_cells(bandwidth: Option<crate::events::types::Bandwidth>) -> [Cell; 6] {
    match bandwidth {
        Some(b) => [
            Cell::Int(i64::from(b.send_kbps_avg)),
            Cell::Int(i64::from(b.receive_kbps_avg)),
            Cell::Int(i64::from(b.send_kbps_max)),
            Cell::Int(i64::from(b.receive_kbps_max)),
            Cell::Int(i64::from(b.packet_loss_permille)),
            Cell::Int(i64::from(b.round_trip_ms_avg)),
        ],
        None => std::array::from_fn(|_| Cell::Empty),
    }
}
