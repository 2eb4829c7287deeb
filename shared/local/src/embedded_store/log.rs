//! Durability of the embedded store: the append-only JSON-lines log (one line per
//! acknowledged write, a transaction on one line), its replay when the store opens (a torn
//! last line dropped), and its compaction into a snapshot of the live items.

use super::stored::Entry;
use super::tables::Inner;
use super::EmbeddedStore;
use domain::ports::store::{Item, Key, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::RwLock;

/// Name of the log file inside the store directory.
pub const LOG_FILE: &str = "store.jsonl";

/// The log is compacted on open when it holds more than this many records...
const COMPACT_MIN_RECORDS: usize = 1024;
/// ...and more than this many times the number of live items.
const COMPACT_RATIO: usize = 2;
/// `put_many` hands the log this much serialized text per write call.
pub(super) const WRITE_CHUNK: usize = 4 << 20;

/// The open log file (opened for append) and what is known about it.
pub(super) struct Log {
    pub(super) file: File,
    /// Bytes in the file: a failed write is rolled back to this length.
    pub(super) len: u64,
    /// Records (puts and deletes, a transaction counts each of its writes) in the file.
    pub(super) records: usize,
}

/// One change of the table: the full new state of an item, or its removal.
pub(super) enum Change {
    Put(Item),
    Del(Key),
}

/// A log line, as written.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RecordOut<'a> {
    Put(&'a Item),
    Del(&'a Key),
    Tx(Vec<RecordOut<'a>>),
}

/// A log line, as read back.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RecordIn {
    Put(Item),
    Del(Key),
    Tx(Vec<RecordIn>),
}

impl RecordIn {
    fn records(&self) -> usize {
        match self {
            RecordIn::Put(_) | RecordIn::Del(_) => 1,
            RecordIn::Tx(ops) => ops.iter().map(RecordIn::records).sum(),
        }
    }

    fn into_changes(self, out: &mut Vec<Change>) {
        match self {
            RecordIn::Put(item) => out.push(Change::Put(item)),
            RecordIn::Del(key) => out.push(Change::Del(key)),
            RecordIn::Tx(ops) => ops.into_iter().for_each(|op| op.into_changes(out)),
        }
    }
}

pub(super) fn change_record(change: &Change) -> RecordOut<'_> {
    match change {
        Change::Put(item) => RecordOut::Put(item),
        Change::Del(key) => RecordOut::Del(key),
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

impl EmbeddedStore {
    /// Opens (creating it if needed) the store persisted under `dir`: replays the log, drops a
    /// torn last line, and compacts the log when it holds many more records than live items.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        let path = dir.join(LOG_FILE);
        let mut inner = Inner::default();
        let (good_len, records, torn) = if path.exists() {
            replay(&path, &mut inner)?
        } else {
            (0, 0, false)
        };
        if torn {
            tracing::warn!(path = %path.display(), "dropping a torn last line of the store log");
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| io_error("cannot open", &path, e))?;
            file.set_len(good_len)
                .map_err(|e| io_error("cannot truncate", &path, e))?;
        }
        let live = inner.items.len();
        let mut records = records;
        if records > COMPACT_MIN_RECORDS && records > COMPACT_RATIO * live {
            tracing::info!(records, live, path = %path.display(), "compacting the store log");
            write_snapshot(dir, &path, &inner.items)?;
            records = live;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("cannot open", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| io_error("cannot stat", &path, e))?
            .len();
        inner.log = Some(Log { file, len, records });
        Ok(Self {
            inner: RwLock::new(inner),
        })
    }
}

/// Replays the log at `path` into `inner`. Returns the length of the well-formed prefix, the
/// number of records in it, and whether a torn last line follows it.
fn replay(path: &Path, inner: &mut Inner) -> Result<(u64, usize, bool), StoreError> {
    let file = File::open(path).map_err(|e| io_error("cannot open", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut good_len = 0u64;
    let mut records = 0usize;
    let mut changes = Vec::new();
    let mut bad: Option<(usize, String)> = None;
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if let Some((bad_line, err)) = bad.take() {
            // A bad line followed by more data is not a torn write: the log is damaged.
            return Err(StoreError::Corrupt(format!(
                "{} line {bad_line}: {err}",
                path.display()
            )));
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) && line.ends_with(b"\n") {
            good_len += n as u64;
            continue;
        }
        if !line.ends_with(b"\n") {
            bad = Some((line_no, "line not terminated".into()));
            continue;
        }
        match serde_json::from_slice::<RecordIn>(text) {
            Ok(record) => {
                records += record.records();
                record.into_changes(&mut changes);
                for change in changes.drain(..) {
                    inner.apply(change);
                }
                good_len += n as u64;
            }
            Err(e) => bad = Some((line_no, e.to_string())),
        }
    }
    Ok((good_len, records, bad.is_some()))
}

/// Rewrites the log as one put per live item (temp file, fsync, rename, fsync the directory).
fn write_snapshot(dir: &Path, path: &Path, items: &BTreeSet<Entry>) -> Result<(), StoreError> {
    let tmp = dir.join(format!("{LOG_FILE}.compact"));
    let file = File::create(&tmp).map_err(|e| io_error("cannot create", &tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for Entry(stored) in items {
        let item = stored.to_item()?;
        serde_json::to_writer(&mut out, &RecordOut::Put(&item))
            .map_err(|e| StoreError::Unavailable(format!("cannot write snapshot: {e}")))?;
        out.write_all(b"\n")
            .map_err(|e| io_error("cannot write", &tmp, e))?;
    }
    let file = out
        .into_inner()
        .map_err(|e| io_error("cannot write", &tmp, e.into_error()))?;
    file.sync_all()
        .map_err(|e| io_error("cannot sync", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("cannot rename", &tmp, e))?;
    // Make the rename itself durable; not every platform lets a directory be synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Log {
    /// Appends `bytes` (whole lines); on failure the file is cut back to its previous length
    /// so a half-written line never stays in front of later ones.
    pub(super) fn append(&mut self, bytes: &[u8], records: usize) -> Result<(), StoreError> {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                self.records += records;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(StoreError::Unavailable(format!(
                    "cannot append to the store log: {e}"
                )))
            }
        }
    }
}

pub(super) fn encode_line(record: &RecordOut<'_>, out: &mut Vec<u8>) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, record)
        .map_err(|e| StoreError::Invalid(format!("item does not serialize: {e}")))?;
    out.push(b'\n');
    Ok(())
}
