//! The export benchmarks: the Consultations report of the demo generator's benchmark volume,
//! written by our exporters (from the store to the finished file) and by the raw writers and
//! Python's XlsxWriter (from the same rows already in memory).

use crate::mem::{Probe, Taken};
use chrono::{DateTime, Duration, Offset as _, SecondsFormat, Utc};
use chrono_tz::Tz;
use domain::export::cells::Cell;
use domain::export::csv::CsvStream;
use domain::org_reports::config::load_config;
use domain::org_reports::consultations::{ConsultationFilter, FIELDS};
use domain::org_reports::download::{build_report, write_workbook, ReportType};
use domain::org_reports::load::{stream_consultation_csv, stream_consultation_rows, STREAM_PAGE};
use domain::org_reports::params::ReportParams;
use domain::org_reports::ReportScope;
use domain::ports::BlobStore;
use local_adapters::demo::{load_demo, DemoConfig, Scale};
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The report's zone: Paris, so instants cross DST changes.
pub const ZONE: Tz = chrono_tz::Europe::Paris;

/// One measured export.
#[derive(Debug, Clone)]
pub struct Measured {
    pub rows: u64,
    pub taken: Taken,
    pub bytes: u64,
}

impl Measured {
    /// The figures of an export that wrote `rows` rows to the file at `path` in `taken`,
    /// printed; the file is removed.
    fn of_file(rows: u64, taken: Taken, path: &Path) -> Self {
        let measured = Self {
            rows,
            taken,
            bytes: file_len(path),
        };
        eprintln!("  {measured:?}");
        let _ = std::fs::remove_file(path);
        measured
    }

    pub fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.taken.wall.as_secs_f64().max(1e-9)
    }
}

/// Python's figures (measured by the script itself).
#[derive(Debug, Clone)]
pub struct PythonMeasured {
    pub rows: u64,
    /// Writing only (reading the hand-over file is not counted).
    pub write_s: f64,
    /// CPU time of the writing (user + system).
    pub cpu_s: f64,
    /// The interpreter's whole peak (`ru_maxrss`), interpreter included.
    pub peak_kib: u64,
    pub bytes: u64,
}

/// Everything the export section measured.
pub struct ExportFigures {
    pub load_events: u64,
    pub load_s: f64,
    pub store_rss_kib: Option<u64>,
    /// Ours and the raw writers: the best of the rounds.
    pub best: Round,
    pub python: Result<PythonMeasured, String>,
    /// Items read per row of every organisation report, and by the summary tiles.
    pub reads: Result<(Vec<crate::reads::ReportReads>, u64), String>,
}

pub struct ExportOptions {
    pub rows: u64,
    pub tiny: bool,
    pub workdir: PathBuf,
    /// Python interpreter with XlsxWriter installed (None: the Python row is skipped).
    pub python: Option<PathBuf>,
    pub python_script: PathBuf,
    /// Rounds of the exports; each figure is the best of them.
    pub rounds: usize,
    /// Time the stages of the rows' producer before the rounds ([`producer_stages`]).
    pub stages: bool,
}

