//! The XLSX exporter of the organisation reports (SPEC C3, C12, Q2): a workbook with the data
//! sheet (typed cells), a field-descriptions sheet (one row per column: name, meaning, unit) and,
//! when the caller describes the report, an "About this report" sheet.
//!
//! - Every data sheet has its header row frozen, an autofilter over the header and the rows
//!   written, and column widths fitted to each column's type: date-times wide enough for
//!   `yyyy-mm-dd hh:mm:ss` (never `####`), durations and numbers at a fixed width, text as wide
//!   as its longest cell in the workbook within [`TEXT_WIDTH_RANGE`]; never narrower than the
//!   header and its filter button. Widths are written with the sheets, at the end, so this
//!   costs a length comparison per text cell.
//! - Beside each date-time column (a field whose unit is [`DATETIME_UNIT`]) the writer adds a
//!   `<name> UTC offset` column: the zone's offset at that instant in hours (`+10.00`,
//!   `-4.00`, `+5.75`), so the two passes through the hour repeated when clocks go back read
//!   apart, and UTC = local − offset ÷ 24. Hours, not a fraction of a day shown as `hh:mm`:
//!   Excel's 1900 date system shows any negative time as `####`, which every zone west of UTC
//!   would be. The field-descriptions sheet describes each offset column.
//!
//! - Worksheets are `rust_xlsxwriter` constant-memory sheets: rows go to temporary files under
//!   the configured directory (`/tmp` in Lambda) as they are written, so memory stays flat
//!   whatever the row count.
//! - Past the sheet row limit ([`cells::MAX_SHEET_ROWS`], header included) the data continues
//!   on `Data (2)`, `Data (3)` ..., each starting with the header row again.
//! - Text goes through [`cells::safe_text`]; numbers are numbers; instants are Excel date-times
//!   in the export's IANA zone (`yyyy-mm-dd hh:mm:ss`); durations are Excel durations
//!   (`[h]:mm:ss`, a fraction of a day); exact decimals keep their scale as a number format.
//! - [`write_to_temp_file`] writes rows as they arrive; its callers run it on a blocking
//!   thread beside the task that reads the store, so reading and writing take a core each.

use super::cells::{self, Cell};
use crate::time::ZoneOffsets;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Name of the first data sheet; further ones are `Data (2)`, `Data (3)` ...
pub const DATA_SHEET: &str = "Data";
/// Name of the field-descriptions sheet (always the last sheet).
pub const FIELDS_SHEET: &str = "Field descriptions";
/// Number format of date-time cells.
pub const DATETIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";
/// Number format of duration cells.
pub const DURATION_FORMAT: &str = "[h]:mm:ss";
/// Number format of the UTC-offset cells (hours east of UTC).
pub const OFFSET_FORMAT: &str = "+0.00;-0.00;0.00";
/// The unit of a date-time field: the writer adds a UTC-offset column beside such a column.
pub const DATETIME_UNIT: &str = "date-time in the report's time zone";
/// The unit of a duration field.
pub const DURATION_UNIT: &str = "duration [h]:mm:ss";
/// Ends the header of the UTC-offset column beside a date-time column.
pub const OFFSET_SUFFIX: &str = " UTC offset";
/// Name of the sheet describing the report (after the field descriptions).
pub const ABOUT_SHEET: &str = "About this report";
/// The About sheet's label of the row count, the one line the writer adds itself.
pub const ROWS_LABEL: &str = "Rows";
/// Widths (Excel character units) of a text column: its longest cell, within these bounds.
pub const TEXT_WIDTH_RANGE: (f64, f64) = (10.0, 50.0);
/// Width of a date-time column: `yyyy-mm-dd hh:mm:ss` is 19 characters.
pub const DATETIME_WIDTH: f64 = 20.0;
/// Width of a duration column (`[h]:mm:ss` up to 9,999 hours).
pub const DURATION_WIDTH: f64 = 11.0;
/// Width of a number column (and of an offset column).
pub const NUMBER_WIDTH: f64 = 12.0;
/// Room the autofilter's drop-down button takes beside a header, in characters.
const FILTER_BUTTON: f64 = 3.0;

