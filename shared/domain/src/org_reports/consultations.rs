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
use crate::readmodels::segments::{consultation_between, consultation_seconds, first_host_join};
use crate::readmodels::{Account, Clinic, Organisation, Segment, SegmentParticipant};
use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
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
pub const FIELDS: &[FieldDescription] =
    &FieldDescription::join::<21, 6, 27>(OWN_FIELDS, BANDWIDTH_FIELDS);

/// The columns before the bandwidth group.
const OWN_FIELDS: [FieldDescription; 21] = [
    super::ORGANISATION_FIELD,
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
    ATTENDANCE_FIELD,
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
];

fn seconds(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Cell {
    match (from, to) {
        (Some(a), Some(b)) if b >= a => Cell::Seconds((b - a).num_seconds()),
        _ => Cell::Empty,
    }
}

/// What decides whether a segment is in the report ([`segment_in_report`]).
struct Admission<'s> {
    started_at: Option<DateTime<Utc>>,
    clinic_id: Option<&'s str>,
    abandoned: bool,
    consultation_seconds: Option<i64>,
}

impl Admission<'_> {
    fn admits(&self, filter: &ConsultationFilter) -> bool {
        let Some(start) = self.started_at else {
            return false;
        };
        if start < filter.start || start >= filter.end {
            return false;
        }
        if filter
            .clinic_id
            .as_deref()
            .is_some_and(|c| self.clinic_id != Some(c))
        {
            return false;
        }
        if self.abandoned {
            return true;
        }
        match self.consultation_seconds {
            Some(secs) => secs >= i64::from(filter.min_duration_seconds),
            // No host and not marked abandoned (e.g. still waiting): shown only without a
            // minimum.
            None => filter.min_duration_seconds == 0,
        }
    }
}

/// Whether a segment is in the report: started in the period (and the clinic), and abandoned or
/// answered for at least the minimum duration.
pub fn segment_in_report(
    seg: &Segment,
    participants: &[&SegmentParticipant],
    filter: &ConsultationFilter,
) -> bool {
    Admission {
        started_at: seg.started_at,
        clinic_id: seg.clinic_id.as_deref(),
        abandoned: seg.abandoned_at.is_some(),
        consultation_seconds: consultation_seconds(seg, participants),
    }
    .admits(filter)
}

/// A segment item as the report's rows read it: the [`Segment`] fields the rows show, the text
/// borrowed from the item's body instead of copied (JSON text without escapes; the rest is
/// copied). The Consultations export decodes every segment of the period into one of these
/// (decoding owned `Segment`s, a dozen strings each, would be most of the CSV export's
/// reading side); [`SegmentView::of`] lends a decoded `Segment` the same shape, so both make
/// their rows with [`view_rows`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SegmentView<'a> {
    #[serde(borrow, deserialize_with = "de_cow")]
    pub session_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "de_cow")]
    pub segment_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "de_opt_cow")]
    pub queued_call_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "de_opt_cow")]
    pub clinic_id: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub transferred_at: Option<DateTime<Utc>>,
    #[serde(borrow, deserialize_with = "de_opt_cow")]
    pub to_clinic_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "de_opt_cow")]
    pub to_segment_id: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub abandoned_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub session_entered_at: Option<DateTime<Utc>>,
    #[serde(borrow)]
    pub participants: Vec<ParticipantView<'a>>,
}

/// One participant as the report's rows read it ([`SegmentView`]).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ParticipantView<'a> {
    #[serde(borrow, deserialize_with = "de_cow")]
    pub participant_id: Cow<'a, str>,
    pub participant_type: Option<ParticipantType>,
    #[serde(borrow, deserialize_with = "de_opt_cow")]
    pub account_id: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "crate::time::de_opt")]
    pub left_at: Option<DateTime<Utc>>,
    pub bandwidth: Option<crate::events::types::Bandwidth>,
}

fn borrowed(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

impl<'a> SegmentView<'a> {
    /// A decoded segment in the view's shape, borrowing its text.
    pub fn of(seg: &'a Segment) -> Self {
        SegmentView {
            session_id: Cow::Borrowed(&seg.session_id),
            segment_id: Cow::Borrowed(&seg.segment_id),
            queued_call_id: borrowed(&seg.queued_call_id),
            clinic_id: borrowed(&seg.clinic_id),
            started_at: seg.started_at,
            ended_at: seg.ended_at,
            transferred_at: seg.transferred_at,
            to_clinic_id: borrowed(&seg.to_clinic_id),
            to_segment_id: borrowed(&seg.to_segment_id),
            abandoned_at: seg.abandoned_at,
            session_entered_at: seg.session_entered_at,
            participants: seg
                .participants
                .iter()
                .map(|p| ParticipantView {
                    participant_id: Cow::Borrowed(&p.participant_id),
                    participant_type: p.participant_type,
                    account_id: borrowed(&p.account_id),
                    joined_at: p.joined_at,
                    left_at: p.left_at,
                    bandwidth: p.bandwidth,
                })
                .collect(),
        }
    }

    /// [`crate::readmodels::segments::segment_end`] of the same segment.
    fn end(&self) -> Option<DateTime<Utc>> {
        self.ended_at.or(self.transferred_at).or(self.abandoned_at)
    }

    /// [`segment_in_report`] of the same segment.
    fn in_report(&self, filter: &ConsultationFilter) -> bool {
        let first_host = first_host_join(
            self.participants
                .iter()
                .map(|p| (p.participant_type, p.joined_at)),
        );
        Admission {
            started_at: self.started_at,
            clinic_id: self.clinic_id.as_deref(),
            abandoned: self.abandoned_at.is_some(),
            consultation_seconds: consultation_between(first_host, self.end()),
        }
        .admits(filter)
    }
}

/// A JSON string, borrowed from the input when it has no escapes.
fn de_cow<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    d.deserialize_str(CowVisitor)
}

