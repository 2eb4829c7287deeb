//! The XLSX exporter read back (SPEC C3, C12, Q2): a tiny reader of the workbook's sheet XML
//! (through the `zip` crate) — cells, frozen panes, autofilter, column widths — used here and
//! by the organisation-report scenarios to compare workbooks cell by cell.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use domain::export::cells::{safe_text, Cell, TRUNCATION_MARKER};
use domain::export::xlsx::{
    FieldDescription, XlsxOptions, XlsxReport, XlsxSummary, ABOUT_SHEET, DATETIME_FORMAT,
    DATETIME_UNIT, DURATION_FORMAT, FIELDS_SHEET, OFFSET_FORMAT, OFFSET_SUFFIX, ROWS_LABEL,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// A cell as read back from the workbook, typed by its XML type and number format.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadCell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A number with the date-time format, as the local date-time it shows.
    DateTime(NaiveDateTime),
    /// A number with the duration format, in whole seconds.
    Duration(i64),
    /// A number with the UTC-offset format (hours), in seconds east of UTC.
    Offset(i32),
}

/// One sheet: its name and its rows (each padded to the widest row).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSheet {
    pub name: String,
    pub rows: Vec<Vec<ReadCell>>,
    /// The first cell below and right of the frozen panes (`A2`: the header row frozen).
    pub frozen: Option<String>,
    /// The autofilter's range (`A1:F10`).
    pub autofilter: Option<String>,
    /// Column widths set, by column (0-based), in Excel's character units.
    pub widths: BTreeMap<usize, f64>,
}

