//! The local server as a process of its own, started from its binary as `local-server serve`
//! is, for what only a real process shows: a SIGKILL in the middle of its work, and a restart
//! on the same data directory.
//!
//! Its standard output and error are read to the end by threads of their own (a full pipe
//! would stall the server); the test waits on the lines it needs.

use local_server::DataDir;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The local server's binary (its own `main`, built by this package).
const BIN: &str = env!("CARGO_BIN_EXE_local-server-under-test");

/// A running `local-server serve` on a data directory, on a free port of 127.0.0.1. Killed
/// (SIGKILL) when dropped.
pub struct ServerProcess {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// Appends every line `from` gives to `into`, until the pipe closes.
fn drain(from: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
}

impl ServerProcess {
    /// Starts `serve --port 0 --data-dir <dir>` with the further `args`, the environment
    /// `env` added (and `TELEHEALTH_DATA_DIR` removed).
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--port=0")
            .arg(format!("--data-dir={}", dir.display()))
            .args(args)
            .env_remove("TELEHEALTH_DATA_DIR")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the local server starts");
        let (stdout, stderr) = (Arc::default(), Arc::default());
        drain(
            child.stdout.take().expect("its stdout"),
            Arc::clone(&stdout),
        );
        drain(
            child.stderr.take().expect("its stderr"),
            Arc::clone(&stderr),
        );
        ServerProcess {
            child,
            stdout,
            stderr,
        }
    }

    /// Its standard error so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Its standard output so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits (at most `limit`) until `found` holds; fails the test, with the process's output,
    /// if the process ends first or the time runs out.
    pub async fn wait_until(
        &mut self,
        what: &str,
        limit: Duration,
        mut found: impl FnMut(&Self) -> bool,
    ) {
        let started = Instant::now();
        loop {
            if found(self) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                if found(self) {
                    return;
                }
                panic!(
                    "the local server ended ({status}) before {what}:\n{}\n{}",
                    self.stdout().join("\n"),
                    self.stderr().join("\n")
                );
            }
            assert!(
                started.elapsed() < limit,
                "no {what} after {limit:?}:\n{}\n{}",
                self.stdout().join("\n"),
                self.stderr().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Waits (at most `limit`) until its standard error has a line containing `text`.
    pub async fn wait_for_stderr(&mut self, text: &str, limit: Duration) {
        self.wait_until(text, limit, |s| s.stderr().iter().any(|l| l.contains(text)))
            .await;
    }

    /// Waits (at most `limit`) until it serves (it prints its address once the demo data, if
    /// any, is loaded) and answers its base URL.
    pub async fn wait_serving(&mut self, limit: Duration) -> String {
        const BANNER: &str = "Telehealth reporting API (local) at ";
        self.wait_until("its address", limit, |s| {
            s.stdout().iter().any(|l| l.starts_with("try: curl "))
        })
        .await;
        self.stdout()
            .iter()
            .find_map(|l| l.strip_prefix(BANNER).map(str::to_string))
            .expect("the address line comes before the last line of the banner")
    }

    /// SIGKILL, as `kill -9` sends it: the process ends at once, in whatever it was doing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A token of `dir`'s development key (what the server checks) for `principal`, for an hour.
pub fn token(dir: &Path, principal: &domain::auth::Principal) -> String {
    DataDir::new(dir)
        .dev_key()
        .expect("the data directory's development key")
        .mint(principal, chrono::Utc::now().timestamp(), 3600)
}
