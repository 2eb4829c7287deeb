//! The `local-server` binary killed (`SIGKILL`) while it runs an emailed report, then started
//! again on the same data directory (SPEC Q6): every job ends — done, or failed with its
//! reason — and no job mails more than once (`.eml` files in the data directory's outbox).
//! The kill comes a little later after each request, until kills have landed while a job ran.

use domain::auth::{Principal, Role};
use local_server::DataDir;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_local-server");

/// A running `local-server serve --no-demo` on a free port.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--port=0", "--no-demo"])
            .arg(format!("--data-dir={}", dir.display()))
            .env_remove("TELEHEALTH_DATA_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("Telehealth reporting API (local) at http://127.0.0.1:")
                    .and_then(|p| p.parse::<u16>().ok())
            })
            .expect("the server's URL");
        // Keep reading its log lines so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Server { child, port }
    }

    /// `SIGKILL`: the process stops wherever it is.
    fn kill(mut self) {
        self.child.kill().expect("killed");
        self.child.wait().expect("reaped");
    }

    /// Sends `method path` with the bearer `token` and a JSON `body`: the status and the body.
    fn send(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("request sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer read");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-server-kill-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn token(dir: &Path, sub: &str, role: Role, orgs: &[&str]) -> String {
    let principal = Principal {
        sub: sub.into(),
        role,
        orgs: orgs.iter().map(|o| o.to_string()).collect(),
        clinics: Vec::new(),
    };
    DataDir::new(dir)
        .dev_key()
        .expect("the data directory's key")
        .mint(&principal, chrono::Utc::now().timestamp(), 3600)
}

fn emails(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("outbox")).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    })
}

/// The job once it ended (done or failed), polled through its status route.
fn ended(server: &Server, path: &str, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = server.send("GET", path, token, None);
        assert_eq!(status, 200, "{body}");
        let job = body["job"].clone();
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "a job that never ends after a restart: {job}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_job_killed_mid_run_ends_after_a_restart_with_at_most_one_email() {
    let dir = temp_dir("email");
    let mut server = Server::start(&dir);
    let service = token(&dir, "svc-1", Role::Service, &[]);
    let events = json!({"events": [
        {"id": "e-org", "type": "organisation.upserted", "occurred_at": "2026-01-15T03:00:00Z",
         "data": {"org_id": "org-k", "name": "Northside", "state": "Victoria",
                  "specialty": "General practice", "contract": "Enterprise",
                  "created_at": "2023-06-01T00:00:00Z"}},
        {"id": "e-acc", "type": "account.upserted", "occurred_at": "2026-02-02T05:40:00Z",
         "data": {"account_id": "acc-k", "org_id": "org-k", "email": "acc-k@example.org",
                  "name": "Kim", "platform_role": "standard", "access_level": "full",
                  "created_at": "2024-03-18T00:00:00Z"}}
    ]});
    let (status, report) = server.send("POST", "/ingest/events", &service, Some(&events));
    assert_eq!(
        (status, report["accepted"].as_u64()),
        (200, Some(2)),
        "{report}"
    );
    let requester = token(&dir, "acc-k", Role::OrgAdmin, &["org-k"]);

    let (mut killed_mid_run, mut endings) = (0, Vec::new());
    for attempt in 0..60u32 {
        let before = emails(&dir);
        let params = json!({"from": "2025-01-01", "to": "2025-12-31",
                            "min_duration_seconds": attempt});
        let (status, body) = server.send(
            "POST",
            "/orgs/org-k/reports/organisation/email",
            &requester,
            Some(&params),
        );
        assert_eq!(status, 202, "{body}");
        let path = body["status_url"].as_str().expect("status url").to_string();
        // Each attempt kills a little later after the answer.
        std::thread::sleep(Duration::from_millis(2 * u64::from(attempt)));
        server.kill();
        server = Server::start(&dir);
        let job = ended(&server, &path, &requester);
        let sent = emails(&dir) - before;
        match job["state"].as_str() {
            Some("done") => assert_eq!(sent, 1, "{job}"),
            _ => {
                assert!(
                    job["reason"].as_str().is_some_and(|r| !r.is_empty()),
                    "{job}"
                );
                assert!(sent <= 1, "{job}");
            }
        }
        // The kill landed while the job ran: it was claimed again, or ended without a second
        // email because its email had been attempted.
        let mid_run = job["runs"].as_u64().unwrap_or(0) > 1
            || job["email_attempted_at"].is_string() && job["state"] == "failed";
        endings.push((attempt, job["state"].clone(), job["runs"].clone(), sent));
        if mid_run {
            killed_mid_run += 1;
            if killed_mid_run == 3 {
                break;
            }
        }
    }
    server.kill();
    eprintln!("(attempt, state, runs, emails): {endings:?}");
    assert!(
        killed_mid_run > 0,
        "no kill landed while a job ran: {endings:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
