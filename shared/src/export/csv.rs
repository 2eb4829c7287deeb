//! The CSV exporter of the admin tabs (SPEC Q2): RFC 4180 (comma, `"` quoting where needed,
//! CRLF line ends), UTF-8 with a byte-order mark by default (so Excel shows accents right;
//! `bom=false` drops it for programs), times in ISO 8601 with the offset of the chosen zone,
//! numbers written as they are, text through [`cells::safe_text`].
//!
//! [`CsvStream`] writes rows into a [`BlobUpload`] as it goes: rows are handed in batches to a
//! blocking thread that formats them, and every [`FLUSH_BYTES`] of text comes back as a part
//! for the upload, so an export of any size runs in constant memory and the caller's task
//! keeps reading the store while the other core formats (SPEC Q4).

use super::cells::{self, Cell};
use crate::ports::{BlobError, BlobUpload};
use crate::time::ZoneOffsets;
use bytes::Bytes;
use chrono_tz::Tz;
use tokio::sync::mpsc;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Formatted bytes that make a part for the upload.
pub const FLUSH_BYTES: usize = 1024 * 1024;

/// Rows [`CsvStream`] collects before handing them to its formatting thread.
pub const BATCH_ROWS: usize = 256;

/// Batches and parts in flight between the caller and the formatting thread (memory bound:
/// about `IN_FLIGHT` × ([`BATCH_ROWS`] rows + [`FLUSH_BYTES`])).
const IN_FLIGHT: usize = 4;

/// The text of one cell (before CSV quoting).
pub fn cell_text(cell: &Cell, tz: Tz) -> String {
    let mut out = String::new();
    push_cell_text(&mut out, cell, &mut ZoneOffsets::new(tz));
    out
}

/// Appends the text of one cell to `out` (what [`cell_text`] returns), allocating nothing for
/// numbers, booleans, instants and text that needs no neutralising.
pub fn push_cell_text(out: &mut String, cell: &Cell, zone: &mut ZoneOffsets) {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) => out.push_str(&cells::safe_text(t)),
        Cell::Int(n) | Cell::Seconds(n) => out.push_str(itoa::Buffer::new().format(*n)),
        Cell::Decimal { units, scale } => out.push_str(&cells::decimal_text(*units, *scale)),
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Time(t) => zone.push_rfc3339(out, t),
    }
}

