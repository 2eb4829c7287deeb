//! The `local-server` binary's command line, run as the scripts run it: exit statuses, the
//! token it prints, the data directory from `--data-dir` or `TELEHEALTH_DATA_DIR`, and the
//! start-up lines infra/test.sh, infra/bench-server.sh and web/tests read.

use domain::auth::Role;
use local_server::DataDir;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_local-server");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-server-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(args: &[&str], data_env: Option<&Path>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("TELEHEALTH_DATA_DIR");
    if let Some(dir) = data_env {
        command.env("TELEHEALTH_DATA_DIR", dir);
    }
    command.output().expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The token the command printed, verified with the data directory's key.
fn verified(output: &Output, data: &Path) -> HashMap<String, String> {
    assert!(output.status.success(), "{}", text(&output.stderr));
    let token = text(&output.stdout);
    let key = DataDir::new(data).dev_key().expect("key");
    key.verify(token.trim(), chrono::Utc::now().timestamp())
        .expect("a token of this data directory's key")
}

#[test]
fn help_and_version_exit_zero() {
    for args in [&["--help"][..], &["token", "--help"], &["serve", "--help"]] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            text(&out.stdout).contains("Usage: local-server"),
            "{args:?}"
        );
    }
    let out = run(&["--version"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("local-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_two_with_a_message() {
    let dir = temp_dir("usage");
    let data = dir.to_string_lossy().into_owned();
    for args in [
        &[
            "token",
            "--role",
            "org_admin",
            "--orgz",
            "a",
            "--data-dir",
            &data,
        ][..],
        &["token", "--role", "wizard", "--data-dir", &data],
        &[
            "token",
            "--role",
            "service",
            "--ttl",
            "0",
            "--data-dir",
            &data,
        ],
        &["serve", "--port", "http", "--data-dir", &data],
        &[
            "serve",
            "--no-demo",
            "--bench-rows",
            "5",
            "--data-dir",
            &data,
        ],
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(text(&out.stderr).starts_with("error: "), "{args:?}");
    }
    // No command: the help, on stderr, as a usage error.
    let out = run(&[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: local-server <COMMAND>"));
    let out = run(&["token", "--role", "org_admin", "--orgz", "a"], None);
    let message = text(&out.stderr);
    assert!(
        message.contains("unexpected argument '--orgz'") && message.contains("--orgs"),
        "{message}"
    );
    assert!(!dir.exists(), "nothing was written");
}

#[test]
fn token_takes_its_flags_in_either_form() {
    let dir = temp_dir("token");
    let data_flag = format!("--data-dir={}", dir.display());
    let out = run(
        &[
            "token",
            "--role=org_admin",
            "--ttl=60",
            "--orgs=org-1,org-2",
            "--clinics",
            "c-1",
            "--sub",
            "acc-1",
            &data_flag,
        ],
        None,
    );
    let claims = verified(&out, &dir);
    let number = |k: &str| claims[k].parse::<i64>().expect("integer");
    assert_eq!(number("exp") - number("iat"), 60, "{claims:?}");
    assert_eq!(claims["role"], "org_admin");
    assert_eq!(claims["sub"], "acc-1");
    assert_eq!(claims["orgs"], "org-1 org-2");
    assert_eq!(claims["clinics"], "c-1");

    let out = run(
        &[
            "token",
            "--role",
            "service",
            "--data-dir",
            &dir.to_string_lossy(),
        ],
        None,
    );
    let claims = verified(&out, &dir);
    let number = |k: &str| claims[k].parse::<i64>().expect("integer");
    assert_eq!(number("exp") - number("iat"), 8 * 3600);
    assert_eq!(claims["sub"], "service");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_data_directory_comes_from_the_flag_then_the_environment() {
    let (env_dir, flag_dir) = (temp_dir("env"), temp_dir("flag"));
    let out = run(&["token", "--role", "service"], Some(&env_dir));
    verified(&out, &env_dir);
    assert!(env_dir.join("dev-signing-key").exists());
    let out = run(
        &[
            "token",
            "--role",
            "service",
            "--data-dir",
            &flag_dir.to_string_lossy(),
        ],
        Some(&env_dir),
    );
    verified(&out, &flag_dir);
    let _ = std::fs::remove_dir_all(&env_dir);
    let _ = std::fs::remove_dir_all(&flag_dir);
}

#[test]
fn serve_prints_the_lines_the_scripts_read() {
    let dir = temp_dir("serve");
    let data_flag = format!("--data-dir={}", dir.display());
    let mut child = Command::new(BIN)
        .args(["serve", "--port=0", &data_flag, "--no-demo"])
        .env_remove("TELEHEALTH_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let last = line.starts_with("try: curl ");
        banner.push(line);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();

    let url = banner[0]
        .strip_prefix("Telehealth reporting API (local) at ")
        .unwrap_or_else(|| panic!("{banner:?}"));
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{url}"));
    assert_ne!(port, 0);
    assert_eq!(banner[1], format!("data directory: {}", dir.display()));
    assert_eq!(
        banner[2],
        "tokens (valid 8 hours; `local-server token --help` mints others):"
    );
    // "  <role>  <token>", read with awk '$1 == role { print $2 }'.
    let key = DataDir::new(&dir).dev_key().expect("key");
    let now = chrono::Utc::now().timestamp();
    let mut roles = Vec::new();
    for line in &banner[3..banner.len() - 1] {
        assert!(line.starts_with("  "), "{line}");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.len(), 2, "{line}");
        let claims = key.verify(words[1], now).expect("valid token");
        assert_eq!(claims["role"], words[0]);
        roles.push(Role::parse(words[0]).expect("a role"));
    }
    for role in Role::ALL {
        assert!(roles.contains(&role), "{role} in {banner:?}");
    }
    assert_eq!(banner[banner.len() - 1], format!("try: curl {url}/health"));
    let _ = std::fs::remove_dir_all(&dir);
}
