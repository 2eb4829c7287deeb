//! `local-server`: the local run.
//!
//! ```text
//! local-server serve [--port 8080] [--data-dir .data] [--no-demo | --bench-rows N] [--bench-threads N [--chatter K]]
//! local-server token --role ROLE [--sub ID] [--orgs a,b] [--clinics c,d] [--ttl SECONDS] [--data-dir .data]
//! ```

use local_server::{default_data_dir, DataDir, LocalApp};
use shared::auth::{Principal, Role};
use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  local-server serve [--port 8080] [--data-dir .data] [--no-demo | --bench-rows N] [--bench-threads N [--chatter K]]\n  \
         local-server token --role ROLE [--sub ID] [--orgs a,b] [--clinics c,d] [--ttl SECONDS] [--data-dir .data]\n\
         roles: {}",
        Role::ALL.map(|r| r.as_str()).join(", ")
    );
    ExitCode::from(2)
}

struct Args {
    flags: Vec<(String, Option<String>)>,
}

impl Args {
    fn parse(raw: &[String]) -> Option<Args> {
        let mut flags = Vec::new();
        let mut i = 0;
        while i < raw.len() {
            let name = raw[i].strip_prefix("--")?.to_string();
            let value = raw.get(i + 1).filter(|v| !v.starts_with("--")).cloned();
            i += if value.is_some() { 2 } else { 1 };
            flags.push((name, value));
        }
        Some(Args { flags })
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(k, _)| k == name)
    }
    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
    fn data_dir(&self) -> DataDir {
        DataDir::new(
            self.get("data-dir")
                .map(PathBuf::from)
                .unwrap_or_else(default_data_dir),
        )
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = raw.split_first() else {
        return usage();
    };
    let Some(args) = Args::parse(rest) else {
        return usage();
    };
    match command.as_str() {
        "token" => token(&args),
        "serve" => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(serve(&args))
        }
        _ => usage(),
    }
}

fn token(args: &Args) -> ExitCode {
    let Some(role) = args.get("role").and_then(Role::parse) else {
        return usage();
    };
    let ttl = match args.get("ttl").map(str::parse::<i64>) {
        None => 8 * 3600,
        Some(Ok(t)) if t > 0 => t,
        Some(_) => return usage(),
    };
    let principal = Principal {
        sub: args.get("sub").unwrap_or(role.as_str()).to_string(),
        role,
        orgs: args.list("orgs"),
        clinics: args.list("clinics"),
    };
    match args.data_dir().dev_key() {
        Ok(key) => {
            println!(
                "{}",
                key.mint(&principal, chrono::Utc::now().timestamp(), ttl)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot read the development key: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Args) -> ExitCode {
    shared::telemetry::init_logging();
    let port = match args.get("port").map(str::parse::<u16>) {
        None => 8080,
        Some(Ok(p)) => p,
        Some(Err(_)) => return usage(),
    };
    let data = args.data_dir();
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let base_url = format!("http://127.0.0.1:{port}");
    let app = match LocalApp::open_default(&data, &base_url) {
        Ok(app) => app,
        Err(e) => {
            eprintln!(
                "cannot open the data directory {}: {e}",
                data.root.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let subjects = if args.has("no-demo") {
        local_server::demo::DemoSubjects::demo()
    } else {
        let mut scale = match args.get("bench-rows").map(str::parse::<u64>) {
            None => shared::demo::Scale::demo(),
            // One organisation, so its reports hold the whole benchmark volume.
            Some(Ok(rows)) => shared::demo::Scale {
                organisations: 1,
                ..shared::demo::Scale::bench(rows)
            },
            Some(Err(_)) => return usage(),
        };
        // The tab benchmark's volume: `--bench-threads 100000 --chatter 3` makes 100,000
        // threads holding about 1,080,000 messages.
        match args.get("bench-threads").map(str::parse::<u32>) {
            None => {}
            Some(Ok(threads)) => scale.threads = threads,
            Some(Err(_)) => return usage(),
        }
        match args.get("chatter").map(str::parse::<u32>) {
            None => {}
            Some(Ok(chatter)) => scale.chatter = chatter,
            Some(Err(_)) => return usage(),
        }
        match local_server::demo::load_once(&app, scale).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot load the demo data: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    println!("Telehealth reporting API (local) at {base_url}");
    println!("data directory: {}", data.root.display());
    println!("tokens (valid 8 hours; `local-server token --help` mints others):");
    let now = chrono::Utc::now().timestamp();
    for principal in subjects.principals() {
        println!(
            "  {:<16} {}",
            principal.role.as_str(),
            app.dev_key.mint(&principal, now, 8 * 3600)
        );
    }
    println!("try: curl {base_url}/health");
    let _email_worker = app.start_email_worker();
    if let Err(e) = axum::serve(listener, app.router()).await {
        eprintln!("server stopped: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
