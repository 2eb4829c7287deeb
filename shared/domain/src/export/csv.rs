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

/// Whether a field must be quoted: it holds a comma, a quote or a line break (RFC 4180;
/// what the csv crate's `QuoteStyle::Necessary` quotes with CRLF line ends).
fn needs_quotes(field: &str) -> bool {
    field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// Appends a text field, quoted (its quotes doubled) when it needs it.
fn push_text_field(out: &mut String, field: &str) {
    if !needs_quotes(field) {
        out.push_str(field);
        return;
    }
    out.push('"');
    let mut rest = field;
    while let Some(i) = rest.find('"') {
        out.push_str(&rest[..=i]);
        out.push('"');
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// Ends a line that began at `start`: a line with nothing on it (no field, or one empty
/// field) is written `""`, so that it still reads as one record.
fn end_line(out: &mut String, start: usize) {
    if out.len() == start {
        out.push_str("\"\"");
    }
    out.push_str("\r\n");
}

/// Appends one line: each item written by `field`, separated by commas, and the line end.
fn push_line<T>(out: &mut String, items: &[T], mut field: impl FnMut(&mut String, &T)) {
    let start = out.len();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, item);
    }
    end_line(out, start);
}

/// Appends one row: the cells' texts (text neutralised by [`cells::safe_text`] and quoted
/// where needed; numbers, booleans and instants never need quotes) and the line end.
fn push_row(out: &mut String, row: &[Cell], zone: &mut ZoneOffsets) {
    push_line(out, row, |out, cell| match cell {
        Cell::Text(t) => push_text_field(out, &cells::safe_text(t)),
        other => push_cell_text(out, other, zone),
    });
}

/// Appends the header line.
fn push_header(out: &mut String, header: &[&str]) {
    push_line(out, header, |out, h| {
        push_text_field(out, &cells::safe_text(h))
    });
}

/// Builds a whole CSV document in memory (small exports and tests).
pub fn to_csv(header: &[&str], rows: &[Vec<Cell>], tz: Tz, bom: bool) -> Vec<u8> {
    let mut out = String::new();
    if bom {
        out.push('\u{feff}');
    }
    push_header(&mut out, header);
    let mut zone = ZoneOffsets::new(tz);
    for row in rows {
        push_row(&mut out, row, &mut zone);
    }
    out.into_bytes()
}

/// A row whose number of fields differs from the header's.
#[derive(Debug, thiserror::Error)]
#[error("csv: a row of {got} fields under a header of {want}")]
pub struct FieldCount {
    pub want: usize,
    pub got: usize,
}

/// Rows formatted on a worker thread into one chunk of a [`CsvStream`] (the chunks join in
/// the order they were handed in).
pub struct CsvChunk {
    out: String,
    zone: ZoneOffsets,
    columns: usize,
    rows: u64,
}

impl CsvChunk {
    fn new(tz: Tz, columns: usize) -> Self {
        Self {
            out: String::with_capacity(CHUNK_BYTES),
            zone: ZoneOffsets::new(tz),
            columns,
            rows: 0,
        }
    }

    /// Appends one data row; it must have as many cells as the header has names.
    pub fn write_row(&mut self, row: &[Cell]) -> Result<(), FieldCount> {
        if row.len() != self.columns {
            return Err(FieldCount {
                want: self.columns,
                got: row.len(),
            });
        }
        push_row(&mut self.out, row, &mut self.zone);
        self.rows += 1;
        Ok(())
    }
}

/// The text a chunk usually reaches (its first allocation).
const CHUNK_BYTES: usize = 128 * 1024;

/// A chunk's text and rows, or why it failed.
type ChunkResult = Result<(String, u64), String>;

/// Work for the formatting threads.
type Job = Box<dyn FnOnce() + Send>;

/// The formatting threads: one per core.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Chunks handed in and not yet uploaded, per formatting thread: enough that the threads
/// find work while the caller waits on the upload or the store.
const QUEUED_PER_WORKER: usize = 4;

/// Starts `n` formatting threads (blocking threads of the Tokio runtime) taking jobs from one
/// queue in the order they were sent; they stop when the sender is gone and the queue is
/// empty.
fn start_workers(n: usize) -> std::sync::mpsc::Sender<Job> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    for _ in 0..n {
        let rx = std::sync::Arc::clone(&rx);
        tokio::task::spawn_blocking(move || loop {
            let next = rx
                .lock()
                .map_err(|_| ())
                .and_then(|r| r.recv().map_err(|_| ()));
            match next {
                Ok(job) => job(),
                Err(()) => return,
            }
        });
    }
    tx
}