fn zip_text(archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str) -> String {
    let mut f = archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the zip"));
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#xD;", "\r")
        .replace("&#xA;", "\n")
        .replace("&#x9;", "\t")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn column_index(reference: &str) -> usize {
    let mut n = 0usize;
    for b in reference.bytes().take_while(u8::is_ascii_uppercase) {
        n = n * 26 + (b - b'A' + 1) as usize;
    }
    n - 1
}

fn row_index(reference: &str) -> usize {
    let digits: String = reference.chars().filter(char::is_ascii_digit).collect();
    digits.parse::<usize>().unwrap() - 1
}

/// Format code of every cell style index (`s` attribute).
fn style_formats(styles: &str) -> Vec<String> {
    let mut codes: HashMap<String, String> = HashMap::new();
    for part in styles.split("<numFmt ").skip(1) {
        let tag = &part[..part.find("/>").unwrap()];
        codes.insert(
            attr(&format!(" {tag}"), "numFmtId").unwrap(),
            attr(&format!(" {tag}"), "formatCode").unwrap(),
        );
    }
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    xfs.split("<xf ")
        .skip(1)
        .map(|x| {
            let id = attr(&format!(" {x}"), "numFmtId").unwrap_or_default();
            codes.get(&id).cloned().unwrap_or(id)
        })
        .collect()
}

fn excel_to_local(serial: f64) -> NaiveDateTime {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    epoch + chrono::Duration::seconds((serial * 86_400.0).round() as i64)
}

/// Reads every sheet of an .xlsx, in workbook order.
pub fn read_workbook(bytes: &[u8]) -> Vec<ReadSheet> {
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let workbook = zip_text(&mut archive, "xl/workbook.xml");
    let styles = style_formats(&zip_text(&mut archive, "xl/styles.xml"));
    let names: Vec<String> = workbook
        .split("<sheet ")
        .skip(1)
        .map(|t| attr(&format!(" {t}"), "name").unwrap())
        .collect();
    let mut sheets = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let xml = zip_text(&mut archive, &format!("xl/worksheets/sheet{}.xml", i + 1));
        let mut rows: Vec<Vec<ReadCell>> = Vec::new();
        for part in xml.split("<c ").skip(1) {
            let open_end = part.find('>').unwrap();
            let tag = format!(" {}", &part[..open_end]);
            let self_closing = part[..open_end].ends_with('/');
            let body = if self_closing {
                ""
            } else {
                &part[open_end + 1..part.find("</c>").unwrap()]
            };
            let reference = attr(&tag, "r").unwrap();
            let kind = attr(&tag, "t");
            let format = attr(&tag, "s")
                .map(|s| styles[s.parse::<usize>().unwrap()].clone())
                .unwrap_or_default();
            let inner = |open: &str, close: &str| -> Option<String> {
                let start = body.find(open)?;
                let after = &body[start..];
                let gt = after.find('>')? + 1;
                let end = after.find(close)?;
                Some(unescape(&after[gt..end]))
            };
            let cell = match kind.as_deref() {
                Some("inlineStr") => ReadCell::Text(inner("<t", "</t>").unwrap_or_default()),
                Some("str") => ReadCell::Text(inner("<v", "</v>").unwrap_or_default()),
                Some("b") => ReadCell::Bool(inner("<v", "</v>").as_deref() == Some("1")),
                Some(other) => panic!("unexpected cell type {other}"),
                None => match inner("<v", "</v>") {
                    None => ReadCell::Empty,
                    Some(v) => {
                        let n: f64 = v.parse().unwrap();
                        if format == DATETIME_FORMAT {
                            ReadCell::DateTime(excel_to_local(n))
                        } else if format == DURATION_FORMAT {
                            ReadCell::Duration((n * 86_400.0).round() as i64)
                        } else if format == OFFSET_FORMAT {
                            ReadCell::Offset((n * 3_600.0).round() as i32)
                        } else {
                            ReadCell::Number(n)
                        }
                    }
                },
            };
            let (r, c) = (row_index(&reference), column_index(&reference));
            while rows.len() <= r {
                rows.push(Vec::new());
            }
            let row = &mut rows[r];
            while row.len() <= c {
                row.push(ReadCell::Empty);
            }
            row[c] = cell;
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        for row in &mut rows {
            row.resize(width, ReadCell::Empty);
        }
        let frozen = xml
            .split("<pane ")
            .nth(1)
            .filter(|p| attr(&format!(" {p}"), "state").as_deref() == Some("frozen"))
            .and_then(|p| attr(&format!(" {p}"), "topLeftCell"));
        let autofilter = xml
            .split("<autoFilter ")
            .nth(1)
            .and_then(|p| attr(&format!(" {p}"), "ref"));
        let mut widths = BTreeMap::new();
        for col in xml.split("<col ").skip(1) {
            let tag = format!(" {}", &col[..col.find("/>").unwrap()]);
            let min: usize = attr(&tag, "min").unwrap().parse().unwrap();
            let max: usize = attr(&tag, "max").unwrap().parse().unwrap();
            let width: f64 = attr(&tag, "width").unwrap().parse().unwrap();
            for c in min..=max {
                widths.insert(c - 1, width);
            }
        }
        sheets.push(ReadSheet {
            name,
            rows,
            frozen,
            autofilter,
            widths,
        });
    }
    sheets
}

/// What a written cell must read back as, in `zone`.
pub fn expected(cell: &Cell, zone: Tz) -> ReadCell {
    match cell {
        Cell::Empty => ReadCell::Empty,
        Cell::Text(s) => ReadCell::Text(safe_text(s).into_owned()),
        Cell::Int(n) => ReadCell::Number(*n as f64),
        Cell::Decimal { units, scale } => {
            ReadCell::Number(*units as f64 / 10f64.powi(*scale as i32))
        }
        Cell::Bool(b) => ReadCell::Bool(*b),
        Cell::Time(t) => ReadCell::DateTime(t.with_timezone(&zone).naive_local()),
        Cell::Seconds(s) => ReadCell::Duration(*s),
    }
}

/// The field-descriptions sheet a report's columns must produce.
pub fn expected_fields(fields: &[FieldDescription]) -> Vec<Vec<ReadCell>> {
    let t = |s: &str| {
        if s.is_empty() {
            ReadCell::Empty
        } else {
            ReadCell::Text(s.to_string())
        }
    };
    let mut rows = vec![vec![t("Field"), t("Meaning"), t("Unit")]];
    for f in fields {
        rows.push(vec![t(f.name), t(f.meaning), t(f.unit)]);
        if f.unit == DATETIME_UNIT {
            rows.push(vec![
                t(&format!("{} UTC offset", f.name)),
                t(&format!(
                    "The time zone's offset from UTC at {0}: UTC = {0} − offset ÷ 24. Tells apart \
                     the two passes through the hour repeated when clocks go back.",
                    f.name
                )),
                t("hours east of UTC (+10.00 is UTC+10:00)"),
            ]);
        }
    }
    rows
}

/// The header row of a report's data sheets: each field, and its offset column after each
/// date-time field.
pub fn expected_header(fields: &[FieldDescription]) -> Vec<ReadCell> {
    let mut out = Vec::new();
    for f in fields {
        out.push(ReadCell::Text(f.name.to_string()));
        if f.unit == DATETIME_UNIT {
            out.push(ReadCell::Text(format!("{}{OFFSET_SUFFIX}", f.name)));
        }
    }
    out
}

/// What a written row must read back as, in `zone`: each cell ([`expected`]), and after each
/// date-time field the zone's offset at its instant (empty when the cell is). A date-time
/// cell in a column not declared as one fails: it would have no offset beside it.
pub fn expected_row(fields: &[FieldDescription], row: &[Cell], zone: Tz) -> Vec<ReadCell> {
    use chrono::Offset as _;
    assert_eq!(fields.len(), row.len());
    let mut out = Vec::new();
    for (f, cell) in fields.iter().zip(row) {
        out.push(expected(cell, zone));
        if f.unit == DATETIME_UNIT {
            out.push(match cell {
                Cell::Time(t) => {
                    ReadCell::Offset(t.with_timezone(&zone).offset().fix().local_minus_utc())
                }
                _ => ReadCell::Empty,
            });
        } else {
            assert!(
                !matches!(cell, Cell::Time(_)),
                "{}: a date-time in a column whose unit is not {DATETIME_UNIT:?}",
                f.name
            );
        }
    }
    out
}

/// The About sheet's rows: the lines given, then the row count.
pub fn expected_about(lines: &[(&str, &str)], rows: u64) -> Vec<Vec<ReadCell>> {
    let t = |s: &str| ReadCell::Text(s.to_string());
    let mut out: Vec<Vec<ReadCell>> = lines.iter().map(|(l, v)| vec![t(l), t(v)]).collect();
    out.push(vec![t(ROWS_LABEL), t(&rows.to_string())]);
    out
}

/// Every data sheet has its header row frozen, an autofilter over its columns and the rows
/// written on it, and a width for each column, none narrower than its header (with room for
/// the filter button); date-time columns are wide enough for `yyyy-mm-dd hh:mm:ss`.
pub fn assert_data_sheet_layout(sheet: &ReadSheet, fields: &[FieldDescription]) {
    let header = expected_header(fields);
    assert_eq!(sheet.frozen.as_deref(), Some("A2"), "{}", sheet.name);
    let last = column_name(header.len() - 1);
    assert_eq!(
        sheet.autofilter.as_deref(),
        Some(format!("A1:{last}{}", sheet.rows.len().max(1)).as_str()),
        "{}",
        sheet.name
    );
    assert_eq!(
        sheet.widths.keys().copied().collect::<Vec<_>>(),
        (0..header.len()).collect::<Vec<_>>()
    );
    for (c, h) in header.iter().enumerate() {
        let ReadCell::Text(name) = h else {
            unreachable!()
        };
        let width = sheet.widths[&c];
        assert!(
            width >= (name.chars().count() as f64 + 3.0).min(50.0),
            "{}: {name} is {width} wide",
            sheet.name
        );
        assert!(width <= 51.0, "{}: {name} is {width} wide", sheet.name);
    }
    let mut c = 0;
    for f in fields {
        if f.unit == DATETIME_UNIT {
            assert!(
                sheet.widths[&c] >= 20.0,
                "{}: {} is narrow",
                sheet.name,
                f.name
            );
            c += 1;
        }
        c += 1;
    }
}

/// The column letters of a 0-based column.
pub fn column_name(mut c: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

const FIELDS: &[FieldDescription] = &[
    FieldDescription {
        name: "Name",
        meaning: "a text",
        unit: "",
    },
    FieldDescription {
        name: "Count",
        meaning: "a number",
        unit: "count",
    },
    FieldDescription {
        name: "At",
        meaning: "an instant",
        unit: "date-time in the report's time zone",
    },
    FieldDescription {
        name: "Lasted",
        meaning: "a duration",
        unit: "[h]:mm:ss",
    },
    FieldDescription {
        name: "Flag",
        meaning: "yes or no",
        unit: "",
    },
];

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn write(rows: &[Vec<Cell>], zone: Tz, max_rows: usize) -> (Vec<u8>, XlsxSummary) {
    let dir = crate::support::TempDir::new("xlsx");
    let mut options = XlsxOptions::new(zone, dir.path());
    options.max_sheet_rows = max_rows;
    let mut report = XlsxReport::new(FIELDS, options).unwrap();
    for row in rows {
        report.push_row(row).unwrap();
    }
    let mut out = std::io::Cursor::new(Vec::new());
    let summary = report.finish(&mut out).unwrap();
    (out.into_inner(), summary)
}

fn header() -> Vec<ReadCell> {
    expected_header(FIELDS)
}

#[test]
fn typed_cells_read_back_in_the_chosen_zone() {
    let long = "x".repeat(40_000);
    let rows = vec![
        vec![
            Cell::text("Zoë Nuñez"),
            Cell::Int(-5),
            // 02:30 UTC on the day Sydney leaves daylight time: 13:30 AEDT.
            Cell::Time(t("2026-04-04T02:30:00Z")),
            Cell::Seconds(3_725),
            Cell::Bool(true),
        ],
        vec![
            Cell::text("=HYPERLINK(\"http://x\")"),
            Cell::Int(1_048_577),
            // Sydney falls back at 16:00 UTC (03:00 AEDT becomes 02:00 AEST): 16:30 UTC is 02:30 AEST.
            Cell::Time(t("2026-04-04T16:30:00Z")),
            Cell::Seconds(0),
            Cell::Empty,
        ],
        vec![
            Cell::Text(long.clone()),
            Cell::Empty,
            Cell::Empty,
            Cell::Seconds(90_061),
            Cell::Bool(false),
        ],
    ];
    let zone: Tz = "Australia/Sydney".parse().unwrap();
    let (bytes, summary) = write(&rows, zone, domain::export::cells::MAX_SHEET_ROWS);
    assert_eq!(
        summary,
        XlsxSummary {
            rows: 3,
            data_sheets: 1
        }
    );
    let sheets = read_workbook(&bytes);
    assert_eq!(
        sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Data", FIELDS_SHEET]
    );
    let date = |y, m, d, h, mi| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    };
    let cut = format!(
        "{}{TRUNCATION_MARKER}",
        "x".repeat(32_767 - TRUNCATION_MARKER.chars().count())
    );
    assert_eq!(
        sheets[0].rows,
        vec![
            header(),
            vec![
                ReadCell::Text("Zoë Nuñez".into()),
                ReadCell::Number(-5.0),
                ReadCell::DateTime(date(2026, 4, 4, 13, 30)),
                ReadCell::Offset(11 * 3_600),
                ReadCell::Duration(3_725),
                ReadCell::Bool(true),
            ],
            vec![
                ReadCell::Text("'=HYPERLINK(\"http://x\")".into()),
                ReadCell::Number(1_048_577.0),
                ReadCell::DateTime(date(2026, 4, 5, 2, 30)),
                ReadCell::Offset(10 * 3_600),
                ReadCell::Duration(0),
                ReadCell::Empty,
            ],
            vec![
                ReadCell::Text(cut),
                ReadCell::Empty,
                ReadCell::Empty,
                ReadCell::Empty,
                ReadCell::Duration(90_061),
                ReadCell::Bool(false),
            ],
        ]
    );
    // The shared expectation helper agrees with the hand-written rows.
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(sheets[0].rows[i + 1], expected_row(FIELDS, row, zone));
    }
    assert_eq!(sheets[1].rows, expected_fields(FIELDS));
}

