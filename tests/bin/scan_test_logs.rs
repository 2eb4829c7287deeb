//! Clean logs over the whole test run (SPEC Q3): searches the log files infra/test.sh collects
//! (every event the integration tests logged, and the local server's output under
//! schemathesis) after the suite.
//!
//! Usage: `scan-test-logs FILE...`. Every file must exist and hold at least one request line;
//! every line must be a JSON object (the local server's start-up banner, listed in
//! [`is_banner`], is the only text allowed, and only outside `.jsonl` files); each request
//! line carries its `request_id`; and no line holds any value of
//! `local_adapters::demo::sensitive_needles` (demo names, emails, message marker and texts, rating
//! comments) nor any marker of tests/logs.rs. A failure names the file, the line
//! and the kind of what was found, never the value. Exits 1 on any finding, 2 on bad usage.

use aho_corasick::AhoCorasick;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Markers tests/logs.rs sends through the server (names, an email, message
/// ciphertext and its plain text, system text, a rating comment, a referral note, a tag, and
/// invalid values); that test checks its own capture, this checks the whole run.
const SCENARIO_MARKERS: [(&str, &str); 16] = [
    ("name", "Quillon Marchbanks"),
    ("name", "Quillon"),
    ("name", "Marchbanks"),
    ("name", "Ysolde Varnham"),
    ("name", "Varnham"),
    ("email", "ysolde.varnham@leak-check.example"),
    ("email", "leak-check"),
    ("message", "LEAKMARKER-7f3a"),
    ("message", "TEVBS01BUktFUi03ZjNh"),
    ("message", "SYSTEXT-LEAK-91"),
    ("comment", "COMMENT-LEAK-55"),
    ("referral note", "REFNOTE-LEAK-33"),
    ("tag name", "TAGLEAK-Zebra"),
    ("invalid input", "LEAKZONE"),
    ("invalid input", "LEAKCIPHER"),
    ("invalid input", "LEAKJSON-12"),
];

/// The most findings printed; the count is always given in full.
const SHOWN: usize = 50;

/// What the scan found wrong on one line (or with one file: line 0).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    file: PathBuf,
    line: usize,
    what: String,
}

/// Lines and request lines of one file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    lines: usize,
    requests: usize,
}

struct Needles {
    kinds: Vec<&'static str>,
    matcher: AhoCorasick,
}

impl Needles {
    fn new(needles: Vec<(&'static str, String)>) -> Self {
        let (kinds, values): (Vec<_>, Vec<_>) = needles.into_iter().unzip();
        let matcher = AhoCorasick::new(&values).unwrap_or_else(|e| {
            eprintln!("scan-test-logs: the needles do not build a matcher: {e}");
            std::process::exit(2)
        });
        Self { kinds, matcher }
    }

    fn all() -> Self {
        let mut needles = local_adapters::demo::sensitive_needles();
        needles.extend(
            SCENARIO_MARKERS
                .iter()
                .map(|(kind, value)| (*kind, value.to_string())),
        );
        Self::new(needles)
    }

    /// The kind of the first needle found in `text`.
    fn find(&self, text: &str) -> Option<&'static str> {
        self.matcher
            .find(text)
            .map(|m| self.kinds[m.pattern().as_usize()])
    }
}

/// The local server's start-up lines (infra/local-server `serve`, and its demo load): the only
/// text that is not JSON. None of them holds personal data: a URL, a directory, one development
/// token per role, counts.
fn is_banner(line: &str) -> bool {
    if line == "loading demo data through ingest (first start only)..."
        || line == "resuming the demo load an earlier start began (the same events)..."
        || line.starts_with("demo data loaded: ")
        || line.starts_with("Telehealth reporting API (local) at http://127.0.0.1:")
        || line.starts_with("data directory: ")
        || line.starts_with("tokens (valid 8 hours;")
        || line.starts_with("try: curl http://127.0.0.1:")
    {
        return true;
    }
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(role), Some(_token), None) => {
            line.starts_with("  ") && domain::auth::Role::parse(role).is_some()
        }
        _ => false,
    }
}

/// Every string in `value`, keys included, joined by newlines: what the line says once JSON
/// escapes (`\u00e9`, `\"`) are undone.
fn strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push_str(k);
                out.push('\n');
                strings(v, out);
            }
        }
        _ => {}
    }
}

