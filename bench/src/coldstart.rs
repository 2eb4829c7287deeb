//! Cold start and size of the function binaries.
//!
//! A minimal Lambda runtime API stub listens on loopback; each binary is started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at it and the configuration every function reads
//! (`Settings::from_env`, the table, bucket and sender, a region and static credentials). The
//! time counted is from spawning the process to the arrival of its first
//! `GET /2018-06-01/runtime/invocation/next`: the function has built its wiring and waits for
//! work. The stub never answers; the process is killed and the next run starts.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const NEXT: &str = "GET /2018-06-01/runtime/invocation/next";

/// One function's figures.
#[derive(Debug, Clone)]
pub struct ColdStart {
    pub name: String,
    pub size_bytes: u64,
    /// Start-to-ready times of every run, sorted.
    pub runs: Result<Vec<Duration>, String>,
    /// Resident size when ready (KiB), the largest of the runs.
    pub ready_rss_kib: Option<u64>,
}

impl ColdStart {
    pub fn median(&self) -> Option<Duration> {
        let runs = self.runs.as_ref().ok()?;
        runs.get(runs.len() / 2).copied()
    }
    /// The 95th percentile (nearest rank: the 19th of 20 runs).
    pub fn p95(&self) -> Option<Duration> {
        let runs = self.runs.as_ref().ok()?;
        let rank = (runs.len() * 95).div_ceil(100).max(1);
        runs.get(rank - 1).copied()
    }
    pub fn max(&self) -> Option<Duration> {
        self.runs.as_ref().ok()?.last().copied()
    }
}

/// The binary names of the crates under `functions/` (their `[[bin]] name`).
pub fn function_names(workspace: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(dirs) = std::fs::read_dir(workspace.join("functions")) else {
        return names;
    };
    for dir in dirs.flatten() {
        let manifest = dir.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let bin = text
            .split("[[bin]]")
            .nth(1)
            .and_then(|s| s.lines().find_map(|l| l.trim().strip_prefix("name")))
            .map(|v| {
                v.trim()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_string()
            });
        if let Some(b) = bin {
            names.push(b);
        }
    }
    names.sort();
    names
}

/// A listener for the runtime API stub on a free loopback port, and its address.
fn loopback() -> Result<(TcpListener, String), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let api = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .to_string();
    Ok((listener, api))
}

/// Accepts connections and reports when a `next` request arrives (connections are kept open,
/// unanswered, until the stub is dropped with the process).
fn stub(listener: TcpListener, arrived: mpsc::Sender<Instant>) {
    let mut held: Vec<TcpStream> = Vec::new();
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_nodelay(true);
        let line = read_request(&mut conn, &mut Vec::new()).map(|(line, _)| line);
        let at = Instant::now();
        if line.is_some_and(|l| l.starts_with(NEXT)) && arrived.send(at).is_err() {
            return;
        }
        held.push(conn);
        if held.len() > 64 {
            held.remove(0);
        }
    }
}

fn lambda_env(cmd: &mut Command, name: &str, api: &str) {
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TABLE_NAME", "bench-table")
        .env("BUCKET_NAME", "bench-bucket")
        .env("SES_FROM", "reports@bench.example")
        .env("PLATFORM_BASE_URL", "https://bench.example")
        .env("REFERRAL_PATIENT_APPROVAL", "true")
        .env("REFERRAL_BOOKING_PROMPT", "true")
        .env("REFERRAL_EXPIRY_DAYS", "14")
        .env("DEFAULT_RESPONSE_TIME_HOURS", "24")
        .env("RUST_LOG", "info");
}

/// How the function binaries are found and started.
#[derive(Debug, Clone, Default)]
pub struct Launcher {
    /// A user-mode emulator every binary runs under: `qemu-aarch64-static` for the arm64
    /// artifacts on an x86_64 machine (start times and memory are then the emulator's).
    pub emulator: Option<PathBuf>,
    /// The target's root for the emulator's dynamic loader and libraries (qemu's `-L`).
    pub sysroot: Option<PathBuf>,
}

impl Launcher {
    /// The binary of function `name` under `dir`: `dir/name`, as cargo builds it, or
    /// cargo-lambda's `dir/name/bootstrap`.
    pub fn binary(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        if path.is_dir() {
            path.join("bootstrap")
        } else {
            path
        }
    }

    /// The command that starts `bin` as function `name` against the runtime API at `api`.
    fn command(&self, bin: &Path, name: &str, api: &str) -> Command {
        let mut cmd = match &self.emulator {
            Some(emulator) => {
                let mut cmd = Command::new(emulator);
                if let Some(root) = &self.sysroot {
                    cmd.arg("-L").arg(root);
                }
                cmd.arg(bin);
                cmd
            }
            None => Command::new(bin),
        };
        lambda_env(&mut cmd, name, api);
        cmd
    }
}