/// Deflate level of the workbook's zip container: Excel's own (3), not the writer's default
/// (6). Compressing the sheet is the largest single cost of an export (`infra/profile.sh`);
/// level 3 saves it about a third for a file a few per cent larger.
pub const ZIP_LEVEL: u8 = 3;

/// One column of a report: its header and its entry on the field-descriptions sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDescription {
    /// Column header.
    pub name: &'static str,
    /// What the column means.
    pub meaning: &'static str,
    /// Unit or format of its values (empty when none applies).
    pub unit: &'static str,
}

impl FieldDescription {
    /// `first`'s columns then `then`'s, as one array: a report's own columns followed by a
    /// group of columns several reports share. `N` is `A + B`, checked when compiled.
    pub const fn join<const A: usize, const B: usize, const N: usize>(
        first: [Self; A],
        then: [Self; B],
    ) -> [Self; N] {
        assert!(A + B == N, "N must be A + B");
        let mut out = [Self {
            name: "",
            meaning: "",
            unit: "",
        }; N];
        let mut i = 0;
        while i < A {
            out[i] = first[i];
            i += 1;
        }
        while i < N {
            out[i] = then[i - A];
            i += 1;
        }
        out
    }
}

/// How a workbook is written.
#[derive(Debug, Clone, PartialEq)]
pub struct XlsxOptions {
    /// The zone instants are shown in.
    pub zone: Tz,
    /// Where the constant-memory sheets spill (Lambda: `/tmp`).
    pub tempdir: PathBuf,
    /// Rows per data sheet, header included; [`cells::MAX_SHEET_ROWS`] except in tests.
    pub max_sheet_rows: usize,
    /// The "About this report" sheet's lines (label, value), in order; the writer adds the row
    /// count ([`ROWS_LABEL`]) last. No sheet when empty.
    pub about: Vec<(String, String)>,
}