/// A CSV document streamed into a blob upload (SPEC Q4). Work is handed in as chunks: a batch
/// of rows ([`CsvStream::write_owned_row`] collects [`BATCH_ROWS`]) or a closure that makes
/// its rows itself ([`CsvStream::write_chunk`], e.g. from a page of store items). Each chunk is
/// formatted by one of the stream's formatting threads (one per core, blocking threads of the
/// Tokio runtime, taking the chunks in order), and the finished chunks go to the upload in the
/// order they were handed in; at most [`QUEUED_PER_WORKER`] chunks per thread are pending, so
/// the memory stays bounded whatever the export's size.
pub struct CsvStream {
    tz: Tz,
    /// The header's number of names (every row has as many cells).
    columns: usize,
    /// The mark and header, until the first upload write.
    head: String,
    /// Rows not yet handed to a worker.
    batch: Vec<Vec<Cell>>,
    /// The formatting threads' queue (started with the first chunk).
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    workers: usize,
    /// The results of the chunks handed in, oldest first.
    chunks: std::collections::VecDeque<tokio::sync::oneshot::Receiver<ChunkResult>>,
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
        let mut head = String::new();
        if bom {
            head.push('\u{feff}');
        }
        push_header(&mut head, header);
        let workers = workers();
        Ok(Self {
            tz,
            columns: header.len(),
            head,
            batch: Vec::with_capacity(BATCH_ROWS),
            jobs: None,
            workers,
            chunks: std::collections::VecDeque::with_capacity(workers * QUEUED_PER_WORKER),
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

    /// Queues a chunk once fewer than [`QUEUED_PER_WORKER`] per thread are pending (uploading
    /// the oldest first).
    async fn submit<F>(&mut self, make: F) -> Result<(), BlobError>
    where
        F: FnOnce(&mut CsvChunk) -> Result<(), String> + Send + 'static,
    {
        while self.chunks.len() >= self.workers * QUEUED_PER_WORKER {
            self.collect().await?;
        }
        let (tz, columns) = (self.tz, self.columns);
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let mut chunk = CsvChunk::new(tz, columns);
            let made = make(&mut chunk).map(|()| (chunk.out, chunk.rows));
            // The stream may be gone (aborted): the text is dropped.
            let _ = done.send(made);
        });
        let workers = self.workers;
        let jobs = self.jobs.get_or_insert_with(|| start_workers(workers));
        if jobs.send(job).is_err() {
            return Err(unavailable("csv formatting stopped"));
        }
        self.chunks.push_back(result);
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
                chunk.write_row(row).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .await
    }

    /// Sends `text` to the upload (the mark and header first, once).
    async fn upload_text(&mut self, text: String) -> Result<(), BlobError> {
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
            // The job was dropped unrun: its thread stopped.
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
        self.upload_text(String::new()).await
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
        // The threads stop after the chunks queued; their text is dropped.
        self.jobs = None;
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

    /// The writer equals the csv crate (RFC 4180, quotes where necessary, CRLF) on fields
    /// with commas, quotes, line breaks, empty fields and lines with nothing on them.
    #[test]
    fn the_writer_equals_the_csv_crate() {
        let texts = [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "\"",
            "\"\"",
            "line\nbreak",
            "cr\rhere",
            "crlf\r\n",
            ",",
            "Zoë Nuñez",
            "=1+2",
            "-3",
            " lead",
            "trail ",
            "tab\tin",
            "'q'",
            "x\"y,z\nw",
        ];
        let zone = Tz::Asia__Kathmandu;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for (i, a) in texts.iter().enumerate() {
            for b in texts.iter().skip(i % 5) {
                rows.push(vec![
                    Cell::text(*a),
                    Cell::Int(i as i64 - 7),
                    Cell::text(*b),
                    Cell::Empty,
                    Cell::Time("2026-10-25T00:59:59Z".parse().unwrap()),
                    Cell::Decimal {
                        units: -(i as i64),
                        scale: 2,
                    },
                ]);
            }
            rows.push(vec![Cell::text(*a)]);
        }
        rows.push(vec![Cell::Empty]);
        rows.push(Vec::new());
        rows.push(vec![Cell::Empty, Cell::Empty]);
        let header = ["a", "n,1", "b\"", "", "when", "amount"];
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .flexible(true)
            .from_writer(BOM.to_vec());
        w.write_record(header.iter().map(|h| cells::safe_text(h).into_owned()))
            .unwrap();
        for row in &rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(t) => cells::safe_text(t).into_owned(),
                other => cell_text(other, zone),
            }))
            .unwrap();
        }
        let want = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let got = String::from_utf8(to_csv(&header, &rows, zone, true)).unwrap();
        assert_eq!(got, want);
        assert!(got.contains("\r\n\"\"\r\n\"\"\r\n,\r\n"), "{got:?}");
    }

    /// A streamed row must have as many cells as the header has names; a refused row leaves
    /// the chunk as it was.
    #[test]
    fn a_chunk_refuses_a_row_of_another_width() {
        let mut chunk = CsvChunk::new(Tz::UTC, 2);
        chunk.write_row(&[Cell::Int(1), Cell::text("a")]).unwrap();
        let err = chunk.write_row(&[Cell::Int(2)]).unwrap_err();
        assert_eq!((err.want, err.got), (2, 1));
        assert_eq!(
            err.to_string(),
            "csv: a row of 1 fields under a header of 2"
        );
        assert!(chunk
            .write_row(&[Cell::Int(3), Cell::Empty, Cell::Empty])
            .is_err());
        assert_eq!((chunk.out.as_str(), chunk.rows), ("1,a\r\n", 1));
    }

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
