//! The command line of `local-server` (clap's derive API).
//!
//! ```text
//! local-server serve [--port 8080] [--data-dir .data] [--no-demo | --bench-rows N] [--bench-threads N [--chatter K]]
//! local-server token --role ROLE [--sub ID] [--orgs a,b] [--clinics c,d] [--ttl SECONDS] [--data-dir .data]
//! ```
//!
//! Every flag takes its value as `--flag value` or `--flag=value`; an unknown flag or a bad value
//! is refused with a message and exit status 2, `--help` and `--version` exit 0.

use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use domain::auth::{Principal, Role};
use std::path::PathBuf;

/// The telehealth reporting API on 127.0.0.1, with the embedded adapters under a data
/// directory, and its development tokens.
#[derive(Debug, Parser)]
#[command(name = "local-server", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves every HTTP route on 127.0.0.1 (loading the demo data on first start) and prints
    /// a token per role.
    Serve(Serve),
    /// Prints a development token signed with the data directory's key.
    Token(Token),
}

/// The data directory of both commands.
#[derive(Debug, Args)]
pub struct DataDirArg {
    /// The data directory: the store, the blobs, the outbox and the signing key.
    #[arg(
        long,
        value_name = "DIR",
        env = "TELEHEALTH_DATA_DIR",
        default_value = ".data"
    )]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct Serve {
    /// The port on 127.0.0.1; 0 for any free port (the first line printed names the URL).
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    pub port: u16,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Starts without loading the demo data.
    #[arg(long, conflicts_with_all = ["bench_rows", "bench_threads", "chatter"])]
    pub no_demo: bool,
    /// Loads the demo data at the benchmark volume instead: one organisation whose
    /// Consultations report holds about N rows.
    #[arg(long, value_name = "N")]
    pub bench_rows: Option<u64>,
    /// Message threads of the demo data (the tab benchmark: 100000).
    #[arg(long, value_name = "N")]
    pub bench_threads: Option<u32>,
    /// Extra patient messages at the start of every thread (the tab benchmark: 3).
    #[arg(long, value_name = "K")]
    pub chatter: Option<u32>,
}

#[derive(Debug, Args)]
pub struct Token {
    /// The caller's role.
    #[arg(long, value_name = "ROLE", value_parser = role_parser())]
    pub role: Role,
    /// The caller's id (`sub`); the role's name when not given.
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    pub sub: Option<String>,
    /// Organisation ids the caller may act on, comma-separated (or the flag repeated).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub orgs: Vec<String>,
    /// Clinic ids the caller may act on, comma-separated (or the flag repeated).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub clinics: Vec<String>,
    /// How long the token is valid, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 8 * 3600,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub ttl: i64,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// A role by its claim name; help and errors list the names.
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str))
        .try_map(|name| Role::parse(&name).ok_or("not a role"))
}

/// Ids of a list flag: commas split them (clap) and so do spaces, since the claims hold the
/// list space-separated; empty ones are dropped.
fn ids(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(str::to_string)
        .collect()
}

impl Token {
    /// The caller the token is minted for.
    pub fn principal(&self) -> Principal {
        Principal {
            sub: self
                .sub
                .clone()
                .unwrap_or_else(|| self.role.as_str().to_string()),
            role: self.role,
            orgs: ids(&self.orgs),
            clinics: ids(&self.clinics),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("local-server").chain(args.iter().copied()))
    }

    fn serve(args: &[&str]) -> Serve {
        let mut all = vec!["serve", "--data-dir", "d"];
        all.extend_from_slice(args);
        match parse(&all).expect("parses").command {
            Command::Serve(s) => s,
            other => panic!("not serve: {other:?}"),
        }
    }

    fn token(args: &[&str]) -> Token {
        let mut all = vec!["token", "--data-dir", "d"];
        all.extend_from_slice(args);
        match parse(&all).expect("parses").command {
            Command::Token(t) => t,
            other => panic!("not token: {other:?}"),
        }
    }

