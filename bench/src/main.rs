//! `bench`: the benchmarks of SPEC Q4, printed as one markdown table (and written to a file).
//!
//! ```text
//! bench [--rows N] [--tiny] [--out FILE] [--workdir DIR] [--python PY]
//!       [--functions-dir DIR] [--functions a,b] [--runs N] [--rounds N] [--no-exports]
//!       [--no-cold-start] [--stages] [--emulator PROGRAM [--emulator-sysroot DIR]]
//! ```
//!
//! (`bench --help`, and `src/cli.rs`, for each flag.)
//!
//! - Exports (`exports`): the Consultations report of the demo generator's benchmark volume
//!   (`--rows`, default 1,000,000), our XLSX and CSV exports from the store to the finished file
//!   beside the raw rust_xlsxwriter and csv crate writers (and Python's XlsxWriter when `--python`
//!   names an interpreter that has it) writing the same rows already in memory. `--rounds N`
//!   runs every export N times, interleaved, and keeps each one's best wall time (default 1).
//! - Cold start and size (`coldstart`): every binary under `--functions-dir` named after the
//!   crates of `functions/` (`--functions` picks some), `--runs` starts each; a directory of
//!   cargo-lambda's layout (`<name>/bootstrap`) serves too, and `--emulator` starts the binaries
//!   of another architecture (the arm64 artifacts under qemu-user: they start and answer).
//! - `--tiny`: 2,000 rows and the smallest demo world, 3 starts per function: the test command
//!   runs it so the harness cannot rot (its figures mean nothing).
//!
//! `infra/bench.sh` builds the release binaries and runs this.

mod cli;
mod coldstart;
mod exports;
mod mem;
mod reads;

use clap::Parser;
use cli::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> ExitCode {
    // Usage errors exit 2 with clap's message; `--help` and `--version` exit 0.
    let args = cli::Cli::parse().resolve();
    let root = workspace_root();
    let mut table = Table::default();
    let mut failed = false;

    if args.exports {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        let opts = exports::ExportOptions {
            rows: args.rows,
            tiny: args.tiny,
            workdir: args.workdir.clone(),
            python: args.python.clone(),
            python_script: root.join("infra/python/bench_xlsxwriter.py"),
            rounds: args.rounds,
            stages: args.stages,
        };
        match runtime.block_on(exports::run(&opts)) {
            Ok(f) => {
                if args.python.is_some() && f.python.is_err() {
                    failed = true;
                }
                table.exports(&f);
            }
            Err(e) => {
                eprintln!("exports: {e}");
                failed = true;
                table.row("exports", &format!("failed: {e}"), "", "no");
            }
        }
        let _ = std::fs::remove_dir_all(&args.workdir);
    }
    if args.cold_start {
        let names = args
            .functions
            .clone()
            .unwrap_or_else(|| coldstart::function_names(&root));
        let dir = args
            .functions_dir
            .clone()
            .unwrap_or_else(|| root.join("target/release"));
        let launcher = coldstart::Launcher {
            emulator: args.emulator.clone(),
            sysroot: args.emulator_sysroot.clone(),
        };
        if let Some(emulator) = &launcher.emulator {
            table.row(
                "functions started under an emulator (start times and memory below are the emulator's)",
                &emulator.display().to_string(),
                "",
                "",
            );
        }
        let results = coldstart::measure_all(&launcher, &dir, &names, args.runs);
        failed |= results.iter().any(|r| r.runs.is_err());
        table.cold_starts(&results, args.runs, launcher.emulator.is_some());
        if names.iter().any(|n| n == "health") {
            let answered = invocations(&launcher, &coldstart::Launcher::binary(&dir, "health"));
            failed |= answered.is_err();
            table.row(
                "`health` invoked through the runtime API stub with API Gateway payload 2.0 events (a `GET /health`; a `POST` whose body is marked base64 and is not)",
                &match &answered {
                    Ok(s) => s.clone(),
                    Err(e) => format!("failed: {e}"),
                },
                "200 with the status; 400 naming `body`",
                yes(answered.is_ok()),
            );
        }
    }
    table.hooks();

    let text = table.render(&args);
    println!("{text}");
    if let Some(out) = &args.out {
        if let Err(e) = std::fs::write(out, &text) {
            eprintln!("cannot write {}: {e}", out.display());
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// An HTTP API (payload 2.0) event for `health`, as API Gateway sends it.
fn health_event(method: &str, body: Option<&str>, base64: bool) -> String {
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} /health"),
        "rawPath": "/health",
        "rawQueryString": "",
        "headers": {"accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "stage": "$default",
            "requestId": "bench-request-1", "routeKey": format!("{method} /health"),
            "domainName": "bench.example", "domainPrefix": "bench",
            "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 1795392000000_i64,
            "http": {"method": method, "path": "/health", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "bench"}
        },
        "isBase64Encoded": base64
    });
    if let Some(b) = body {
        event["body"] = serde_json::json!(b);
    }
    event.to_string()
}