fn scope() -> ReportScope {
    ReportScope::Org {
        org_id: "org-1".into(),
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub async fn run(opts: &ExportOptions) -> Result<ExportFigures, String> {
    std::fs::create_dir_all(&opts.workdir).map_err(|e| e.to_string())?;
    let now = Utc::now();
    // One organisation, as `local-server serve --bench-rows N` loads it.
    let mut scale = Scale {
        organisations: 1,
        ..Scale::bench(opts.rows)
    };
    if opts.tiny {
        // The smallest world the generator allows: seconds in a debug build.
        scale = Scale {
            accounts_per_org: 0,
            practitioners: 0,
            patients: 0,
            threads: 0,
            vouchers: 0,
            room_calls: 0,
            ..scale
        };
    }
    let config = DemoConfig {
        scale,
        ..DemoConfig::demo(now)
    };
    let store = EmbeddedStore::in_memory();
    eprintln!(
        "loading the demo data ({} consultation rows) through ingest into the in-memory store...",
        opts.rows
    );
    let started = std::time::Instant::now();
    let summary = load_demo(&store, &config)
        .await
        .map_err(|e| format!("demo load: {e}"))?;
    let load_s = started.elapsed().as_secs_f64();
    let store_rss_kib = crate::mem::status_kib(None, "VmRSS");
    eprintln!(
        "loaded {} events in {load_s:.1} s (RSS {} MiB)",
        summary.total_events(),
        store_rss_kib.unwrap_or(0) / 1024
    );

    let report_config = load_config(&store, "org-1")
        .await
        .map_err(|e| format!("config: {e}"))?;
    let params = ReportParams {
        from: (now - Duration::days(local_adapters::demo::WINDOW_DAYS + 7)).date_naive(),
        to: now.date_naive(),
        zone: ZONE,
        min_duration_seconds: 0,
    };

    // Read efficiency: every report built whole on a counting store, then the tiles.
    eprintln!("reads: items read per row of every report, and by the tiles...");
    let reads = crate::reads::measure(&store, &scope(), &params, &report_config).await;
    eprintln!("  {:?}", reads);

    // The same rows in memory, for the raw writers.
    eprintln!("building the rows in memory for the raw writers...");
    let rows = build_report(
        &store,
        &scope(),
        ReportType::Consultations,
        &params,
        &report_config,
    )
    .await
    .map_err(|e| format!("rows: {e}"))?;

    // The exports, in rounds: every writer once per round, the best (shortest) wall time of
    // each kept. A virtual machine's CPU is taken by its host now and then (`st` in vmstat: 0
    // to 28% on this machine within minutes); interleaving the writers spreads that over all
    // of them, and the minimum is the figure least disturbed by it.
    let blobs = DirBlobs::new(
        opts.workdir.join("blobs"),
        "http://127.0.0.1:0".into(),
        vec![7; 32],
    );
    if opts.stages {
        producer_stages(&store, &params).await?;
    }
    let mut best: Option<Round> = None;
    for round in 1..=opts.rounds.max(1) {
        eprintln!("round {round} of {}", opts.rounds.max(1));
        let r = export_round(opts, &store, &blobs, &params, &report_config, &rows).await?;
        best = Some(match best {
            None => r,
            Some(b) => b.best_with(r),
        });
    }
    let Some(best) = best else {
        return Err("no round ran".into());
    };
    if rows.len() as u64 != best.xlsx_ours.rows || best.csv_ours.rows != best.xlsx_ours.rows {
        return Err(format!(
            "the raw rows ({}) differ from the exports' ({}, {})",
            rows.len(),
            best.xlsx_ours.rows,
            best.csv_ours.rows
        ));
    }

    // 5. Python XlsxWriter, the rows handed over as JSON lines.
    let python = match &opts.python {
        None => Err("skipped: no Python interpreter given (--python)".to_string()),
        Some(py) => {
            eprintln!("xlsx: Python XlsxWriter constant_memory...");
            let data = opts.workdir.join("rows.jsonl");
            write_jsonl(&rows, &data).map_err(|e| format!("hand-over file: {e}"))?;
            drop(rows);
            let out = opts.workdir.join("python.xlsx");
            let result = run_python(py, &opts.python_script, &data, &out);
            let _ = std::fs::remove_file(&data);
            let _ = std::fs::remove_file(&out);
            eprintln!("  {:?}", result);
            result
        }
    };
    Ok(ExportFigures {
        load_events: summary.total_events(),
        load_s,
        store_rss_kib,
        best,
        python,
        reads,
    })
}

/// One round of the exports: ours (XLSX on two threads and on one, CSV) from the store, then
/// the raw writers from the rows in memory.
pub struct Round {
    pub xlsx_ours: Measured,
    /// The same on one thread: store read and workbook written in turn.
    pub xlsx_one_thread: Measured,
    pub csv_ours: Measured,
    pub xlsx_raw: Measured,
    /// The raw writer at our zip level ([`domain::export::xlsx::ZIP_LEVEL`]) instead of its
    /// default: the like-for-like comparison.
    pub xlsx_raw_our_level: Measured,
    pub csv_raw: Measured,
}

/// Of two measures of the same export, the one with the shorter wall time, with the higher
/// of the two peaks (memory is not disturbed by the host; keep the worse).
fn best_of(a: Measured, b: Measured) -> Measured {
    let peak = match (a.taken.peak_kib, b.taken.peak_kib) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
    let mut best = if b.taken.wall < a.taken.wall { b } else { a };
    best.taken.peak_kib = peak;
    best
}

impl Round {
    fn best_with(self, o: Round) -> Round {
        Round {
            xlsx_ours: best_of(self.xlsx_ours, o.xlsx_ours),
            xlsx_one_thread: best_of(self.xlsx_one_thread, o.xlsx_one_thread),
            csv_ours: best_of(self.csv_ours, o.csv_ours),
            xlsx_raw: best_of(self.xlsx_raw, o.xlsx_raw),
            xlsx_raw_our_level: best_of(self.xlsx_raw_our_level, o.xlsx_raw_our_level),
            csv_raw: best_of(self.csv_raw, o.csv_raw),
        }
    }
}

/// Every export once. The phase lines on stderr are what `infra/profile.sh` waits for.
async fn export_round(
    opts: &ExportOptions,
    store: &EmbeddedStore,
    blobs: &DirBlobs,
    params: &ReportParams,
    report_config: &domain::org_reports::config::ReportConfig,
    rows: &[Vec<Cell>],
) -> Result<Round, String> {
    // 1. Our XLSX export: the download's and the emailed report's code path.
    eprintln!("xlsx: our export (store -> finished file)...");
    let probe = Probe::start();
    let (path, written) = write_workbook(
        store,
        &scope(),
        ReportType::Consultations,
        params,
        report_config,
        &opts.workdir,
        "ours",
        None,
        about(params),
    )
    .await
    .map_err(|p| format!("our xlsx export: {p:?}"))?;
    let taken = probe.stop();
    let xlsx_ours = Measured::of_file(written.rows, taken, &path);

    // 1b. The same on one thread: the store read and the workbook written in turn.
    eprintln!("xlsx: our export, one thread...");
    let probe = Probe::start();
    let (path, rows_written) = xlsx_one_thread(store, params, &opts.workdir).await?;
    let taken = probe.stop();
    let xlsx_one_thread = Measured::of_file(rows_written, taken, &path);

    // 2. Our CSV export: the same rows, each page of the store decoded and formatted on
    //    `CsvStream`'s threads, into a streamed upload (the blob adapter of the local run, a
    //    file).
    eprintln!("csv: our export (store -> finished file)...");
    let probe = Probe::start();
    let (csv_rows, bytes) = csv_ours(store, blobs, params).await?;
    let taken = probe.stop();
    let csv_ours = Measured {
        rows: csv_rows,
        taken,
        bytes,
    };
    eprintln!("  {:?}", csv_ours);
    if let Ok(p) = blobs.path("bench/ours.csv") {
        let _ = std::fs::remove_file(p);
    }

    // 3. The raw rust_xlsxwriter constant-memory writer, at its default zip level and at ours.
    let raw_path = opts.workdir.join("raw.xlsx");
    let xlsx_raw = measure_raw(
        "xlsx: raw rust_xlsxwriter constant-memory",
        rows,
        &raw_path,
        |r, p| write_xlsx_raw(r, p, &opts.workdir, None).map_err(|e| format!("raw xlsx: {e}")),
    )?;
    let xlsx_raw_our_level = measure_raw(
        "xlsx: raw rust_xlsxwriter constant-memory at our zip level",
        rows,
        &raw_path,
        |r, p| {
            write_xlsx_raw(r, p, &opts.workdir, Some(domain::export::xlsx::ZIP_LEVEL))
                .map_err(|e| format!("raw xlsx: {e}"))
        },
    )?;

    // 4. The raw csv crate.
    let csv_raw = measure_raw(
        "csv: raw csv crate",
        rows,
        &opts.workdir.join("raw.csv"),
        |r, p| csv_raw(r, p).map_err(|e| format!("raw csv: {e}")),
    )?;
    Ok(Round {
        xlsx_ours,
        xlsx_one_thread,
        csv_ours,
        xlsx_raw,
        xlsx_raw_our_level,
        csv_raw,
    })
}

/// Times one raw writer writing `rows` to `path` (announced as `what`, the phase line
/// `infra/profile.sh` waits for), then removes the file.
fn measure_raw(
    what: &str,
    rows: &[Vec<Cell>],
    path: &Path,
    write: impl FnOnce(&[Vec<Cell>], &Path) -> Result<(), String>,
) -> Result<Measured, String> {
    eprintln!("{what}...");
    let probe = Probe::start();
    write(rows, path)?;
    Ok(Measured::of_file(rows.len() as u64, probe.stop(), path))
}

/// Our XLSX exporter on one thread: the store's row stream and [`XlsxReport::push_row`]
/// polled together on the calling thread (`join!`), so reading and writing take turns — the
/// baseline of what the second core saves.
async fn xlsx_one_thread(
    store: &EmbeddedStore,
    params: &ReportParams,
    workdir: &Path,
) -> Result<(PathBuf, u64), String> {
    use domain::export::xlsx::{XlsxOptions, XlsxReport};
    let filter = ConsultationFilter {
        start: params.start_utc(),
        end: params.end_utc(),
        clinic_id: None,
        min_duration_seconds: params.min_duration_seconds,
    };
    let options = XlsxOptions::new(params.zone, workdir);
    let path = workdir.join("one-thread.xlsx");
    let mut report = XlsxReport::new(FIELDS, options).map_err(|e| e.to_string())?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(4);
    let producer = async move {
        let r = stream_consultation_rows(store, &scope(), &filter, STREAM_PAGE, &tx).await;
        drop(tx);
        r
    };
    let consumer = async {
        while let Some(batch) = rx.recv().await {
            for row in &batch {
                report.push_row(row).map_err(|e| e.to_string())?;
            }
        }
        Ok::<_, String>(())
    };
    let (produced, consumed) = tokio::join!(producer, consumer);
    produced.map_err(|e| e.to_string())?;
    consumed?;
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let s = report
        .finish(std::io::BufWriter::new(file))
        .map_err(|e| e.to_string())?;
    Ok((path, s.rows))
}

/// Our CSV export of the Consultations rows: the segment index read page by page from the
/// store on one task, each page decoded, made into rows and formatted by [`CsvStream`]'s
/// workers, one page per core (`load::stream_consultation_csv`).
async fn csv_ours(
    store: &EmbeddedStore,
    blobs: &DirBlobs,
    params: &ReportParams,
) -> Result<(u64, u64), String> {
    let header: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    let upload = blobs
        .start_upload("bench/ours.csv", "text/csv; charset=utf-8")
        .await
        .map_err(|e| e.to_string())?;
    let mut csv = CsvStream::new(upload, &header, params.zone, true).map_err(|e| e.to_string())?;
    let filter = ConsultationFilter {
        start: params.start_utc(),
        end: params.end_utc(),
        clinic_id: None,
        min_duration_seconds: params.min_duration_seconds,
    };
    if let Err(e) = stream_consultation_csv(store, &scope(), &filter, STREAM_PAGE, &mut csv).await {
        csv.abort().await;
        return Err(e.to_string());
    }
    csv.finish().await.map_err(|e| e.to_string())
}

/// The stages of the exports' row producer, each timed over the whole period on one thread
/// (best of three, printed on stderr): the segment index's pages read, the same and their
/// items decoded, the same and the rows built (`load::stream_consultation_rows` does all three
/// in turn). Diagnostics for the CSV export's target (`--stages`).
async fn producer_stages(store: &EmbeddedStore, params: &ReportParams) -> Result<(), String> {
    use domain::org_reports::consultations::{view_rows, ConsultationInput, SegmentView};
    use domain::org_reports::load;
    use domain::ports::{Index, LazyItem, Query, SkRange, Store};
    use domain::readmodels::{lists, sort_time};
    let filter = ConsultationFilter {
        start: params.start_utc(),
        end: params.end_utc(),
        clinic_id: None,
        min_duration_seconds: params.min_duration_seconds,
    };
    let lookups = ConsultationInput {
        organisation: load::organisation(store, "org-1")
            .await
            .map_err(|e| e.to_string())?,
        clinics: load::clinics(store, "org-1")
            .await
            .map_err(|e| e.to_string())?,
        accounts: load::accounts(store, "org-1")
            .await
            .map_err(|e| e.to_string())?,
        segments: Vec::new(),
    };
    let mut best = [f64::MAX; 3];
    let mut counts = [0usize; 3];
    for _ in 0..3 {
        for (stage, slot) in best.iter_mut().enumerate() {
            let started = std::time::Instant::now();
            let mut query = Query::partition(Index::Gsi2, lists::org_segments("org-1"))
                .range(SkRange::Between(
                    sort_time(filter.start),
                    sort_time(filter.end),
                ))
                .limit(STREAM_PAGE);
            let mut n = 0usize;
            loop {
                let page = store.query_lazy(&query).await.map_err(|e| e.to_string())?;
                if stage == 0 {
                    n += page.items.len();
                } else {
                    let segments = page
                        .items
                        .iter()
                        .map(LazyItem::decode::<SegmentView>)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| e.to_string())?;
                    if stage == 1 {
                        n += segments.len();
                    } else {
                        let mut rows = Vec::new();
                        for seg in &segments {
                            view_rows(&lookups, seg, &filter, &mut rows);
                        }
                        n += rows.len();
                    }
                }
                match page.next {
                    Some(c) => query.after = Some(c),
                    None => break,
                }
            }
            *slot = slot.min(started.elapsed().as_secs_f64());
            counts[stage] = n;
        }
    }
    eprintln!(
        "producer stages: pages read {:.3} s ({} items); + decoded {:.3} s; + rows built {:.3} s ({} rows)",
        best[0], counts[0], best[1], best[2], counts[2]
    );
    Ok(())
}

/// rust_xlsxwriter's constant-memory worksheet, written the plain way from typed rows, at
/// the writer's default zip level or at `zip_level`.
fn write_xlsx_raw(
    rows: &[Vec<Cell>],
    path: &Path,
    tempdir: &Path,
    zip_level: Option<u8>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use domain::export::xlsx::{DATETIME_UNIT, OFFSET_FORMAT, OFFSET_SUFFIX};
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    workbook.set_tempdir(tempdir)?;
    if let Some(level) = zip_level {
        workbook.set_zip_compression_level(level);
    }
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let duration = Format::new().set_num_format("[h]:mm:ss");
    let offset = Format::new().set_num_format(OFFSET_FORMAT);
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    // The same cells as ours: a UTC-offset column beside each date-time column.
    let mut at = Vec::with_capacity(FIELDS.len());
    let mut col = 0u16;
    for f in FIELDS {
        at.push(col);
        sheet.write_string(0, col, f.name)?;
        col += 1;
        if f.unit == DATETIME_UNIT {
            sheet.write_string(0, col, format!("{}{OFFSET_SUFFIX}", f.name))?;
            col += 1;
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = at[c];
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Cell::Int(n) => {
                    sheet.write_number(r, c, *n as f64)?;
                }
                Cell::Decimal { units, scale } => {
                    sheet.write_number(r, c, *units as f64 / 10f64.powi(*scale as i32))?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, *b)?;
                }
                Cell::Time(t) => {
                    let local = t.with_timezone(&ZONE);
                    sheet.write_datetime_with_format(r, c, local.naive_local(), &datetime)?;
                    let hours = f64::from(local.offset().fix().local_minus_utc()) / 3_600.0;
                    sheet.write_number_with_format(r, c + 1, hours, &offset)?;
                }
                Cell::Seconds(s) => {
                    sheet.write_number_with_format(r, c, *s as f64 / 86_400.0, &duration)?;
                }
            }
        }
    }
    workbook.save(path)
}