fn scan_text(file: &Path, text: &str, needles: &Needles, findings: &mut Vec<Finding>) -> Counts {
    let jsonl = file.extension().is_some_and(|e| e == "jsonl");
    let mut counts = Counts::default();
    let mut found = |line: usize, what: String| {
        findings.push(Finding {
            file: file.to_path_buf(),
            line,
            what,
        })
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        counts.lines += 1;
        if let Some(kind) = needles.find(line) {
            found(n, format!("holds a value of kind {kind}"));
            continue;
        }
        let entry = match serde_json::from_str::<Value>(line) {
            Ok(entry @ Value::Object(_)) => entry,
            Ok(_) | Err(_) if !jsonl && is_banner(line) => continue,
            Ok(_) => {
                found(n, "is JSON but not an object".into());
                continue;
            }
            Err(e) => {
                found(n, format!("is not JSON ({e})"));
                continue;
            }
        };
        let mut decoded = String::new();
        strings(&entry, &mut decoded);
        if let Some(kind) = needles.find(&decoded) {
            found(n, format!("holds a value of kind {kind} (JSON-escaped)"));
            continue;
        }
        if entry["message"] == "request" {
            counts.requests += 1;
            if entry["request_id"].as_str().is_none_or(str::is_empty) {
                found(n, "is a request line without a request_id".into());
            }
        }
    }
    counts
}

/// Scans every file: its findings, and what each file held.
fn scan(files: &[PathBuf], needles: &Needles) -> (Vec<Finding>, Vec<Counts>) {
    let mut findings = Vec::new();
    let mut counts = Vec::new();
    for file in files {
        let text = match std::fs::read(file) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                findings.push(Finding {
                    file: file.clone(),
                    line: 0,
                    what: format!("cannot be read ({e}): was the suite run?"),
                });
                counts.push(Counts::default());
                continue;
            }
        };
        let c = scan_text(file, &text, needles, &mut findings);
        if c.requests == 0 {
            findings.push(Finding {
                file: file.clone(),
                line: 0,
                what: format!(
                    "holds no request line ({} lines): nothing was logged to search",
                    c.lines
                ),
            });
        }
        counts.push(c);
    }
    (findings, counts)
}