/// Two invocations of the `health` binary through the runtime API stub: a `GET /health`
/// answered 200 with `{"status":"ok"}` as text JSON, and a body marked base64 that is not,
/// answered 400 naming `body` — the Lambda glue (`aws_adapters::lambda`) on the real binary.
fn invocations(launcher: &coldstart::Launcher, bin: &std::path::Path) -> Result<String, String> {
    let parse = |text: &str| -> Result<serde_json::Value, String> {
        serde_json::from_str(text).map_err(|e| format!("{e}: {text}"))
    };
    let body_of = |resp: &serde_json::Value| -> Result<serde_json::Value, String> {
        parse(resp["body"].as_str().ok_or("no text body")?)
    };
    let ok = parse(&coldstart::invoke_once(
        launcher,
        bin,
        "health",
        &health_event("GET", None, false),
    )?)?;
    if ok["statusCode"] != 200
        || ok["isBase64Encoded"] != false
        || !ok["headers"]["content-type"]
            .as_str()
            .is_some_and(|c| c.starts_with("application/json"))
        || body_of(&ok)?["status"] != "ok"
    {
        return Err(format!("GET /health answered {ok}"));
    }
    let refused = parse(&coldstart::invoke_once(
        launcher,
        bin,
        "health",
        &health_event("POST", Some("not base64!"), true),
    )?)?;
    if refused["statusCode"] != 400 || body_of(&refused)?["field"] != "body" {
        return Err(format!("the bad base64 body was answered {refused}"));
    }
    Ok("GET: 200 `{\"status\":\"ok\"}`; bad base64 body: 400 naming `body`".to_string())
}

// ---- The table ----

#[derive(Default)]
struct Table {
    rows: Vec<[String; 4]>,
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

fn export_figure(m: &exports::Measured) -> String {
    format!(
        "{} rows in {} (CPU {}) = {} rows/s; peak {}; {:.1} MB file",
        thousands(m.rows),
        secs(m.taken.wall),
        m.taken.cpu.map_or("n/a".into(), secs),
        thousands(m.rows_per_s() as u64),
        mib(m.taken.peak_kib),
        m.bytes as f64 / 1e6
    )
}

impl Table {
    fn row(&mut self, what: &str, figure: &str, target: &str, met: &str) {
        self.rows
            .push([what.into(), figure.into(), target.into(), met.into()]);
    }

    fn exports(&mut self, f: &exports::ExportFigures) {
        self.row(
            "setup: demo data through ingest into the in-memory store (not an export)",
            &format!(
                "{} events in {:.1} s; process RSS then {}",
                thousands(f.load_events),
                f.load_s,
                mib(f.store_rss_kib)
            ),
            "",
            "",
        );
        let ours = &f.best.xlsx_ours;
        let raw = &f.best.xlsx_raw;
        let peak_ok = ours.taken.peak_kib.is_some_and(|k| k <= 64 * 1024);
        self.row(
            "XLSX, ours: Consultations report from the store to the finished file (`write_workbook`, the download and email path)",
            &export_figure(ours),
            "peak ≤ 64 MiB",
            yes(peak_ok),
        );
        let one = &f.best.xlsx_one_thread;
        self.row(
            "XLSX, ours on one thread (store read and workbook written in turn, instead of the store read on the runtime beside the writing thread)",
            &export_figure(one),
            "",
            "",
        );
        self.row(
            "XLSX speed-up of the second core (one thread / ours)",
            &format!(
                "{:.2}×",
                one.taken.wall.as_secs_f64() / ours.taken.wall.as_secs_f64().max(1e-9)
            ),
            "",
            "",
        );
        self.row(
            "XLSX, raw rust_xlsxwriter constant-memory, same rows already in memory",
            &export_figure(raw),
            "",
            "",
        );
        let level = &f.best.xlsx_raw_our_level;
        self.row(
            &format!(
                "XLSX, raw writer at our zip level ({}, Excel's; the default is 6), same rows",
                domain::export::xlsx::ZIP_LEVEL
            ),
            &export_figure(level),
            "",
            "",
        );
        let ratio = ours.taken.wall.as_secs_f64() / level.taken.wall.as_secs_f64().max(1e-9);
        self.row(
            "XLSX ours / raw at the same zip level (wall time)",
            &format!("{ratio:.2}×"),
            "≤ 1.10×",
            yes(ratio <= 1.10),
        );
        let ratio = ours.taken.wall.as_secs_f64() / raw.taken.wall.as_secs_f64().max(1e-9);
        self.row(
            "XLSX ours / raw at its default zip level (wall time; below 1× = past the raw writer)",
            &format!("{ratio:.2}×"),
            "",
            "",
        );
        match &f.python {
            Ok(p) => {
                let rate = p.rows as f64 / p.write_s.max(1e-9);
                self.row(
                    "XLSX, Python XlsxWriter `constant_memory=True`, same rows (writing only; peak = the interpreter's whole VmHWM)",
                    &format!(
                        "{} rows in {:.2} s (CPU {:.2} s) = {} rows/s; peak {}; {:.1} MB file",
                        thousands(p.rows),
                        p.write_s,
                        p.cpu_s,
                        thousands(rate as u64),
                        mib(Some(p.peak_kib)),
                        p.bytes as f64 / 1e6
                    ),
                    "",
                    "",
                );
                let speed = p.write_s / ours.taken.wall.as_secs_f64().max(1e-9);
                self.row(
                    "XLSX Python / ours (wall time)",
                    &format!("{speed:.1}×"),
                    "≥ 8×",
                    yes(speed >= 8.0),
                );
            }
            Err(e) => self.row("XLSX, Python XlsxWriter", e, "", ""),
        }
        let cours = &f.best.csv_ours;
        let craw = &f.best.csv_raw;
        self.row(
            "CSV, ours: the same report from the store into a streamed upload (file), each page of the store decoded and formatted on `CsvStream`'s threads, one per core (`load::stream_consultation_csv`)",
            &export_figure(cours),
            "≥ 1,000,000 rows/s",
            yes(cours.rows_per_s() >= 1_000_000.0),
        );
        self.row(
            "CSV, raw csv crate, same rows already in memory",
            &export_figure(craw),
            "",
            "",
        );
        let ratio = cours.taken.wall.as_secs_f64() / craw.taken.wall.as_secs_f64().max(1e-9);
        self.row(
            "CSV ours / raw (wall time)",
            &format!("{ratio:.2}×"),
            "≤ 1.20×",
            yes(ratio <= 1.20),
        );
        match &f.reads {
            Ok((reports, tiles)) => {
                for r in reports.iter().filter(|r| r.from_statistics) {
                    self.row(
                        &format!(
                            "store items read by organisation report `{}` from the statistics \
                             items (compare two volumes 10× apart)",
                            r.report
                        ),
                        &format!(
                            "{} rows, {} items read",
                            thousands(r.rows),
                            thousands(r.read)
                        ),
                        "the same at both volumes",
                        "",
                    );
                }
                for r in reports.iter().filter(|r| !r.from_statistics) {
                    self.row(
                        &format!(
                            "store items read per row: organisation report `{}`",
                            r.report
                        ),
                        &format!(
                            "{} rows, {} items read = {:.2} per row",
                            thousands(r.rows),
                            thousands(r.read),
                            r.per_row()
                        ),
                        "≤ 1.05",
                        yes(r.per_row() <= 1.05),
                    );
                }
                self.row(
                    "store items read by the summary tiles (compare two volumes 10× apart)",
                    &format!("{} items", thousands(*tiles)),
                    "the same at both volumes",
                    "",
                );
            }
            Err(e) => self.row("store items read per report row", e, "", ""),
        }
    }

