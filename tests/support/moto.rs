//! The moto harness: one moto server per test process (plus a second one for mail checks),
//! installed into `<workspace>/.venv` when missing, started on a free loopback port, waited
//! for, and killed when the test process exits. Every test then gets its own table, bucket or
//! sender identity on it.
//!
//! Nothing is skipped: when moto cannot be installed or started the test panics and says why.
//!
//! Mail is checked on a separate moto process because `GET /moto-api/data.json` (the only
//! way to read sent mail) has answered HTTP 500 once objects of a multipart upload existed,
//! and because it serializes every object of every service.

use super::{unique, workspace_root};
use aws_adapters::config::{clients_for_endpoint, AwsClients};
use aws_adapters::dynamo::{create_table, DynamoStore};
use aws_adapters::s3::S3Blobs;
use aws_adapters::ses::SesMailer;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    pub endpoint: String,
    pub log: PathBuf,
}

impl Moto {
    pub fn clients(&self) -> AwsClients {
        clients_for_endpoint(&self.endpoint)
    }

    /// The answer of a call that creates `what` on this server; a failure panics naming both.
    fn created<T, E: std::fmt::Debug>(&self, what: &str, answer: Result<T, E>) -> T {
        answer.unwrap_or_else(|e| panic!("cannot create {what} on {}: {e:?}", self.endpoint))
    }
}

static MAIN: OnceLock<Moto> = OnceLock::new();
static MAIL: OnceLock<Moto> = OnceLock::new();

/// The moto server of this test process (started on first use).
pub fn moto() -> &'static Moto {
    MAIN.get_or_init(|| start("moto"))
}

/// The moto server that only sends mail (see the module documentation).
pub fn moto_mail() -> &'static Moto {
    MAIL.get_or_init(|| start("moto-mail"))
}

/// A fresh table (own name, created like `template.yaml`) on moto.
pub async fn dynamo_store() -> DynamoStore {
    let moto = moto();
    let client = moto.clients().dynamodb;
    let table = unique("contract");
    create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("cannot create table {table} on {}: {e}", moto.endpoint));
    DynamoStore::new(client, table)
}

/// A fresh bucket on moto.
pub async fn s3_blobs() -> S3Blobs {
    let moto = moto();
    let client = moto.clients().s3;
    let bucket = unique("contract");
    let answer = client.create_bucket().bucket(&bucket).send().await;
    moto.created(&format!("bucket {bucket}"), answer);
    S3Blobs::new(client, bucket)
}

/// A mailer sending from a fresh verified identity on the mail moto; returns the sender too.
pub async fn ses_mailer() -> (SesMailer, String) {
    let moto = moto_mail();
    let client = moto.clients().ses;
    let from = format!("{}@example.com", unique("sender"));
    let answer = client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await;
    moto.created(&format!("identity {from}"), answer);
    (SesMailer::new(client, from.clone()), from)
}

/// A mail sent through the mail moto, as `GET /moto-api/data.json` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The HTML body when one was sent, else the text body (moto keeps only one).
    pub body: String,
    pub id: String,
}

/// Every mail the mail moto has sent.
pub async fn sent_mail() -> Vec<SentMail> {
    let moto = moto_mail();
    let url = format!("{}/moto-api/data.json", moto.endpoint);
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "GET {url}: HTTP {status}: {text}");
    let data: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} is not JSON: {e}"));
    let str_of = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    data["ses"]["Message"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| SentMail {
            from: str_of(m, "source"),
            to: m["destinations"]["ToAddresses"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            subject: str_of(m, "subject"),
            body: str_of(m, "body"),
            id: str_of(m, "id"),
        })
        .collect()
}

/// Writes a line straight to the process's stderr (the test harness captures `eprintln!`
/// but not this), so CI output shows that moto ran and where.
fn announce(line: &str) {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{line}");
}

fn moto_server_path() -> PathBuf {
    workspace_root().join(".venv/bin/moto_server")
}

/// Installs moto into `<workspace>/.venv` unless `moto_server` is already there. Test
/// processes running at the same time take turns through a lock directory, so only one of
/// them installs.
fn ensure_installed() -> PathBuf {
    let bin = moto_server_path();
    if bin.exists() {
        return bin;
    }
    let root = workspace_root();
    let lock = root.join(".venv-install.lock");
    let _guard = LockDir::acquire(&lock);
    if bin.exists() {
        return bin;
    }
    announce(&format!(
        "{} is missing: installing moto into {}/.venv (takes a few minutes)",
        bin.display(),
        root.display()
    ));
    let requirements = root.join("infra/python/requirements-moto.txt");
    assert!(
        requirements.exists(),
        "cannot install moto: {} is missing",
        requirements.display()
    );
    if !root.join(".venv/bin/pip").exists() {
        run(
            Command::new("python3")
                .args(["-m", "venv", ".venv"])
                .current_dir(&root),
            "python3 -m venv .venv",
        );
    }
    run(
        Command::new(root.join(".venv/bin/pip"))
            .args([
                "install",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                "-r",
            ])
            .arg(&requirements)
            .current_dir(&root),
        ".venv/bin/pip install -r infra/python/requirements-moto.txt",
    );
    assert!(
        bin.exists(),
        "installed infra/python/requirements-moto.txt but {} is still missing",
        bin.display()
    );
    bin
}

/// Runs an install step with its output on the terminal; panics when it fails.
fn run(command: &mut Command, what: &str) {
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .unwrap_or_else(|e| panic!("cannot install moto: `{what}` did not start: {e}"));
    assert!(
        status.success(),
        "cannot install moto: `{what}` failed ({status})"
    );
}

/// A lock held as a directory (creating a directory is atomic), removed on drop. A lock
/// older than 20 minutes is taken to be left over by a killed process.
struct LockDir(PathBuf);

impl LockDir {
    fn acquire(path: &Path) -> Self {
        let started = Instant::now();
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => return Self(path.to_path_buf()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|a| a > Duration::from_secs(20 * 60)) {
                        let _ = std::fs::remove_dir(path);
                        continue;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(30 * 60),
                        "waited 30 minutes for {} (another moto install)",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("cannot create the install lock {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for LockDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free loopback port: {e}"))
}

/// Shell wrapper that runs moto in the background and kills it as soon as the test process
/// (`$WATCH_PID`) is gone, or on TERM/INT; it exits when moto does.
const WRAPPER: &str = r#"
"$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 </dev/null &
child=$!
trap 'kill "$child" 2>/dev/null; exit 0' TERM INT HUP
while kill -0 "$WATCH_PID" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
  sleep 1
done
kill "$child" 2>/dev/null
wait "$child"
"#;

/// Starts a moto server and waits until it answers; panics with its log when it does not.
fn start(label: &str) -> Moto {
    let bin = ensure_installed();
    let mut last_error = String::new();
    for _attempt in 0..3 {
        let port = free_port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{label}-{}-{port}.log", std::process::id()));
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg(&bin)
            .arg(port.to_string())
            .arg(&log)
            .env("WATCH_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if answers(addr) {
                let endpoint = format!("http://127.0.0.1:{port}");
                announce(&format!(
                    "moto server at {endpoint} ({label}, log {})",
                    log.display()
                ));
                return Moto { endpoint, log };
            }
            if let Ok(Some(status)) = child.try_wait() {
                last_error = format!(
                    "moto_server on port {port} exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                last_error = format!(
                    "moto_server on port {port} did not answer within 60 s: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("cannot start moto ({}): {last_error}", bin.display());
}

/// Whether an HTTP server answers on `addr` (any status line will do).
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /moto-api/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
