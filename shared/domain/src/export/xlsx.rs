//! The XLSX exporter of the organisation reports (SPEC C3, Q2): a workbook with the data sheet
//! (typed cells) and a field-descriptions sheet (one row per column: name, meaning, unit).
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
}

impl XlsxOptions {
    /// Excel's own row limit, spilling to `tempdir`.
    pub fn new(zone: Tz, tempdir: impl Into<PathBuf>) -> Self {
        Self {
            zone,
            tempdir: tempdir.into(),
            max_sheet_rows: cells::MAX_SHEET_ROWS,
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
    /// A local date-time in the export's zone.
    DateTime(NaiveDateTime),
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
        Cell::Time(t) => ReadyCell::DateTime(zone.local(&t)),
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

/// A workbook being written row by row.
pub struct XlsxReport {
    workbook: Workbook,
    sheet: Worksheet,
    fields: &'static [FieldDescription],
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

fn write_header(
    sheet: &mut Worksheet,
    fields: &[FieldDescription],
    header: &Format,
) -> Result<(), XlsxError> {
    for (col, f) in fields.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, cells::safe_text(f.name), header)?;
    }
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
            decimals: Vec::new(),
        };
        let mut sheet = workbook.new_worksheet_with_constant_memory()?;
        sheet.set_name(data_sheet_name(1))?;
        write_header(&mut sheet, fields, &formats.header)?;
        Ok(Self {
            workbook,
            sheet,
            fields,
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

    /// Appends one prepared data row ([`prepare_row`]); its text moves into the workbook.
    pub fn push_ready(&mut self, row: Vec<ReadyCell>) -> Result<(), XlsxExportError> {
        self.check_width(row.len())?;
        if self.sheet_rows >= self.options.max_sheet_rows {
            let mut next = self.workbook.new_worksheet_with_constant_memory()?;
            self.data_sheets += 1;
            next.set_name(data_sheet_name(self.data_sheets))?;
            write_header(&mut next, self.fields, &self.formats.header)?;
            let full = std::mem::replace(&mut self.sheet, next);
            self.workbook.push_worksheet(full);
            self.sheet_rows = 1;
        }
        let r = self.sheet_rows as u32;
        for (c, cell) in row.into_iter().enumerate() {
            let c = c as u16;
            match cell {
                ReadyCell::Empty => {}
                ReadyCell::Text(s) => {
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
                ReadyCell::DateTime(local) => {
                    self.sheet
                        .write_datetime_with_format(r, c, local, &self.formats.datetime)?;
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

    /// Adds the field-descriptions sheet and writes the workbook to `out`.
    pub fn finish<W: std::io::Write + Send>(
        mut self,
        out: W,
    ) -> Result<XlsxSummary, XlsxExportError> {
        let mut fields = self.workbook.new_worksheet_with_constant_memory()?;
        fields.set_name(FIELDS_SHEET)?;
        for (c, h) in ["Field", "Meaning", "Unit"].iter().enumerate() {
            fields.write_string_with_format(0, c as u16, *h, &self.formats.header)?;
        }
        for (i, f) in self.fields.iter().enumerate() {
            let r = i as u32 + 1;
            fields.write_string(r, 0, cells::safe_text(f.name))?;
            fields.write_string(r, 1, cells::safe_text(f.meaning))?;
            if !f.unit.is_empty() {
                fields.write_string(r, 2, cells::safe_text(f.unit))?;
            }
        }
        self.workbook.push_worksheet(self.sheet);
        self.workbook.push_worksheet(fields);
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