/// [`de_cow`] for an optional string (`null` or absent: `None`).
fn de_opt_cow<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_option(OptCowVisitor)
}

struct CowVisitor;

impl<'de> Visitor<'de> for CowVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct OptCowVisitor;

impl<'de> Visitor<'de> for OptCowVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        de_cow(d).map(Some)
    }
}

/// The rows of one segment (none when the segment is not in the report), participants by
/// join time (then id). Everything comes from the segment item: its participants and its
/// session's waiting-area entry are copied there by ingest.
pub fn segment_rows(
    input: &ConsultationInput,
    seg: &Segment,
    filter: &ConsultationFilter,
) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    view_rows(input, &SegmentView::of(seg), filter, &mut rows);
    rows
}

/// [`segment_rows`] of a [`SegmentView`], appended to `rows`.
pub fn view_rows(
    input: &ConsultationInput,
    seg: &SegmentView<'_>,
    filter: &ConsultationFilter,
    rows: &mut Vec<Vec<Cell>>,
) {
    let clinic_name = |id: Option<&str>| -> Cell {
        id.map_or(Cell::Empty, |id| {
            Cell::text(input.clinics.get(id).map_or(id, |c| c.name.as_str()))
        })
    };
    if !seg.in_report(filter) {
        return;
    }
    let mut parts: Vec<&ParticipantView> = seg.participants.iter().collect();
    parts.sort_by(|a, b| (a.joined_at, &a.participant_id).cmp(&(b.joined_at, &b.participant_id)));
    // `segment.started` names the queued call, and only a started segment is in the report.
    let entered = seg.session_entered_at;
    let end = seg.end();
    let common_head = [
        Cell::text(input.organisation.name.as_str()),
        clinic_name(seg.clinic_id.as_deref()),
        Cell::opt_text(seg.queued_call_id.as_deref()),
        Cell::text(seg.session_id.as_ref()),
        Cell::text(seg.segment_id.as_ref()),
    ];
    let common_tail = [
        Cell::opt_time(seg.started_at),
        Cell::opt_time(end),
        seconds(seg.started_at, end),
        Cell::opt_time(seg.transferred_at),
        clinic_name(seg.to_clinic_id.as_deref()),
        Cell::opt_text(seg.to_segment_id.as_deref()),
        Cell::Int(parts.len() as i64),
        Cell::Bool(seg.abandoned_at.is_some()),
        Cell::opt_time(seg.abandoned_at),
    ];
    if parts.is_empty() {
        let mut row = Vec::with_capacity(FIELDS.len());
        row.extend(common_head);
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
        return;
    }
    for p in parts {
        // One allocation per row: the row has every column's room from the start.
        let mut row = Vec::with_capacity(FIELDS.len());
        row.extend(common_head.iter().cloned());
        row.push(Cell::text(p.participant_id.as_ref()));
        row.push(Cell::opt_time(entered));
        let is_host = p.participant_type == Some(ParticipantType::Host);
        let name = if is_host {
            p.account_id
                .as_deref()
                .and_then(|a| input.accounts.get(a))
                .map(|a| a.name.as_str())
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

/// A participant's time in the segment or call, shared with the Room calls report.
pub(crate) const ATTENDANCE_FIELD: FieldDescription = FieldDescription {
    name: "Attendance duration",
    meaning: "Left minus joined",
    unit: "duration [h]:mm:ss",
};

/// The six bandwidth columns, described in the order of [`bandwidth_cells`].
pub(crate) const BANDWIDTH_FIELDS: [FieldDescription; 6] = [
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_of_the_consultations_and_room_calls_reports() {
        let names =
            |fields: &[FieldDescription]| -> Vec<&str> { fields.iter().map(|f| f.name).collect() };
        let network = [
            "Send average",
            "Receive average",
            "Send maximum",
            "Receive maximum",
            "Packet loss",
            "Round trip average",
        ];
        let consultations = [
            "Organisation",
            "Clinic",
            "Queued call ID",
            "Session ID",
            "Segment ID",
            "Participant ID",
            "Waiting-area entry",
            "User name",
            "Participant type",
            "Joined",
            "Left",
            "Attendance duration",
            "Segment start",
            "Segment end",
            "Segment duration",
            "Transfer time",
            "Transferred to clinic",
            "Transferred to segment ID",
            "Participants in segment",
            "Abandoned",
            "Abandon time",
        ];
        assert_eq!(names(FIELDS), [&consultations[..], &network].concat());
        let room_calls = [
            "Organisation",
            "Room type",
            "Room",
            "Clinic",
            "Call ID",
            "Participant ID",
            "Team member",
            "Participant kind",
            "Joined",
            "Left",
            "Attendance duration",
            "Call start",
            "Call end",
            "Call duration",
            "Participants in call",
            "Tags",
        ];
        assert_eq!(
            names(super::super::room_calls::FIELDS),
            [&room_calls[..], &network].concat()
        );
        // Every column is described: nothing of the join's placeholder is left.
        for f in FIELDS.iter().chain(super::super::room_calls::FIELDS) {
            assert!(!f.name.is_empty() && !f.meaning.is_empty(), "{f:?}");
        }
    }

    fn input() -> ConsultationInput {
        let mut input = ConsultationInput::default();
        input.organisation.name = "Harbour Health".into();
        input
    }

    /// A segment item decoded as a view makes the rows the decoded `Segment` makes, whether
    /// its text is borrowed (no escapes) or copied (escapes), and fields that are null,
    /// absent or unknown decode alike.
    #[test]
    fn view_rows_equal_the_segments_rows() {
        let json = r#"{"session_id":"sess-1","segment_id":"seg-\"1\"","queued_call_id":null,
            "clinic_id":"clinic-1","org_id":"org-1","started_at":"2026-03-29T00:59:00Z",
            "ended_at":"2026-03-29T01:20:30.5Z","to_clinic_id":"clinic-9",
            "participants":[
              {"session_id":"sess-1","segment_id":"seg-1","participant_id":"p\u00e9-2",
               "participant_type":"host","account_id":"acc-1","joined_at":"2026-03-29T01:00:00Z",
               "left_at":null,"bandwidth":null},
              {"participant_id":"p-1","participant_type":"caller",
               "joined_at":"2026-03-29T00:59:30Z","left_at":"2026-03-29T01:20:00Z",
               "bandwidth":{"send_kbps_avg":1,"receive_kbps_avg":2,"send_kbps_max":3,
                 "receive_kbps_max":4,"packet_loss_permille":5,"round_trip_ms_avg":6}}]}"#;
        let seg: Segment = serde_json::from_str(json).expect("test value");
        let view: SegmentView = serde_json::from_str(json).expect("test value");
        assert!(matches!(view.session_id, Cow::Borrowed("sess-1")));
        assert!(matches!(view.segment_id, Cow::Owned(ref s) if s == "seg-\"1\""));
        assert!(matches!(view.participants[0].participant_id, Cow::Owned(ref s) if s == "pé-2"));
        assert_eq!(view.queued_call_id, None);
        let filter = ConsultationFilter {
            start: "2026-03-29T00:00:00Z".parse().expect("test value"),
            end: "2026-03-30T00:00:00Z".parse().expect("test value"),
            clinic_id: None,
            min_duration_seconds: 0,
        };
        let mut from_view = Vec::new();
        view_rows(&input(), &view, &filter, &mut from_view);
        let from_segment = segment_rows(&input(), &seg, &filter);
        assert_eq!(from_view, from_segment);
        // Participants by join time: the caller first; a clinic not in the organisation's
        // list shows its id.
        assert_eq!(from_view.len(), 2);
        assert_eq!(from_view[0][0], Cell::text("Harbour Health"));
        assert_eq!(from_view[0][1], Cell::text("clinic-1"));
        assert_eq!(from_view[0][4], Cell::text("seg-\"1\""));
        assert_eq!(from_view[0][5], Cell::text("p-1"));
        assert_eq!(from_view[1][5], Cell::text("pé-2"));
        assert_eq!(from_view[1][8], Cell::text("host"));
        // Segment duration 21:30 (end cut to the second), transferred to an unknown clinic id.
        assert_eq!(from_view[1][14], Cell::Seconds(1290));
        assert_eq!(from_view[1][16], Cell::text("clinic-9"));
        assert_eq!(from_view[0][21], Cell::Int(1));
        // A minimum above the consultation (20:30 from the host's join) leaves it out, in
        // both.
        let strict = ConsultationFilter {
            min_duration_seconds: 1231,
            ..filter.clone()
        };
        let mut none = Vec::new();
        view_rows(&input(), &view, &strict, &mut none);
        assert!(none.is_empty());
        assert!(segment_rows(&input(), &seg, &strict).is_empty());
        let just = ConsultationFilter {
            min_duration_seconds: 1230,
            ..filter
        };
        view_rows(&input(), &view, &just, &mut none);
        assert_eq!(none, segment_rows(&input(), &seg, &just));
        assert_eq!(none.len(), 2);
    }
}
