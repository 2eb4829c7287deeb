//! The XLSX exporter read back (SPEC C3, Q2): a tiny reader of the workbook's sheet XML (through
//! the `zip` crate), used here and by the organisation-report scenarios to compare workbooks
//! cell by cell.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use domain::export::cells::{safe_text, Cell, TRUNCATION_MARKER};
use domain::export::xlsx::{
    FieldDescription, XlsxOptions, XlsxReport, XlsxSummary, DATETIME_FORMAT, DURATION_FORMAT,
    FIELDS_SHEET,
};
use std::collections::HashMap;
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
}

/// One sheet: its name and its rows (each padded to the widest row).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSheet {
    pub name: String,
    pub rows: Vec<Vec<ReadCell>>,
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
        sheets.push(ReadSheet { name, rows });
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
    rows.extend(
        fields
            .iter()
            .map(|f| vec![t(f.name), t(f.meaning), t(f.unit)]),
    );
    rows
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
    FIELDS
        .iter()
        .map(|f| ReadCell::Text(f.name.to_string()))
        .collect()
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
                ReadCell::Duration(3_725),
                ReadCell::Bool(true),
            ],
            vec![
                ReadCell::Text("'=HYPERLINK(\"http://x\")".into()),
                ReadCell::Number(1_048_577.0),
                ReadCell::DateTime(date(2026, 4, 5, 2, 30)),
                ReadCell::Duration(0),
                ReadCell::Empty,
            ],
            vec![
                ReadCell::Text(cut),
                ReadCell::Empty,
                ReadCell::Empty,
                ReadCell::Duration(90_061),
                ReadCell::Bool(false),
            ],
        ]
    );
    // The shared expectation helper agrees with the hand-written rows.
    for (i, row) in rows.iter().enumerate() {
        let want: Vec<ReadCell> = row.iter().map(|c| expected(c, zone)).collect();
        assert_eq!(sheets[0].rows[i + 1], want);
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