    fn error(args: &[&str]) -> ErrorKind {
        parse(args).expect_err("refused").kind()
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn values_follow_a_space_or_an_equals_sign() {
        assert_eq!(serve(&["--port=0"]).port, 0);
        assert_eq!(serve(&["--port", "0"]).port, 0);
        assert_eq!(serve(&[]).port, 8080);
        assert_eq!(token(&["--role=service", "--ttl=60"]).ttl, 60);
        assert_eq!(token(&["--role", "service", "--ttl", "60"]).ttl, 60);
        assert_eq!(token(&["--role", "service"]).ttl, 8 * 3600);
        let s = serve(&["--bench-threads=100000", "--chatter=3"]);
        assert_eq!((s.bench_threads, s.chatter), (Some(100_000), Some(3)));
        assert_eq!(serve(&["--bench-rows=1000000"]).bench_rows, Some(1_000_000));
        assert!(serve(&["--no-demo"]).no_demo);
        let data = parse(&["token", "--role=service", "--data-dir=/tmp/x"]).expect("parses");
        match data.command {
            Command::Token(t) => assert_eq!(t.data.data_dir, PathBuf::from("/tmp/x")),
            other => panic!("not token: {other:?}"),
        }
    }

    #[test]
    fn lists_split_on_commas_and_spaces_and_the_flag_repeats() {
        let t = token(&[
            "--role=org_admin",
            "--orgs",
            "a,b",
            "--orgs=c",
            "--clinics",
            "x y,,z",
            "--sub=acc-1",
        ]);
        assert_eq!(
            t.principal(),
            Principal {
                sub: "acc-1".into(),
                role: Role::OrgAdmin,
                orgs: vec!["a".into(), "b".into(), "c".into()],
                clinics: vec!["x".into(), "y".into(), "z".into()],
            }
        );
        let service = token(&["--role", "service"]).principal();
        assert_eq!(service.sub, "service");
        assert!(service.orgs.is_empty() && service.clinics.is_empty());
    }

    #[test]
    fn unknown_flags_and_bad_values_are_refused() {
        assert_eq!(
            error(&["token", "--role", "org_admin", "--orgz", "a"]),
            ErrorKind::UnknownArgument
        );
        assert_eq!(error(&["serve", "--prot", "0"]), ErrorKind::UnknownArgument);
        assert_eq!(error(&["serve", "extra"]), ErrorKind::UnknownArgument);
        assert_eq!(error(&["token"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            error(&["token", "--role", "wizard"]),
            ErrorKind::InvalidValue
        );
        assert_eq!(
            error(&["token", "--role", "service", "--ttl", "0"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            error(&["token", "--role", "service", "--ttl", "soon"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            error(&["token", "--role", "service", "--sub="]),
            ErrorKind::InvalidValue
        );
        assert_eq!(
            error(&["serve", "--port", "70000"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(error(&["serve", "--port"]), ErrorKind::InvalidValue);
        assert_eq!(
            error(&["serve", "--no-demo", "--bench-rows", "5"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(error(&["bake"]), ErrorKind::InvalidSubcommand);
        assert_eq!(
            error(&[]),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
    }

    #[test]
    fn an_unknown_flag_names_the_near_one() {
        let message = parse(&["token", "--role", "org_admin", "--orgz", "a"])
            .expect_err("refused")
            .to_string();
        assert!(message.contains("--orgz"), "{message}");
        assert!(message.contains("--orgs"), "{message}");
    }

    #[test]
    fn help_and_version_are_answers_not_errors() {
        for args in [
            &["--help"][..],
            &["serve", "--help"],
            &["token", "-h"],
            &["help"],
        ] {
            let e = parse(args).expect_err("help");
            assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{args:?}");
            assert_eq!(e.exit_code(), 0);
        }
        for args in [&["--version"][..], &["serve", "--version"], &["-V"]] {
            let e = parse(args).expect_err("version");
            assert_eq!(e.kind(), ErrorKind::DisplayVersion, "{args:?}");
            assert_eq!(e.exit_code(), 0);
        }
        assert_eq!(
            parse(&["token", "--orgz"])
                .expect_err("refused")
                .exit_code(),
            2
        );
        let help = Cli::command()
            .find_subcommand_mut("token")
            .expect("token")
            .render_help()
            .to_string();
        for name in Role::ALL.map(Role::as_str) {
            assert!(help.contains(name), "{name} in {help}");
        }
    }

    #[test]
    fn the_data_directory_defaults_to_the_environment_then_dot_data() {
        let command = Cli::command();
        for sub in ["serve", "token"] {
            let arg = command
                .find_subcommand(sub)
                .and_then(|c| c.get_arguments().find(|a| a.get_id() == "data_dir"))
                .expect("--data-dir");
            assert_eq!(
                arg.get_env(),
                Some(std::ffi::OsStr::new("TELEHEALTH_DATA_DIR"))
            );
            assert_eq!(arg.get_default_values(), [std::ffi::OsStr::new(".data")]);
        }
    }
}