#[test]
fn rows_continue_on_further_data_sheets_past_the_limit() {
    let rows: Vec<Vec<Cell>> = (0..7)
        .map(|i| {
            vec![
                Cell::text(format!("r{i}")),
                Cell::Int(i),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ]
        })
        .collect();
    // Three rows per sheet: the header and two data rows.
    let (bytes, summary) = write(&rows, chrono_tz::UTC, 3);
    assert_eq!(
        summary,
        XlsxSummary {
            rows: 7,
            data_sheets: 4
        }
    );
    let sheets = read_workbook(&bytes);
    assert_eq!(
        sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Data", "Data (2)", "Data (3)", "Data (4)", FIELDS_SHEET]
    );
    let mut seen = Vec::new();
    for sheet in &sheets[..4] {
        assert_eq!(sheet.rows[0], header());
        assert!(sheet.rows.len() <= 3);
        for row in &sheet.rows[1..] {
            seen.push(row[..2].to_vec());
        }
    }
    let want: Vec<Vec<ReadCell>> = (0..7)
        .map(|i| vec![ReadCell::Text(format!("r{i}")), ReadCell::Number(i as f64)])
        .collect();
    assert_eq!(seen, want);
    assert_eq!(sheets[4].rows, expected_fields(FIELDS));
}

#[test]
fn an_empty_report_has_its_header_and_field_descriptions() {
    let (bytes, summary) = write(&[], chrono_tz::UTC, 10);
    assert_eq!(summary.rows, 0);
    let sheets = read_workbook(&bytes);
    assert_eq!(sheets[0].rows, vec![header()]);
    assert_eq!(sheets[1].rows, expected_fields(FIELDS));
}

