//! The CSV exporter of the admin tabs (SPEC Q2): RFC 4180 (comma, `"` quoting where needed,
//! CRLF line ends), UTF-8 with a byte-order mark by default (so Excel shows accents right;
//! `bom=false` drops it for programs), times in ISO 8601 with the offset of the chosen zone,
//! numbers written as they are, text through [`cells::safe_text`].
//!
//! [`CsvStream`] writes rows into a [`BlobUpload`] as it goes: rows are handed in chunks to
//! blocking threads that format them (one chunk per core at once), and each formatted chunk
//! goes to the upload in order, so an export of any size runs in constant memory and the
//! caller's task keeps reading the store while the other cores format (SPEC Q4).

use super::cells::{self, Cell};
use crate::ports::{BlobError, BlobUpload};
use crate::time::ZoneOffsets;
use bytes::Bytes;
use chrono_tz::Tz;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Rows [`CsvStream`] collects before handing them to a worker as one chunk.
pub const BATCH_ROWS: usize = 256;

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

/// Rows formatted on a worker thread into one chunk of a [`CsvStream`] (the chunks join in
/// the order they were handed in).
pub struct CsvChunk {
    w: csv::Writer<Vec<u8>>,
    field: String,
    zone: ZoneOffsets,
    rows: u64,
}

impl CsvChunk {
    fn new(tz: Tz) -> Self {
        Self {
            w: builder().from_writer(Vec::with_capacity(CHUNK_BYTES)),
            field: String::new(),
            zone: ZoneOffsets::new(tz),
            rows: 0,
        }
    }

    /// Appends one data row.
    pub fn write_row(&mut self, row: &[Cell]) -> csv::Result<()> {
        write_cells(&mut self.w, &mut self.field, row, &mut self.zone)?;
        self.rows += 1;
        Ok(())
    }

    /// The chunk's text and its number of rows.
    fn finish(self) -> csv::Result<(Vec<u8>, u64)> {
        let rows = self.rows;
        let bytes = self.w.into_inner().map_err(|e| e.into_error())?;
        Ok((bytes, rows))
    }
}

/// The text a chunk usually reaches (its first allocation).
const CHUNK_BYTES: usize = 128 * 1024;

/// A chunk being formatted: its text and rows, or why it failed.
type ChunkJob = tokio::task::JoinHandle<Result<(Vec<u8>, u64), String>>;

/// Chunks formatted at once: one per core, and one more, so that a worker finding its chunk
/// done has the next one waiting while the caller collects.
fn in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) + 1
}

/// A CSV document streamed into a blob upload (SPEC Q4). Work is handed in as chunks: a batch
/// of rows ([`CsvStream::write_owned_row`] collects [`BATCH_ROWS`]) or a closure that makes
/// its rows itself ([`CsvStream::write_chunk`], e.g. from a page of store items). Each chunk is
/// formatted on a blocking thread of the Tokio runtime, several at once (one per core), and the
/// finished chunks go to the upload in the order they were handed in; at most [`in_flight`]
/// chunks are pending, so the memory stays bounded whatever the export's size.
pub struct CsvStream {
    tz: Tz,
    /// The mark and header, until the first upload write.
    head: Vec<u8>,
    /// Rows not yet handed to a worker.
    batch: Vec<Vec<Cell>>,
    /// Chunks being formatted, oldest first.
    chunks: std::collections::VecDeque<ChunkJob>,
    in_flight: usize,
    upload: Option<Box<dyn BlobUpload>>,
    /// Rows of the chunks uploaded.
    rows: u64,
    bytes: u64,
}

fn unavailable(what: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(what.to_string())
}

impl CsvStream {
    /// Starts the document: the mark (when `bom`) and the header row. The chunks need a Tokio
    /// runtime (they are formatted on its blocking threads).
    pub fn new(
        upload: Box<dyn BlobUpload>,
        header: &[&str],
        tz: Tz,
        bom: bool,
    ) -> Result<Self, BlobError> {
        let mut w = builder().from_writer(if bom { BOM.to_vec() } else { Vec::new() });
        header_record(&mut w, header).map_err(|e| unavailable(format!("csv: {e}")))?;
        let head = w
            .into_inner()
            .map_err(|e| unavailable(format!("csv: {}", e.error())))?;
        let in_flight = in_flight();
        Ok(Self {
            tz,
            head,
            batch: Vec::with_capacity(BATCH_ROWS),
            chunks: std::collections::VecDeque::with_capacity(in_flight),
            in_flight,
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

    /// Appends the rows `make` writes, after every row handed in before; `make` runs on a
    /// worker thread, beside the caller and the other chunks. An error it returns (say, an
    /// item that does not decode) fails the stream.
    pub async fn write_chunk<F>(&mut self, make: F) -> Result<(), BlobError>
    where
        F: FnOnce(&mut CsvChunk) -> Result<(), String> + Send + 'static,
    {
        self.hand_over().await?;
        self.submit(make).await
    }

    /// Starts a chunk once fewer than [`in_flight`] are pending (collecting the oldest first).
    async fn submit<F>(&mut self, make: F) -> Result<(), BlobError>
    where
        F: FnOnce(&mut CsvChunk) -> Result<(), String> + Send + 'static,
    {
        while self.chunks.len() >= self.in_flight {
            self.collect().await?;
        }
        let tz = self.tz;
        self.chunks.push_back(tokio::task::spawn_blocking(move || {
            let mut chunk = CsvChunk::new(tz);
            make(&mut chunk)?;
            chunk.finish().map_err(|e| format!("csv: {e}"))
        }));
        Ok(())
    }

    /// Hands the collected rows to a worker.
    async fn hand_over(&mut self) -> Result<(), BlobError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
        self.submit(move |chunk| {
            for row in &batch {
                chunk.write_row(row).map_err(|e| format!("csv: {e}"))?;
            }
            Ok(())
        })
        .await
    }

    /// Sends `text` to the upload (the mark and header first, once).
    async fn upload_text(&mut self, text: Vec<u8>) -> Result<(), BlobError> {
        let upload = self
            .upload
            .as_mut()
            .ok_or_else(|| unavailable("upload already finished"))?;
        if !self.head.is_empty() {
            let head = std::mem::take(&mut self.head);
            self.bytes += head.len() as u64;
            upload.write(Bytes::from(head)).await?;
        }
        if text.is_empty() {
            return Ok(());
        }
        self.bytes += text.len() as u64;
        upload.write(Bytes::from(text)).await
    }

    /// Waits for the oldest chunk and uploads it.
    async fn collect(&mut self) -> Result<(), BlobError> {
        let Some(job) = self.chunks.pop_front() else {
            return Ok(());
        };
        let (text, rows) = match job.await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(unavailable(e)),
            Err(_) => return Err(unavailable("csv formatting stopped")),
        };
        self.rows += rows;
        self.upload_text(text).await
    }

    async fn drain(&mut self) -> Result<(), BlobError> {
        self.hand_over().await?;
        while !self.chunks.is_empty() {
            self.collect().await?;
        }
        // A document without rows still has its header.
        self.upload_text(Vec::new()).await
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
        // Pending chunks finish on their threads; their text is dropped.
        self.chunks.clear();
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