/// Measures one binary `runs` times.
pub fn measure(launcher: &Launcher, bin: &Path, name: &str, runs: usize) -> ColdStart {
    let size_bytes = std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0);
    let mut ready_rss_kib = None;
    let result = (|| -> Result<Vec<Duration>, String> {
        if size_bytes == 0 {
            return Err(format!("{} not found", bin.display()));
        }
        let (listener, api) = loopback()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || stub(listener, tx));
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut cmd = launcher.command(bin, name, &api);
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let started = Instant::now();
            let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
            let deadline = started + Duration::from_secs(20);
            let ready = loop {
                match rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(at) => break Ok(at),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break Err("stub stopped".into()),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    break Err(format!("exited ({status}) before asking for work: {err}"));
                }
                if Instant::now() > deadline {
                    break Err("not ready within 20 s".into());
                }
            };
            let rss = crate::mem::status_kib(Some(child.id()), "VmRSS");
            let _ = child.kill();
            let _ = child.wait();
            let at = ready?;
            times.push(at.saturating_duration_since(started));
            ready_rss_kib = ready_rss_kib.max(rss);
        }
        times.sort();
        Ok(times)
    })();
    ColdStart {
        name: name.to_string(),
        size_bytes,
        runs: result,
        ready_rss_kib,
    }
}

/// Measures every function binary under `bin_dir`.
pub fn measure_all(
    launcher: &Launcher,
    bin_dir: &Path,
    names: &[String],
    runs: usize,
) -> Vec<ColdStart> {
    names
        .iter()
        .map(|n| {
            let bin = Launcher::binary(bin_dir, n);
            eprintln!("cold start: {n}");
            measure(launcher, &bin, n, runs)
        })
        .collect()
}

/// One HTTP/1.1 request read from `conn` (head, then `Content-Length` bytes of body): its
/// request line and body; `None` when the connection closed.
fn read_request(conn: &mut TcpStream, pending: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&pending[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while pending.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
    let body = pending[head_end..head_end + length].to_vec();
    pending.drain(..head_end + length);
    let line = head.lines().next().unwrap_or_default().to_string();
    Some((line, body))
}

/// Serves one connection of the invocation stub: the first `next` gets `event`, a later one
/// is held unanswered; the function's `response` or `error` post goes to `done`.
fn serve_invocation(
    mut conn: TcpStream,
    event: std::sync::Arc<String>,
    served: std::sync::Arc<std::sync::atomic::AtomicBool>,
    done: mpsc::Sender<Result<String, String>>,
) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    let mut pending = Vec::new();
    while let Some((line, body)) = read_request(&mut conn, &mut pending) {
        if line.starts_with(NEXT) {
            if served.swap(true, Ordering::SeqCst) {
                // The function is ready for more work: hold it (the caller kills it).
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                + 20_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: bench-invocation-1\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:123456789012:function:bench\r\n\
                 content-length: {}\r\n\r\n",
                event.len()
            );
            if conn.write_all(head.as_bytes()).is_err() || conn.write_all(event.as_bytes()).is_err()
            {
                return;
            }
        } else {
            let _ = conn.write_all(
                b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            );
            let text = String::from_utf8_lossy(&body).into_owned();
            let outcome = if line.contains("/invocation/bench-invocation-1/response") {
                Ok(text)
            } else {
                Err(format!("{line}: {text}"))
            };
            let _ = done.send(outcome);
        }
    }
}

/// Starts `bin` against a runtime API stub that hands it one invocation, `event` (for an HTTP
/// function, an API Gateway payload 2.0 request), and returns the response it posted back:
/// the whole way an event takes through the function (lambda_runtime, the glue of
/// `aws_adapters::lambda`, the handler), as in Lambda.
pub fn invoke_once(
    launcher: &Launcher,
    bin: &Path,
    name: &str,
    event: &str,
) -> Result<String, String> {
    let (listener, api) = loopback()?;
    let (tx, rx) = mpsc::channel();
    let event = std::sync::Arc::new(event.to_string());
    let served = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (event, served, tx) = (event.clone(), served.clone(), tx.clone());
            std::thread::spawn(move || serve_invocation(conn, event, served, tx));
        }
    });
    let mut cmd = launcher.command(bin, name, &api);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
    let outcome = rx
        .recv_timeout(Duration::from_secs(20))
        .map_err(|_| "no response within 20 s".to_string())
        .and_then(|r| r);
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_a_file_or_cargo_lambdas_bootstrap() {
        let dir = std::env::temp_dir().join(format!("bench-layout-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("org-report-email-job")).expect("dirs");
        assert_eq!(Launcher::binary(&dir, "health"), dir.join("health"));
        assert_eq!(
            Launcher::binary(&dir, "org-report-email-job"),
            dir.join("org-report-email-job/bootstrap")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_emulator_runs_the_binary_with_the_sysroot() {
        let launcher = Launcher {
            emulator: Some(PathBuf::from("qemu-aarch64-static")),
            sysroot: Some(PathBuf::from("/usr/aarch64-linux-gnu")),
        };
        let cmd = launcher.command(Path::new("/f/bootstrap"), "health", "127.0.0.1:9");
        assert_eq!(cmd.get_program(), "qemu-aarch64-static");
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["-L", "/usr/aarch64-linux-gnu", "/f/bootstrap"]);
        let native = Launcher::default().command(Path::new("/f/health"), "health", "a");
        assert_eq!(native.get_program(), "/f/health");
        assert_eq!(native.get_args().count(), 0);
    }
}