    /// Under an emulator the times are the emulator's: only the size is held to its target.
    fn cold_starts(&mut self, results: &[coldstart::ColdStart], runs: usize, emulated: bool) {
        let target = if emulated {
            "≤ 12 MB (times emulated)"
        } else {
            "≤ 30 ms, ≤ 12 MB"
        };
        for r in results {
            let size_mb = r.size_bytes as f64 / 1e6;
            match (&r.runs, r.median(), r.max()) {
                (Ok(_), Some(med), Some(max)) => {
                    let ok = (emulated || med.as_secs_f64() <= 0.030) && size_mb <= 12.0;
                    self.row(
                        &format!("cold start and size: `{}`", r.name),
                        &format!(
                            "start to first `invocation/next`: median {}, p95 {}, max {} ({runs} starts); RSS when ready {}; binary {:.1} MB",
                            ms(med),
                            r.p95().map_or("n/a".into(), ms),
                            ms(max),
                            mib(r.ready_rss_kib),
                            size_mb
                        ),
                        target,
                        yes(ok),
                    );
                }
                (Err(e), _, _) => self.row(
                    &format!("cold start and size: `{}`", r.name),
                    &format!("failed: {e}"),
                    target,
                    "**no**",
                ),
                _ => self.row(
                    &format!("cold start and size: `{}`", r.name),
                    "no runs",
                    target,
                    "",
                ),
            }
        }
    }

    /// Rows measured by the scripts beside the harness (they need the local server).
    fn hooks(&mut self) {
        for (what, how) in [
            (
                "tab latency p50 / p99 at 32 connections (local server, release)",
                "`bash infra/bench-tabs.sh`",
            ),
            (
                "emailed 1,000,000-row Consultations report, request to email",
                "`bash infra/bench-email.sh`",
            ),
        ] {
            self.row(what, &format!("measured by {how}"), "", "");
        }
    }

    fn render(&self, args: &Args) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Benchmarks{}: {} Consultations rows (demo generator, one organisation, zone {}). Peak of an export = VmHWM after it − VmRSS before it, the high-water mark reset first (`5` > /proc/self/clear_refs): the store and rows the process already held are not counted.\n",
            if args.tiny { " (--tiny: the harness's smoke run, figures meaningless)" } else { "" },
            thousands(args.rows),
            exports::ZONE.name(),
        );
        out.push_str("| measure | figure | target | met |\n|---|---|---|---|\n");
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out
    }
}