/// The About sheet's lines of the benchmark's workbook (what a download writes).
fn about(params: &ReportParams) -> Vec<(String, String)> {
    [
        ("Report", "Consultations".to_string()),
        ("Organisation", "Benchmark organisation".to_string()),
        ("Period", format!("{} to {}", params.from, params.to)),
        ("Time zone", params.zone.name().to_string()),
        (
            "Minimum duration",
            format!("{} seconds", params.min_duration_seconds),
        ),
        ("Requested by", "Benchmark".to_string()),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_string(), v))
    .collect()
}

fn time_text(t: &DateTime<Utc>) -> String {
    t.with_timezone(&ZONE)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The csv crate, written the plain way from typed rows (one `String` per field).
fn csv_raw(rows: &[Vec<Cell>], path: &Path) -> Result<(), csv::Error> {
    let file = std::fs::File::create(path)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record(FIELDS.iter().map(|f| f.name))?;
    for row in rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Decimal { units, scale } => {
                (*units as f64 / 10f64.powi(*scale as i32)).to_string()
            }
            Cell::Bool(b) => b.to_string(),
            Cell::Time(t) => time_text(t),
            Cell::Seconds(s) => s.to_string(),
        }))?;
    }
    w.flush()?;
    Ok(())
}

/// The rows for Python: one JSON array per line; `null` empty, strings, numbers, booleans,
/// `{"t": "YYYY-MM-DDTHH:MM:SS"}` a local date-time, `{"d": seconds}` a duration.
fn write_jsonl(rows: &[Vec<Cell>], path: &Path) -> std::io::Result<()> {
    use serde_json::{json, Value};
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let header: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    for row in rows {
        let cells: Vec<Value> = row
            .iter()
            .map(|c| match c {
                Cell::Empty => Value::Null,
                Cell::Text(s) => Value::from(s.as_str()),
                Cell::Int(n) => Value::from(*n),
                Cell::Decimal { units, scale } => {
                    Value::from(*units as f64 / 10f64.powi(*scale as i32))
                }
                Cell::Bool(b) => Value::from(*b),
                Cell::Time(t) => json!({
                    "t": t.with_timezone(&ZONE).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string()
                }),
                Cell::Seconds(s) => json!({ "d": s }),
            })
            .collect();
        serde_json::to_writer(&mut out, &cells)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn run_python(
    python: &Path,
    script: &Path,
    data: &Path,
    out: &Path,
) -> Result<PythonMeasured, String> {
    let output = Command::new(python)
        .arg(script)
        .arg(data)
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the Python script failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("the Python script's answer: {e}"))?;
    Ok(PythonMeasured {
        rows: v["rows"].as_u64().unwrap_or(0),
        write_s: v["write_seconds"].as_f64().unwrap_or(0.0),
        cpu_s: v["write_cpu_seconds"].as_f64().unwrap_or(0.0),
        peak_kib: v["peak_rss_kib"].as_u64().unwrap_or(0),
        bytes: file_len(out),
    })
}