impl XlsxOptions {
    /// Excel's own row limit, spilling to `tempdir`.
    pub fn new(zone: Tz, tempdir: impl Into<PathBuf>) -> Self {
        Self {
            zone,
            tempdir: tempdir.into(),
            max_sheet_rows: cells::MAX_SHEET_ROWS,
            about: Vec::new(),
        }
    }
}

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum XlsxExportError {
    /// A row had a different number of cells than the report has columns (a builder bug).
    #[error("row {row} has {got} cells, the report has {want} columns")]
    RowWidth { row: u64, got: usize, want: usize },
    #[error("sheet row limit must be at least 2 (header and one row)")]
    SheetLimit,
    #[error("xlsx writer: {0}")]
    Writer(#[from] XlsxError),
    #[error("temporary file: {0}")]
    Io(#[from] std::io::Error),
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XlsxSummary {
    /// Data rows (headers not counted).
    pub rows: u64,
    /// Data sheets used (at least 1).
    pub data_sheets: usize,
}

/// A cell as the workbook stores it: cell safety applied, instants in the export's zone,
/// durations as fractions of a day ([`prepare_row`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ReadyCell {
    Empty,
    /// Safe text ([`cells::safe_text`] applied).
    Text(String),
    Number(f64),
    /// A number shown with this many decimals.
    Decimal(f64, u32),
    Bool(bool),
    /// A local date-time in the export's zone and the zone's offset from UTC then (seconds).
    DateTime(NaiveDateTime, i32),
    /// A duration as a fraction of a day.
    Duration(f64),
}

fn ready_text(text: String) -> ReadyCell {
    let neutralised = match cells::safe_text(&text) {
        Cow::Owned(safe) => Some(safe),
        Cow::Borrowed(_) => None,
    };
    ReadyCell::Text(neutralised.unwrap_or(text))
}

fn ready(cell: Cell, zone: &mut ZoneOffsets) -> ReadyCell {
    match cell {
        Cell::Empty => ReadyCell::Empty,
        Cell::Text(s) => ready_text(s),
        Cell::Int(n) => ReadyCell::Number(n as f64),
        Cell::Decimal { units, scale } => {
            ReadyCell::Decimal(units as f64 / 10f64.powi(scale as i32), scale)
        }
        Cell::Bool(b) => ReadyCell::Bool(b),
        Cell::Time(t) => {
            let offset = zone.offset(&t);
            ReadyCell::DateTime(
                t.naive_utc() + chrono::Duration::seconds(i64::from(offset)),
                offset,
            )
        }
        Cell::Seconds(s) => ReadyCell::Duration(s as f64 / 86_400.0),
    }
}

/// Turns a row into what the workbook stores (text moved, not copied, when already safe),
/// instants converted to `zone`'s local time.
pub fn prepare_row(row: Vec<Cell>, zone: &mut ZoneOffsets) -> Vec<ReadyCell> {
    row.into_iter().map(|c| ready(c, zone)).collect()
}

/// [`prepare_row`] for a batch of rows.
pub fn prepare_rows(rows: Vec<Vec<Cell>>, zone: &mut ZoneOffsets) -> Vec<Vec<ReadyCell>> {
    rows.into_iter().map(|r| prepare_row(r, zone)).collect()
}

struct Formats {
    header: Format,
    datetime: Format,
    duration: Format,
    offset: Format,
    /// Number formats of exact decimals, by scale.
    decimals: Vec<(u32, Format)>,
}

impl Formats {
    fn decimal(&mut self, scale: u32) -> &Format {
        let at = match self.decimals.iter().position(|(s, _)| *s == scale) {
            Some(at) => at,
            None => {
                let code = if scale == 0 {
                    "0".to_string()
                } else {
                    format!("0.{}", "0".repeat(scale as usize))
                };
                self.decimals
                    .push((scale, Format::new().set_num_format(code)));
                self.decimals.len() - 1
            }
        };
        &self.decimals[at].1
    }
}

/// How a column is sized.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    DateTime,
    Offset,
    Duration,
    Number,
    Text,
}

/// Numbers, by unit: the fields' units that are not text.
const NUMBER_UNITS: &[&str] = &["count", "kbit/s", "ms", "‰", "seconds", "minutes", "hours"];

fn kind_of(field: &FieldDescription) -> Kind {
    if field.unit == DATETIME_UNIT {
        Kind::DateTime
    } else if field.unit == DURATION_UNIT {
        Kind::Duration
    } else if NUMBER_UNITS.contains(&field.unit) {
        Kind::Number
    } else {
        Kind::Text
    }
}

/// One column of the data sheets as written: a report's field, or the offset column the writer
/// adds beside a date-time field.
#[derive(Debug, Clone, PartialEq)]
struct Column {
    name: String,
    meaning: String,
    unit: String,
    kind: Kind,
}

/// The data sheets' columns: each field, and after each date-time field its offset column.
fn columns(fields: &[FieldDescription]) -> Vec<Column> {
    let mut out = Vec::with_capacity(fields.len() + 4);
    for f in fields {
        let kind = kind_of(f);
        out.push(Column {
            name: f.name.to_string(),
            meaning: f.meaning.to_string(),
            unit: f.unit.to_string(),
            kind,
        });
        if kind == Kind::DateTime {
            out.push(Column {
                name: format!("{}{OFFSET_SUFFIX}", f.name),
                meaning: format!(
                    "The time zone's offset from UTC at {}: UTC = {} − offset ÷ 24. Tells \
                     apart the two passes through the hour repeated when clocks go back.",
                    f.name, f.name
                ),
                unit: "hours east of UTC (+10.00 is UTC+10:00)".to_string(),
                kind: Kind::Offset,
            });
        }
    }
    out
}

/// Characters a header needs, its filter button included.
fn header_width(name: &str) -> f64 {
    name.chars().count() as f64 + FILTER_BUTTON
}

/// The width of a column whose longest text cell has `text_chars` characters.
fn column_width(column: &Column, text_chars: usize) -> f64 {
    let by_type = match column.kind {
        Kind::DateTime => DATETIME_WIDTH,
        Kind::Duration => DURATION_WIDTH,
        Kind::Number | Kind::Offset => NUMBER_WIDTH,
        Kind::Text => (text_chars as f64 + 1.0).clamp(TEXT_WIDTH_RANGE.0, TEXT_WIDTH_RANGE.1),
    };
    by_type.max(header_width(&column.name).min(TEXT_WIDTH_RANGE.1))
}

/// A workbook being written row by row.
pub struct XlsxReport {
    workbook: Workbook,
    sheet: Worksheet,
    fields: &'static [FieldDescription],
    /// The data sheets' columns (fields and offset columns).
    columns: Vec<Column>,
    /// For each field, its column on the data sheets.
    at: Vec<u16>,
    /// Per column, the longest text written so far (characters; bytes until worth counting).
    text_chars: Vec<usize>,
    options: XlsxOptions,
    /// The zone's offsets, for [`XlsxReport::push_row`].
    offsets: ZoneOffsets,
    formats: Formats,
    /// Rows written on the current sheet, header included.
    sheet_rows: usize,
    data_sheets: usize,
    rows: u64,
}

fn data_sheet_name(n: usize) -> String {
    if n == 1 {
        DATA_SHEET.to_string()
    } else {
        format!("{DATA_SHEET} ({n})")
    }
}

/// Starts a data sheet: its name, its header row, frozen.
fn start_data_sheet(
    sheet: &mut Worksheet,
    n: usize,
    columns: &[Column],
    header: &Format,
) -> Result<(), XlsxError> {
    sheet.set_name(data_sheet_name(n))?;
    for (col, c) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, cells::safe_text(&c.name), header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

impl XlsxReport {
    /// Starts a workbook whose data sheet has these columns.
    pub fn new(
        fields: &'static [FieldDescription],
        options: XlsxOptions,
    ) -> Result<Self, XlsxExportError> {
        if options.max_sheet_rows < 2 {
            return Err(XlsxExportError::SheetLimit);
        }
        let mut workbook = Workbook::new();
        workbook.set_tempdir(&options.tempdir)?;
        workbook.set_zip_compression_level(ZIP_LEVEL);
        let formats = Formats {
            header: Format::new().set_bold(),
            datetime: Format::new().set_num_format(DATETIME_FORMAT),
            duration: Format::new().set_num_format(DURATION_FORMAT),
            offset: Format::new().set_num_format(OFFSET_FORMAT),
            decimals: Vec::new(),
        };
        let columns = columns(fields);
        let mut at = Vec::with_capacity(fields.len());
        for (i, c) in columns.iter().enumerate() {
            if c.kind != Kind::Offset {
                at.push(i as u16);
            }
        }
        let mut sheet = workbook.new_worksheet_with_constant_memory()?;
        start_data_sheet(&mut sheet, 1, &columns, &formats.header)?;
        Ok(Self {
            workbook,
            sheet,
            fields,
            text_chars: vec![0; columns.len()],
            columns,
            at,
            offsets: ZoneOffsets::new(options.zone),
            options,
            formats,
            sheet_rows: 1,
            data_sheets: 1,
            rows: 0,
        })
    }

    /// Appends one data row (as many cells as the report has columns).
    pub fn push_row(&mut self, row: &[Cell]) -> Result<(), XlsxExportError> {
        self.check_width(row.len())?;
        let zone = &mut self.offsets;
        let row: Vec<ReadyCell> = row.iter().map(|c| ready(c.clone(), zone)).collect();
        self.push_ready(row)
    }

    fn check_width(&self, got: usize) -> Result<(), XlsxExportError> {
        if got != self.fields.len() {
            return Err(XlsxExportError::RowWidth {
                row: self.rows + 1,
                got,
                want: self.fields.len(),
            });
        }
        Ok(())
    }

    /// Ends the current data sheet: its autofilter over the header and the rows written.
    fn close_sheet(&mut self) -> Result<(), XlsxError> {
        let last_col = (self.columns.len() - 1) as u16;
        self.sheet
            .autofilter(0, 0, (self.sheet_rows - 1) as u32, last_col)?;
        Ok(())
    }

    /// Sets the column widths of every data sheet (the longest texts are known at the end).
    fn set_widths(&mut self) -> Result<(), XlsxError> {
        let widths: Vec<f64> = self
            .columns
            .iter()
            .zip(&self.text_chars)
            .map(|(c, chars)| column_width(c, *chars))
            .collect();
        // Only data sheets are in the workbook before `finish` adds the other two.
        for sheet in self
            .workbook
            .worksheets_mut()
            .iter_mut()
            .chain([&mut self.sheet])
        {
            for (i, w) in widths.iter().enumerate() {
                sheet.set_column_width(i as u16, *w)?;
            }
        }
        Ok(())
    }

    /// Appends one prepared data row ([`prepare_row`]); its text moves into the workbook.
    pub fn push_ready(&mut self, row: Vec<ReadyCell>) -> Result<(), XlsxExportError> {
        self.check_width(row.len())?;
        if self.sheet_rows >= self.options.max_sheet_rows {
            self.close_sheet()?;
            let mut next = self.workbook.new_worksheet_with_constant_memory()?;
            self.data_sheets += 1;
            start_data_sheet(
                &mut next,
                self.data_sheets,
                &self.columns,
                &self.formats.header,
            )?;
            let full = std::mem::replace(&mut self.sheet, next);
            self.workbook.push_worksheet(full);
            self.sheet_rows = 1;
        }
        let r = self.sheet_rows as u32;
        for (i, cell) in row.into_iter().enumerate() {
            let c = self.at[i];
            match cell {
                ReadyCell::Empty => {}
                ReadyCell::Text(s) => {
                    let seen = &mut self.text_chars[c as usize];
                    // A character takes at least a byte: count only a text that may be longer.
                    if *seen < TEXT_WIDTH_RANGE.1 as usize && s.len() > *seen {
                        *seen = (*seen).max(s.chars().count());
                    }
                    self.sheet.write_string(r, c, s)?;
                }
                ReadyCell::Number(n) => {
                    self.sheet.write_number(r, c, n)?;
                }
                ReadyCell::Decimal(value, scale) => {
                    let format = self.formats.decimal(scale);
                    self.sheet.write_number_with_format(r, c, value, format)?;
                }
                ReadyCell::Bool(b) => {
                    self.sheet.write_boolean(r, c, b)?;
                }
                ReadyCell::DateTime(local, offset) => {
                    self.sheet
                        .write_datetime_with_format(r, c, local, &self.formats.datetime)?;
                    if self.columns.get(c as usize + 1).map(|n| n.kind) == Some(Kind::Offset) {
                        self.sheet.write_number_with_format(
                            r,
                            c + 1,
                            f64::from(offset) / 3_600.0,
                            &self.formats.offset,
                        )?;
                    }
                }
                ReadyCell::Duration(days) => {
                    self.sheet
                        .write_number_with_format(r, c, days, &self.formats.duration)?;
                }
            }
        }
        self.sheet_rows += 1;
        self.rows += 1;
        Ok(())
    }

    /// Adds the field-descriptions sheet (and the About sheet when the options describe the
    /// report) and writes the workbook to `out`.
    pub fn finish<W: std::io::Write + Send>(
        mut self,
        out: W,
    ) -> Result<XlsxSummary, XlsxExportError> {
        self.close_sheet()?;
        self.set_widths()?;
        let mut fields = self.workbook.new_worksheet_with_constant_memory()?;
        fields.set_name(FIELDS_SHEET)?;
        for (c, h) in ["Field", "Meaning", "Unit"].iter().enumerate() {
            fields.write_string_with_format(0, c as u16, *h, &self.formats.header)?;
        }
        for (i, f) in self.columns.iter().enumerate() {
            let r = i as u32 + 1;
            fields.write_string(r, 0, cells::safe_text(&f.name))?;
            fields.write_string(r, 1, cells::safe_text(&f.meaning))?;
            if !f.unit.is_empty() {
                fields.write_string(r, 2, cells::safe_text(&f.unit))?;
            }
        }
        fields.set_freeze_panes(1, 0)?;
        fields.set_column_width(0, 30)?;
        fields.set_column_width(1, 100)?;
        fields.set_column_width(2, 36)?;
        self.workbook.push_worksheet(self.sheet);
        self.workbook.push_worksheet(fields);
        if !self.options.about.is_empty() {
            let mut about = self.workbook.new_worksheet_with_constant_memory()?;
            about.set_name(ABOUT_SHEET)?;
            let rows = self.rows.to_string();
            let lines = self
                .options
                .about
                .iter()
                .map(|(l, v)| (l.as_str(), v.as_str()))
                .chain([(ROWS_LABEL, rows.as_str())]);
            for (r, (label, value)) in lines.enumerate() {
                let r = r as u32;
                about.write_string_with_format(
                    r,
                    0,
                    cells::safe_text(label),
                    &self.formats.header,
                )?;
                about.write_string(r, 1, cells::safe_text(value))?;
            }
            about.set_column_width(0, 24)?;
            about.set_column_width(1, 60)?;
            self.workbook.push_worksheet(about);
        }
        self.workbook.save_to_writer(out)?;
        Ok(XlsxSummary {
            rows: self.rows,
            data_sheets: self.data_sheets,
        })
    }
}

/// Writes a whole report to a new file under `options.tempdir` and returns its path and
/// summary; the caller streams the file on and removes it.
///
/// Rows arrive prepared ([`prepare_rows`]) and are written as they come, then the workbook is
/// saved (compressed). The callers run this on a blocking thread while the runtime reads the
/// store, builds the rows and prepares them (cell safety, local times), so each of two cores
/// takes one side: the writer's core only writes (the export's critical path; see the README's
/// benchmarks for the second core's speed-up).
pub fn write_to_temp_file<I>(
    fields: &'static [FieldDescription],
    rows: I,
    options: XlsxOptions,
    file_stem: &str,
) -> Result<(PathBuf, XlsxSummary), XlsxExportError>
where
    I: IntoIterator<Item = Vec<ReadyCell>>,
{
    let path = options.tempdir.join(format!("{file_stem}.xlsx"));
    let mut report = XlsxReport::new(fields, options)?;
    for row in rows {
        report.push_ready(row)?;
    }
    let file = std::fs::File::create(&path)?;
    let result = report.finish(std::io::BufWriter::new(file));
    if result.is_err() {
        remove_quietly(&path);
    }
    result.map(|s| (path, s))
}

/// Removes a temporary file, ignoring a file already gone.
pub fn remove_quietly(path: &Path) {
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[FieldDescription] = &[
        FieldDescription {
            name: "a",
            meaning: "first",
            unit: "",
        },
        FieldDescription {
            name: "b",
            meaning: "second",
            unit: "seconds",
        },
    ];

    #[test]
    fn rows_of_the_wrong_width_are_refused() {
        let dir = std::env::temp_dir();
        let mut r = XlsxReport::new(FIELDS, XlsxOptions::new(chrono_tz::UTC, dir)).expect("new");
        let err = r.push_row(&[Cell::Int(1)]).expect_err("short row");
        assert!(matches!(
            err,
            XlsxExportError::RowWidth {
                row: 1,
                got: 1,
                want: 2
            }
        ));
    }

    #[test]
    fn spills_onto_further_data_sheets() {
        let mut opts = XlsxOptions::new(chrono_tz::UTC, std::env::temp_dir());
        opts.max_sheet_rows = 3;
        let mut r = XlsxReport::new(FIELDS, opts).expect("new");
        for i in 0..5 {
            r.push_row(&[Cell::Int(i), Cell::Seconds(i)]).expect("row");
        }
        let mut out = std::io::Cursor::new(Vec::new());
        let s = r.finish(&mut out).expect("finish");
        assert_eq!(
            s,
            XlsxSummary {
                rows: 5,
                data_sheets: 3
            }
        );
        assert_eq!(&out.get_ref()[..2], b"PK");
    }
}
