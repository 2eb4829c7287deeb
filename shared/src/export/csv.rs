//! The CSV exporter of the admin tabs (SPEC Q2): RFC 4180 (comma, `"` quoting where needed,
//! CRLF line ends), UTF-8 with a byte-order mark by default (so Excel shows accents right;
//! `bom=false` drops it for programs), times in ISO 8601 with the offset of the chosen zone,
//! numbers written as they are, text through [`cells::safe_text`].
//!
//! [`CsvStream`] writes rows into a [`BlobUpload`] as it goes, flushing a part whenever its
//! buffer passes [`FLUSH_BYTES`]: an export of any size runs in constant memory.

use super::cells::{self, Cell};
use crate::ports::{BlobError, BlobUpload};
use bytes::Bytes;
use chrono::SecondsFormat;
use chrono_tz::Tz;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Buffered bytes that make [`CsvStream`] hand a part to the upload.
pub const FLUSH_BYTES: usize = 1024 * 1024;

/// The text of one cell (before CSV quoting).
pub fn cell_text(cell: &Cell, tz: Tz) -> String {
    let mut out = String::new();
    push_cell_text(&mut out, cell, tz);
    out
}

/// Appends the text of one cell to `out` (what [`cell_text`] returns), allocating nothing for
/// numbers, booleans and text that needs no neutralising.
pub fn push_cell_text(out: &mut String, cell: &Cell, tz: Tz) {
    use std::fmt::Write as _;
    match cell {
        Cell::Empty => {}
        Cell::Text(t) => out.push_str(&cells::safe_text(t)),
        Cell::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Cell::Decimal { units, scale } => out.push_str(&cells::decimal_text(*units, *scale)),
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Time(t) => out.push_str(
            &t.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        ),
        Cell::Seconds(s) => {
            let _ = write!(out, "{s}");
        }
    }
}

/// Writes one row through `w`, each cell's text built in the reused `field`.
fn write_cells<W: std::io::Write>(
    w: &mut csv::Writer<W>,
    field: &mut String,
    row: &[Cell],
    tz: Tz,
) -> csv::Result<()> {
    for cell in row {
        field.clear();
        push_cell_text(field, cell, tz);
        w.write_field(field.as_bytes())?;
    }
    // An empty record after the fields ends the row.
    w.write_record(None::<&[u8]>)
}

fn builder() -> csv::WriterBuilder {
    let mut b = csv::WriterBuilder::new();
    b.terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary);
    b
}

fn writer() -> csv::Writer<Vec<u8>> {
    builder().from_writer(Vec::new())
}

/// The bytes the CSV writer produced and the stream has not yet handed to the upload
/// (`csv::Writer` lends no mutable access to its output, so the two share it).
#[derive(Clone, Default)]
struct Pending(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl std::io::Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Builds a whole CSV document in memory (small exports and tests).
pub fn to_csv(header: &[&str], rows: &[Vec<Cell>], tz: Tz, bom: bool) -> Vec<u8> {
    let mut w = writer();
    let _ = w.write_record(header.iter().map(|h| cells::safe_text(h).into_owned()));
    let mut field = String::new();
    for row in rows {
        let _ = write_cells(&mut w, &mut field, row, tz);
    }
    let body = w.into_inner().unwrap_or_default();
    if bom {
        [BOM, body.as_slice()].concat()
    } else {
        body
    }
}

/// A CSV document streamed into a blob upload.
pub struct CsvStream {
    writer: csv::Writer<Pending>,
    pending: Pending,
    upload: Option<Box<dyn BlobUpload>>,
    tz: Tz,
    /// The cell being written (one buffer for every cell).
    field: String,
    rows: u64,
    bytes: u64,
}

impl CsvStream {
    /// Starts the document: the mark (when `bom`) and the header row.
    pub fn new(
        upload: Box<dyn BlobUpload>,
        header: &[&str],
        tz: Tz,
        bom: bool,
    ) -> Result<Self, BlobError> {
        let pending = Pending::default();
        if bom {
            pending
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(BOM);
        }
        let mut writer = builder().from_writer(pending.clone());
        writer
            .write_record(header.iter().map(|h| cells::safe_text(h).into_owned()))
            .map_err(|e| BlobError::Unavailable(e.to_string()))?;
        Ok(Self {
            writer,
            pending,
            upload: Some(upload),
            tz,
            field: String::new(),
            rows: 0,
            bytes: 0,
        })
    }

    /// Appends one data row.
    pub async fn write_row(&mut self, row: &[Cell]) -> Result<(), BlobError> {
        write_cells(&mut self.writer, &mut self.field, row, self.tz)
            .map_err(|e| BlobError::Unavailable(e.to_string()))?;
        self.rows += 1;
        // The writer buffers up to 8 KiB itself; what it passed on waits in `pending`.
        if self.pending.len() >= FLUSH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BlobError> {
        self.writer
            .flush()
            .map_err(|e| BlobError::Unavailable(e.to_string()))?;
        let chunk = self.pending.take();
        if chunk.is_empty() {
            return Ok(());
        }
        self.bytes += chunk.len() as u64;
        match self.upload.as_mut() {
            Some(u) => u.write(Bytes::from(chunk)).await,
            None => Err(BlobError::Unavailable("upload already finished".into())),
        }
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes what is left and makes the object visible; returns (rows, bytes).
    pub async fn finish(mut self) -> Result<(u64, u64), BlobError> {
        if let Err(e) = self.flush().await {
            self.abort().await;
            return Err(e);
        }
        let upload = self
            .upload
            .take()
            .ok_or_else(|| BlobError::Unavailable("upload already finished".into()))?;
        let size = upload.complete().await?;
        Ok((self.rows, size.max(self.bytes)))
    }

    /// Gives the upload up, leaving nothing behind.
    pub async fn abort(mut self) {
        if let Some(u) = self.upload.take() {
            let _ = u.abort().await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc4180_quoting_bom_safety_and_times_in_the_zone() {
        let rows = vec![vec![
            Cell::text("Zoë, \"Dr\"\nNuñez"),
            Cell::text("=HYPERLINK(\"x\")"),
            Cell::Int(-5),
            Cell::Decimal {
                units: -1234,
                scale: 2,
            },
            Cell::Time("2026-03-29T01:30:00Z".parse().unwrap()),
            Cell::Empty,
            Cell::Seconds(90),
            Cell::Bool(true),
        ]];
        let out = to_csv(
            &["a", "b", "c", "d", "e", "f", "g", "h"],
            &rows,
            Tz::Europe__Paris,
            true,
        );
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(out.starts_with(BOM));
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "a,b,c,d,e,f,g,h\r\n\"Zoë, \"\"Dr\"\"\nNuñez\",\"'=HYPERLINK(\"\"x\"\")\",-5,-12.34,2026-03-29T03:30:00+02:00,,90,true\r\n"
        );
        let plain = to_csv(
            &["a"],
            &[vec![Cell::Time("2026-03-29T00:30:00Z".parse().unwrap())]],
            Tz::Europe__Paris,
            false,
        );
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            "a\r\n2026-03-29T01:30:00+01:00\r\n"
        );
        let utc = cell_text(
            &Cell::Time("2026-03-29T00:30:00Z".parse().unwrap()),
            Tz::UTC,
        );
        assert_eq!(utc, "2026-03-29T00:30:00+00:00");
    }
}
