//! The Meeting & user room calls report (SPEC C6): one row per participant per call in the
//! meeting, user and group rooms in scope, by call start — room type, room, clinic, the team
//! member (account holders; guests have no stored identity), times, the call's span, bandwidth,
//! and the tags the report configuration puts on the room and its clinic.

use super::config::ReportConfig;
use super::data::{call_span, ReportData};
use crate::events::types::RoomType;
use crate::export::cells::Cell;
use crate::export::xlsx::FieldDescription;

/// The columns, in order.
pub const FIELDS: &[FieldDescription] =
    &FieldDescription::join::<16, 6, 22>(OWN_FIELDS, super::consultations::BANDWIDTH_FIELDS);

/// The columns before the bandwidth group.
const OWN_FIELDS: [FieldDescription; 16] = [
    super::ORGANISATION_FIELD,
    FieldDescription {
        name: "Room type",
        meaning: "meeting, user or group",
        unit: "",
    },
    FieldDescription {
        name: "Room",
        meaning: "Room name",
        unit: "",
    },
    FieldDescription {
        name: "Clinic",
        meaning: "Clinic the room belongs to",
        unit: "",
    },
    FieldDescription {
        name: "Call ID",
        meaning: "One call in the room",
        unit: "",
    },
    FieldDescription {
        name: "Participant ID",
        meaning: "One participant of the call",
        unit: "",
    },
    FieldDescription {
        name: "Team member",
        meaning: "Name of the account holder taking part (empty for guests)",
        unit: "",
    },
    FieldDescription {
        name: "Participant kind",
        meaning: "team member (an account holder) or guest",
        unit: "",
    },
    FieldDescription {
        name: "Joined",
        meaning: "When the participant first joined the call",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Left",
        meaning: "When the participant last left the call",
        unit: "date-time in the report's time zone",
    },
    super::consultations::ATTENDANCE_FIELD,
    FieldDescription {
        name: "Call start",
        meaning: "First join of the call",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Call end",
        meaning: "Last leave of the call",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Call duration",
        meaning: "Call end minus call start",
        unit: "duration [h]:mm:ss",
    },
    FieldDescription {
        name: "Participants in call",
        meaning: "Number of participants of the call",
        unit: "count",
    },
    FieldDescription {
        name: "Tags",
        meaning: "Tags of the report configuration on the room or its clinic",
        unit: "names separated by ; ",
    },
];

/// The room type as shown.
pub fn room_type_text(t: RoomType) -> &'static str {
    match t {
        RoomType::Meeting => "meeting",
        RoomType::User => "user",
        RoomType::Group => "group",
    }
}

fn duration(
    a: Option<chrono::DateTime<chrono::Utc>>,
    b: Option<chrono::DateTime<chrono::Utc>>,
) -> Cell {
    match (a, b) {
        (Some(a), Some(b)) if b >= a => Cell::Seconds((b - a).num_seconds()),
        _ => Cell::Empty,
    }
}

/// The report's rows.
pub fn build_rows(data: &ReportData, config: &ReportConfig) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for (call_id, parts) in data.calls() {
        let Some(room) = parts
            .first()
            .and_then(|p| data.rooms.iter().find(|r| r.room_id == p.room_id))
        else {
            continue;
        };
        let clinic = data.all_clinics.get(&room.clinic_id);
        let (start, end, secs) = call_span(&parts);
        let tags = config
            .tags_of(Some(&room.clinic_id), Some(&room.room_id))
            .join("; ");
        for p in &parts {
            let member = p
                .account_id
                .as_deref()
                .and_then(|a| data.account_name(a))
                .map(str::to_string);
            let mut row = vec![
                Cell::text(data.organisation.name.clone()),
                Cell::text(room_type_text(room.room_type)),
                Cell::text(room.name.clone()),
                Cell::text(clinic.map_or(room.clinic_id.as_str(), |c| c.name.as_str())),
                Cell::text(call_id.clone()),
                Cell::text(p.participant_id.clone()),
                Cell::opt_text(member),
                Cell::text(if p.account_id.is_some() {
                    "team member"
                } else {
                    "guest"
                }),
                Cell::opt_time(p.joined_at),
                Cell::opt_time(p.left_at),
                duration(p.joined_at, p.left_at),
                Cell::opt_time(start),
                Cell::opt_time(end),
                secs.map_or(Cell::Empty, Cell::Seconds),
                Cell::Int(parts.len() as i64),
                if tags.is_empty() {
                    Cell::Empty
                } else {
                    Cell::text(tags.clone())
                },
            ];
            row.extend(super::consultations::bandwidth_cells(p.bandwidth));
            rows.push(row);
        }
    }
    rows
}
