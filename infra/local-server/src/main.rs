//! `local-server`: the local run. `local-server --help` and `src/cli.rs` for the command line.

mod cli;

use clap::Parser;
use cli::{Cli, Command, Serve, Token};
use local_server::{DataDir, LocalApp};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit 2 with clap's message; `--help` and `--version` exit 0.
    match Cli::parse().command {
        Command::Token(args) => token(&args),
        Command::Serve(args) => {
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
    }
}

fn token(args: &Token) -> ExitCode {
    match DataDir::new(&args.data.data_dir).dev_key() {
        Ok(key) => {
            println!(
                "{}",
                key.mint(&args.principal(), chrono::Utc::now().timestamp(), args.ttl)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot read the development key: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Serve) -> ExitCode {
    domain::telemetry::init_logging();
    let port = args.port;
    let data = DataDir::new(&args.data.data_dir);
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
    let subjects = if args.no_demo {
        local_server::demo::DemoSubjects::demo()
    } else {
        let mut scale = match args.bench_rows {
            None => local_adapters::demo::Scale::demo(),
            // One organisation, so its reports hold the whole benchmark volume.
            Some(rows) => local_adapters::demo::Scale {
                organisations: 1,
                ..local_adapters::demo::Scale::bench(rows)
            },
        };
        // The tab benchmark's volume: `--bench-threads 100000 --chatter 3` makes 100,000
        // threads holding about 1,080,000 messages.
        if let Some(threads) = args.bench_threads {
            scale.threads = threads;
        }
        if let Some(chatter) = args.chatter {
            scale.chatter = chatter;
        }
        match local_server::demo::load_once(&app, scale).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "cannot load the demo data: {e} (delete the data directory to start \
                     again from fresh demo data)"
                );
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
    let _delivery_worker = app.start_delivery_worker();
    if let Err(e) = axum::serve(listener, app.router()).await {
        eprintln!("server stopped: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