/// Writes one row through `w`, each cell's text built in the reused `field`.
fn write_cells<W: std::io::Write>(
    w: &mut csv::Writer<W>,
    field: &mut String,
    row: &[Cell],
    zone: &mut ZoneOffsets,
) -> csv::Result<()> {
    for cell in row {
        if let Cell::Text(t) = cell {
            // Text goes to the writer as it is (or neutralised), without a copy in `field`.
            w.write_field(cells::safe_text(t).as_bytes())?;
            continue;
        }
        field.clear();
        push_cell_text(field, cell, zone);
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

fn header_record<W: std::io::Write>(w: &mut csv::Writer<W>, header: &[&str]) -> csv::Result<()> {
    w.write_record(header.iter().map(|h| cells::safe_text(h).into_owned()))
}

/// Builds a whole CSV document in memory (small exports and tests).
pub fn to_csv(header: &[&str], rows: &[Vec<Cell>], tz: Tz, bom: bool) -> Vec<u8> {
    let mut w = builder().from_writer(Vec::new());
    let _ = header_record(&mut w, header);
    let mut field = String::new();
    let mut zone = ZoneOffsets::new(tz);
    for row in rows {
        let _ = write_cells(&mut w, &mut field, row, &mut zone);
    }
    let body = w.into_inner().unwrap_or_default();
    if bom {
        [BOM, body.as_slice()].concat()
    } else {
        body
    }
}

/// The bytes the CSV writer produced and the formatting thread has not yet handed on
/// (`csv::Writer` lends no mutable access to its output, so the two share it; only the
/// formatting thread touches it).
#[derive(Clone, Default)]
struct Pending(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Vec<u8> {
        let mut buf = self.0.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *buf, Vec::with_capacity(FLUSH_BYTES + 64 * 1024))
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

/// The formatting thread: the mark and header, then each batch of rows as it arrives; every
/// [`FLUSH_BYTES`] go back as a part, the rest when the batches end. Returns early (quietly)
/// when the stream is gone.
fn format_rows(
    header: Vec<String>,
    tz: Tz,
    bom: bool,
    mut rows: mpsc::Receiver<Vec<Vec<Cell>>>,
    parts: mpsc::Sender<Vec<u8>>,
) -> csv::Result<()> {
    let pending = Pending::default();
    let mut w = builder().from_writer(pending.clone());
    if bom {
        std::io::Write::write_all(&mut pending.clone(), BOM)?;
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    header_record(&mut w, &header)?;
    let mut field = String::new();
    let mut zone = ZoneOffsets::new(tz);
    while let Some(batch) = rows.blocking_recv() {
        for row in &batch {
            write_cells(&mut w, &mut field, row, &mut zone)?;
        }
        // The writer buffers a few KiB itself; what it passed on waits in `pending`.
        if pending.len() >= FLUSH_BYTES && parts.blocking_send(pending.take()).is_err() {
            return Ok(());
        }
    }
    w.flush()?;
    let rest = pending.take();
    if !rest.is_empty() {
        let _ = parts.blocking_send(rest);
    }
    Ok(())
}

/// A CSV document streamed into a blob upload, formatted on a blocking thread.
pub struct CsvStream {
    /// Rows not yet handed to the formatting thread.
    batch: Vec<Vec<Cell>>,
    rows_tx: Option<mpsc::Sender<Vec<Vec<Cell>>>>,
    parts_rx: mpsc::Receiver<Vec<u8>>,
    formatter: Option<tokio::task::JoinHandle<csv::Result<()>>>,
    upload: Option<Box<dyn BlobUpload>>,
    rows: u64,
    bytes: u64,
}

fn unavailable(what: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(what.to_string())
}

impl CsvStream {
    /// Starts the document: the mark (when `bom`) and the header row. Needs a Tokio runtime
    /// (the formatting thread is one of its blocking threads).
    pub fn new(
        upload: Box<dyn BlobUpload>,
        header: &[&str],
        tz: Tz,
        bom: bool,
    ) -> Result<Self, BlobError> {
        let (rows_tx, rows_rx) = mpsc::channel(IN_FLIGHT);
        let (parts_tx, parts_rx) = mpsc::channel(IN_FLIGHT);
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        let formatter =
            tokio::task::spawn_blocking(move || format_rows(header, tz, bom, rows_rx, parts_tx));
        Ok(Self {
            batch: Vec::with_capacity(BATCH_ROWS),
            rows_tx: Some(rows_tx),
            parts_rx,
            formatter: Some(formatter),
            upload: Some(upload),
            rows: 0,
            bytes: 0,
        })
    }

    /// Appends one data row.
    pub async fn write_row(&mut self, row: &[Cell]) -> Result<(), BlobError> {
        self.write_owned_row(row.to_vec()).await
    }

    /// Appends one data row, taking it.
    pub async fn write_owned_row(&mut self, row: Vec<Cell>) -> Result<(), BlobError> {
        self.batch.push(row);
        self.rows += 1;
        if self.batch.len() >= BATCH_ROWS {
            self.hand_over().await?;
        }
        Ok(())
    }

    /// Appends data rows, taking them.
    pub async fn write_rows(&mut self, rows: Vec<Vec<Cell>>) -> Result<(), BlobError> {
        for row in rows {
            self.write_owned_row(row).await?;
        }
        Ok(())
    }

    async fn upload_part(&mut self, part: Vec<u8>) -> Result<(), BlobError> {
        self.bytes += part.len() as u64;
        match self.upload.as_mut() {
            Some(u) => u.write(Bytes::from(part)).await,
            None => Err(unavailable("upload already finished")),
        }
    }

    /// Why the formatting thread stopped early.
    async fn formatter_failed(&mut self) -> BlobError {
        match self.formatter.take() {
            Some(handle) => match handle.await {
                Ok(Err(e)) => unavailable(format!("csv: {e}")),
                Ok(Ok(())) | Err(_) => unavailable("csv formatting stopped"),
            },
            None => unavailable("csv formatting stopped"),
        }
    }

    /// Hands the collected rows to the formatting thread, uploading the parts it returns
    /// while it is busy (so neither side waits on the other for good).
    async fn hand_over(&mut self) -> Result<(), BlobError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let Some(tx) = self.rows_tx.clone() else {
            return Err(unavailable("upload already finished"));
        };
        let mut batch = Some(std::mem::replace(
            &mut self.batch,
            Vec::with_capacity(BATCH_ROWS),
        ));
        enum Next {
            Sent,
            Part(Vec<u8>),
            Stopped,
        }
        loop {
            let next = tokio::select! {
                permit = tx.reserve() => match (permit, batch.take()) {
                    (Ok(permit), Some(b)) => {
                        permit.send(b);
                        Next::Sent
                    }
                    _ => Next::Stopped,
                },
                part = self.parts_rx.recv() => match part {
                    Some(part) => Next::Part(part),
                    None => Next::Stopped,
                },
            };
            match next {
                Next::Sent => return Ok(()),
                Next::Part(part) => self.upload_part(part).await?,
                Next::Stopped => return Err(self.formatter_failed().await),
            }
        }
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    async fn drain(&mut self) -> Result<(), BlobError> {
        self.hand_over().await?;
        // No more rows: the formatting thread writes what is left and stops.
        self.rows_tx = None;
        while let Some(part) = self.parts_rx.recv().await {
            self.upload_part(part).await?;
        }
        match self.formatter.take() {
            Some(handle) => match handle.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(unavailable(format!("csv: {e}"))),
                Err(_) => Err(unavailable("csv formatting stopped")),
            },
            None => Err(unavailable("csv formatting stopped")),
        }
    }

    /// Writes what is left and makes the object visible; returns (rows, bytes).
    pub async fn finish(mut self) -> Result<(u64, u64), BlobError> {
        if let Err(e) = self.drain().await {
            self.abort().await;
            return Err(e);
        }
        let upload = self
            .upload
            .take()
            .ok_or_else(|| unavailable("upload already finished"))?;
        let size = upload.complete().await?;
        Ok((self.rows, size.max(self.bytes)))
    }

    /// Gives the upload up, leaving nothing behind.
    pub async fn abort(mut self) {
        // The formatting thread stops at its next batch or part.
        self.rows_tx = None;
        self.parts_rx.close();
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