fn main() {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!("usage: scan-test-logs FILE...");
        std::process::exit(2);
    }
    let needles = Needles::all();
    let (findings, counts) = scan(&files, &needles);
    for (file, c) in files.iter().zip(&counts) {
        println!(
            "{}: {} lines, {} request lines",
            file.display(),
            c.lines,
            c.requests
        );
    }
    if findings.is_empty() {
        println!(
            "clean logs: {} files, {} lines, {} needles (demo names, emails, message texts, comments; log-test markers) absent; every line JSON, every request line with its id",
            files.len(),
            counts.iter().map(|c| c.lines).sum::<usize>(),
            needles.kinds.len()
        );
        return;
    }
    for f in findings.iter().take(SHOWN) {
        eprintln!("{}:{}: {}", f.file.display(), f.line, f.what);
    }
    if findings.len() > SHOWN {
        eprintln!("... and {} more", findings.len() - SHOWN);
    }
    eprintln!("the logs are not clean: {} findings", findings.len());
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn needles() -> Needles {
        Needles::new(vec![
            ("name", "Ángela Müller".into()),
            ("email", "angela.muller@demo.example".into()),
        ])
    }

    fn run(name: &str, text: &str) -> (Vec<(usize, String)>, Counts) {
        let mut findings = Vec::new();
        let counts = scan_text(Path::new(name), text, &needles(), &mut findings);
        (
            findings.into_iter().map(|f| (f.line, f.what)).collect(),
            counts,
        )
    }

    const REQUEST: &str = r#"{"timestamp":"2026-11-20T12:00:00.000Z","level":"INFO","message":"request","request_id":"r-1","status":200}"#;

    #[test]
    fn a_clean_file_counts_its_request_lines() {
        let text = format!("{REQUEST}\n{{\"message\":\"report stored\"}}\n");
        let (findings, counts) = run("a.jsonl", &text);
        assert_eq!(findings, vec![]);
        assert_eq!(
            counts,
            Counts {
                lines: 2,
                requests: 1
            }
        );
    }

    #[test]
    fn needles_are_found_raw_and_escaped_and_named_by_kind_only() {
        let text = [
            REQUEST,
            r#"{"message":"x","q":"Ángela Müller"}"#,
            r#"{"message":"x","q":"\u00c1ngela M\u00fcller"}"#,
            r#"{"message":"to angela.muller@demo.example"}"#,
        ]
        .join("\n");
        let (findings, _) = run("a.jsonl", &text);
        assert_eq!(
            findings,
            vec![
                (2, "holds a value of kind name".to_string()),
                (3, "holds a value of kind name (JSON-escaped)".to_string()),
                (4, "holds a value of kind email".to_string()),
            ]
        );
    }

    #[test]
    fn text_lines_and_requests_without_ids_are_findings() {
        let text = [
            r#"{"message":"request","status":200}"#,
            r#"{"message":"request","request_id":""}"#,
            "thread 'main' panicked at src/main.rs:1:1",
            "[1,2]",
            "  practitioner     eyJ0b2tlbi",
        ]
        .join("\n");
        let (findings, counts) = run("a.jsonl", &text);
        let what: Vec<_> = findings.iter().map(|(l, w)| (*l, &w[..12])).collect();
        assert_eq!(
            what,
            vec![
                (1, "is a request"),
                (2, "is a request"),
                (3, "is not JSON "),
                (4, "is JSON but "),
                (5, "is not JSON "),
            ]
        );
        assert_eq!(counts.requests, 2);
    }

    #[test]
    fn the_server_banner_is_allowed_outside_jsonl_files_only() {
        let banner = [
            "loading demo data through ingest (first start only)...",
            "resuming the demo load an earlier start began (the same events)...",
            "demo data loaded: 70131 events (3000 threads, 24000 messages, 4000 consultation rows) in 29.2 s",
            "Telehealth reporting API (local) at http://127.0.0.1:41234",
            "data directory: /tmp/x/data",
            "tokens (valid 8 hours; `local-server token --help` mints others):",
            "  platform_admin   eyJhbGciOi.abc.def",
            "try: curl http://127.0.0.1:41234/health",
            REQUEST,
        ]
        .join("\n");
        assert_eq!(run("server.log", &banner).0, vec![]);
        assert_eq!(run("server.jsonl", &banner).0.len(), 8);
        let (findings, _) = run("server.log", "  wizard   eyJhbGciOi.abc.def");
        assert_eq!(findings.len(), 1, "{findings:?}");
    }

    #[test]
    fn missing_and_empty_files_fail() {
        let dir = std::env::temp_dir().join(format!("scan-test-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        let quiet = dir.join("quiet.jsonl");
        std::fs::write(&quiet, "{\"message\":\"started\"}\n").unwrap();
        let missing = dir.join("missing.jsonl");
        let (findings, counts) = scan(&[empty, quiet, missing], &needles());
        std::fs::remove_dir_all(&dir).unwrap();
        let what: Vec<_> = findings
            .iter()
            .map(|f| {
                (
                    f.file.file_name().unwrap().to_str().unwrap(),
                    f.line,
                    &f.what[..],
                )
            })
            .collect();
        assert_eq!(what.len(), 3, "{what:?}");
        assert_eq!(
            what[0],
            (
                "empty.jsonl",
                0,
                "holds no request line (0 lines): nothing was logged to search"
            )
        );
        assert_eq!(
            what[1],
            (
                "quiet.jsonl",
                0,
                "holds no request line (1 lines): nothing was logged to search"
            )
        );
        assert_eq!((what[2].0, what[2].1), ("missing.jsonl", 0));
        assert!(what[2].2.starts_with("cannot be read ("), "{what:?}");
        assert_eq!(counts[1].lines, 1);
    }

    #[test]
    fn every_demo_needle_kind_is_searched() {
        let all = Needles::all();
        assert_eq!(all.find("Ángela Müller"), Some("name"));
        assert_eq!(all.find("angela muller"), Some("name"));
        assert_eq!(all.find("x angela.muller@demo.example"), Some("email"));
        assert_eq!(all.find("REVNTy1TRUNSRVQtMTI="), Some("message"));
        assert_eq!(all.find("Quick and helpful."), Some("comment"));
        assert_eq!(all.find("REFNOTE-LEAK-33"), Some("referral note"));
        assert_eq!(
            all.find(r#"{"message":"request","request_id":"r-1"}"#),
            None
        );
    }
}