const VISIT: &[FieldDescription] = &[
    FieldDescription {
        name: "Participant",
        meaning: "who",
        unit: "",
    },
    FieldDescription {
        name: "Joined at",
        meaning: "when they joined",
        unit: DATETIME_UNIT,
    },
    FieldDescription {
        name: "Left at",
        meaning: "when they left",
        unit: DATETIME_UNIT,
    },
    FieldDescription {
        name: "Time in call",
        meaning: "left minus joined",
        unit: domain::export::xlsx::DURATION_UNIT,
    },
    FieldDescription {
        name: "Participants",
        meaning: "how many",
        unit: "count",
    },
];

fn write_with_about(
    fields: &'static [FieldDescription],
    rows: &[Vec<Cell>],
    zone: Tz,
    max_rows: usize,
    about: &[(&str, &str)],
) -> Vec<u8> {
    let dir = crate::support::TempDir::new("xlsx-about");
    let mut options = XlsxOptions::new(zone, dir.path());
    options.max_sheet_rows = max_rows;
    options.about = about
        .iter()
        .map(|(l, v)| (l.to_string(), v.to_string()))
        .collect();
    let mut report = XlsxReport::new(fields, options).unwrap();
    for row in rows {
        report.push_row(row).unwrap();
    }
    let mut out = std::io::Cursor::new(Vec::new());
    report.finish(&mut out).unwrap();
    out.into_inner()
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

#[test]
fn the_repeated_hour_of_a_fall_back_reads_apart_through_the_offset_columns() {
    // Europe/London falls back on 2026-10-25 at 01:00 UTC (02:00 BST becomes 01:00 GMT): the
    // hour 01:00–02:00 passes twice. Joined at 01:50 on the first pass (BST, 00:50 UTC), left at
    // 01:10 on the second (GMT, 01:10 UTC): locally the participant leaves before joining.
    let zone: Tz = "Europe/London".parse().unwrap();
    let rows = vec![vec![
        Cell::text("Ana"),
        Cell::Time(t("2026-10-25T00:50:00Z")),
        Cell::Time(t("2026-10-25T01:10:00Z")),
        Cell::Seconds(20 * 60),
        Cell::Int(2),
    ]];
    let bytes = write_with_about(VISIT, &rows, zone, 100, &[]);
    let sheets = read_workbook(&bytes);
    assert_eq!(
        sheets[0].rows,
        vec![
            expected_header(VISIT),
            vec![
                ReadCell::Text("Ana".into()),
                ReadCell::DateTime(local("2026-10-25 01:50")),
                ReadCell::Offset(3_600),
                ReadCell::DateTime(local("2026-10-25 01:10")),
                ReadCell::Offset(0),
                ReadCell::Duration(1_200),
                ReadCell::Number(2.0),
            ],
        ]
    );
    assert_eq!(
        sheets[0].rows[0][2],
        ReadCell::Text("Joined at UTC offset".into())
    );
    // Local minus offset, as a formula in the sheet would compute it, orders them again.
    let utc = |at: usize| match (&sheets[0].rows[1][at], &sheets[0].rows[1][at + 1]) {
        (ReadCell::DateTime(l), ReadCell::Offset(o)) => {
            *l - chrono::Duration::seconds(i64::from(*o))
        }
        other => panic!("{other:?}"),
    };
    assert!(
        local("2026-10-25 01:50") > local("2026-10-25 01:10"),
        "locally out of order"
    );
    assert_eq!(utc(1), t("2026-10-25T00:50:00Z").naive_utc());
    assert_eq!(utc(3), t("2026-10-25T01:10:00Z").naive_utc());
    assert!(utc(1) < utc(3));
    // A zone west of UTC: negative offsets, a number (never a negative time, which Excel
    // shows as ####).
    let zone: Tz = "America/New_York".parse().unwrap();
    let bytes = write_with_about(VISIT, &rows, zone, 100, &[]);
    let sheets = read_workbook(&bytes);
    assert_eq!(sheets[0].rows[1][2], ReadCell::Offset(-4 * 3_600));
    assert_eq!(sheets[0].rows[1], expected_row(VISIT, &rows[0], zone));
    assert_eq!(sheets[1].rows, expected_fields(VISIT));
}

#[test]
fn every_data_sheet_has_a_frozen_header_a_filter_and_fitted_widths_and_the_about_sheet_comes_last()
{
    let long_name = "N".repeat(80);
    let rows: Vec<Vec<Cell>> = (0..5)
        .map(|i| {
            vec![
                Cell::text(if i == 3 {
                    long_name.clone()
                } else {
                    format!("Participant {i}")
                }),
                Cell::Time(t("2026-12-08T10:00:00Z")),
                Cell::Empty,
                Cell::Seconds(3_600 * 1_000),
                Cell::Int(i),
            ]
        })
        .collect();
    let about = [
        ("Report", "Consultations"),
        ("Organisation", "=Harbour Health"),
        ("Time zone", "Australia/Sydney"),
    ];
    let zone: Tz = "Australia/Sydney".parse().unwrap();
    // Three rows a sheet: the header and two rows.
    let bytes = write_with_about(VISIT, &rows, zone, 3, &about);
    let sheets = read_workbook(&bytes);
    assert_eq!(
        sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Data", "Data (2)", "Data (3)", FIELDS_SHEET, ABOUT_SHEET]
    );
    for sheet in &sheets[..3] {
        assert_data_sheet_layout(sheet, VISIT);
        assert_eq!(sheet.rows[0], expected_header(VISIT));
    }
    assert_eq!(sheets[0].autofilter.as_deref(), Some("A1:G3"));
    assert_eq!(sheets[2].autofilter.as_deref(), Some("A1:G2"));
    // Widths by type: text as wide as its longest cell up to 50, date-times 20, the offsets
    // and numbers 12, durations 11 — but never narrower than the header and its button.
    for sheet in &sheets[..3] {
        let widths: Vec<f64> = sheet.widths.values().map(|w| w.floor()).collect();
        assert_eq!(widths, vec![50.0, 20.0, 23.0, 20.0, 21.0, 15.0, 15.0]);
    }
    assert_eq!(
        sheets[4].rows,
        expected_about(
            &[
                ("Report", "Consultations"),
                ("Organisation", "'=Harbour Health"),
                ("Time zone", "Australia/Sydney"),
            ],
            5
        )
    );
    assert_eq!(sheets[3].rows, expected_fields(VISIT));
    assert_eq!(sheets[3].frozen.as_deref(), Some("A2"));
}

#[test]
fn a_text_column_is_as_wide_as_its_longest_cell() {
    let rows = vec![vec![
        Cell::text("Zoë Nuñez-Österberg"),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ]];
    let sheets = read_workbook(&write_with_about(VISIT, &rows, chrono_tz::UTC, 10, &[]));
    // 19 characters (not its 22 bytes) and one of margin; an empty report keeps the minimum.
    assert_eq!(sheets[0].widths[&0].floor(), 20.0);
    let sheets = read_workbook(&write_with_about(VISIT, &[], chrono_tz::UTC, 10, &[]));
    assert_eq!(sheets[0].widths[&0].floor(), 14.0);
    assert_eq!(sheets[0].autofilter.as_deref(), Some("A1:G1"));
    assert_eq!(
        sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["Data", FIELDS_SHEET]
    );
}
