//! The command line of `bench` (clap's derive API): every flag takes its value as
//! `--flag value` or `--flag=value`; an unknown flag or a bad value is refused with a message
//! and exit status 2, `--help` and `--version` exit 0.

use clap::Parser;
use std::path::PathBuf;

/// The benchmarks of SPEC Q4, printed as one markdown table: the exports beside the raw
/// writers (and Python's XlsxWriter), cold start and size of the function binaries.
#[derive(Debug, Parser)]
#[command(name = "bench", version)]
pub struct Cli {
    /// Rows of the Consultations report to export [default: 1000000; 2000 with --tiny].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rows: Option<u64>,
    /// The harness's smoke run: 2,000 rows and the smallest demo world, 3 starts per
    /// function (the figures mean nothing).
    #[arg(long)]
    pub tiny: bool,
    /// Also writes the table to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Where the exports write their files [default: bench-<pid> in the temporary directory].
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// A Python interpreter with XlsxWriter, for the Python row.
    #[arg(long, value_name = "PY")]
    pub python: Option<PathBuf>,
    /// Where the function binaries are [default: target/release].
    #[arg(long, value_name = "DIR")]
    pub functions_dir: Option<PathBuf>,
    /// The functions to start, comma-separated [default: every crate of functions/].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub functions: Option<Vec<String>>,
    /// Starts of each function [default: 20; 3 with --tiny].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: Option<u64>,
    /// Rounds of the export measurements, each figure the best of them.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: u64,
    /// Times the stages of the rows' producer before the exports.
    #[arg(long)]
    pub stages: bool,
    /// Skips the exports.
    #[arg(long)]
    pub no_exports: bool,
    /// Skips the cold starts.
    #[arg(long)]
    pub no_cold_start: bool,
    /// Starts every function binary under this user-mode emulator (`qemu-aarch64-static` for
    /// the arm64 artifacts on x86_64): they start and answer; the times are the emulator's.
    #[arg(long, value_name = "PROGRAM")]
    pub emulator: Option<PathBuf>,
    /// The target's root for the emulator's loader and libraries (qemu's `-L`).
    #[arg(long, value_name = "DIR", requires = "emulator")]
    pub emulator_sysroot: Option<PathBuf>,
}

/// What to run, with the defaults filled in.
#[derive(Debug)]
pub struct Args {
    pub rows: u64,
    pub tiny: bool,
    pub out: Option<PathBuf>,
    pub workdir: PathBuf,
    pub python: Option<PathBuf>,
    pub functions_dir: Option<PathBuf>,
    pub functions: Option<Vec<String>>,
    pub runs: usize,
    /// Rounds of the export measurements (each figure the best of them).
    pub rounds: usize,
    pub stages: bool,
    pub exports: bool,
    pub cold_start: bool,
    pub emulator: Option<PathBuf>,
    pub emulator_sysroot: Option<PathBuf>,
}

impl Cli {
    pub fn resolve(self) -> Args {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Args {
            rows: self
                .rows
                .unwrap_or(if self.tiny { 2_000 } else { 1_000_000 }),
            tiny: self.tiny,
            out: self.out,
            workdir: self.workdir.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("bench-{}", std::process::id()))
            }),
            python: self.python,
            functions_dir: self.functions_dir,
            functions: self
                .functions
                .map(|names| names.into_iter().filter(|n| !n.is_empty()).collect()),
            runs: count(self.runs.unwrap_or(if self.tiny { 3 } else { 20 })),
            rounds: count(self.rounds),
            stages: self.stages,
            exports: !self.no_exports,
            cold_start: !self.no_cold_start,
            emulator: self.emulator,
            emulator_sysroot: self.emulator_sysroot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied())).map(Cli::resolve)
    }

    fn args(args: &[&str]) -> Args {
        parse(args).expect("parses")
    }

    fn error(args: &[&str]) -> ErrorKind {
        parse(args).expect_err("refused").kind()
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_and_the_tiny_run() {
        let a = args(&[]);
        assert_eq!((a.rows, a.runs, a.rounds), (1_000_000, 20, 1));
        assert!(a.exports && a.cold_start && !a.tiny && !a.stages);
        assert!(a.out.is_none() && a.python.is_none() && a.functions.is_none());
        assert!(a.workdir.starts_with(std::env::temp_dir()));
        let tiny = args(&["--tiny"]);
        assert_eq!((tiny.rows, tiny.runs), (2_000, 3));
        // Given values win over --tiny's, in either order.
        let given = args(&["--rows", "500", "--tiny", "--runs=5"]);
        assert_eq!((given.rows, given.runs), (500, 5));
    }

    #[test]
    fn values_follow_a_space_or_an_equals_sign() {
        for form in [
            &[
                "--rows=7",
                "--rounds=3",
                "--out=o.md",
                "--workdir=w",
                "--python=py",
            ][..],
            &[
                "--rows",
                "7",
                "--rounds",
                "3",
                "--out",
                "o.md",
                "--workdir",
                "w",
                "--python",
                "py",
            ],
        ] {
            let a = args(form);
            assert_eq!((a.rows, a.rounds), (7, 3), "{form:?}");
            assert_eq!(a.out, Some(PathBuf::from("o.md")));
            assert_eq!(a.workdir, PathBuf::from("w"));
            assert_eq!(a.python, Some(PathBuf::from("py")));
        }
        let a = args(&[
            "--functions=health,admin-feed",
            "--functions-dir",
            "target/debug",
            "--no-exports",
            "--stages",
        ]);
        assert_eq!(
            a.functions,
            Some(vec!["health".to_string(), "admin-feed".to_string()])
        );
        assert_eq!(a.functions_dir, Some(PathBuf::from("target/debug")));
        assert!(!a.exports && a.cold_start && a.stages);
        assert!(!args(&["--no-cold-start"]).cold_start);
        assert!(a.emulator.is_none() && a.emulator_sysroot.is_none());
        let e = args(&[
            "--emulator=qemu-aarch64-static",
            "--emulator-sysroot",
            "/usr/aarch64-linux-gnu",
        ]);
        assert_eq!(e.emulator, Some(PathBuf::from("qemu-aarch64-static")));
        assert_eq!(
            e.emulator_sysroot,
            Some(PathBuf::from("/usr/aarch64-linux-gnu"))
        );
    }

    #[test]
    fn unknown_flags_and_bad_values_are_refused() {
        assert_eq!(error(&["--rowz", "5"]), ErrorKind::UnknownArgument);
        assert_eq!(error(&["extra"]), ErrorKind::UnknownArgument);
        assert_eq!(error(&["--rows", "many"]), ErrorKind::ValueValidation);
        assert_eq!(error(&["--rows=0"]), ErrorKind::ValueValidation);
        assert_eq!(error(&["--runs", "0"]), ErrorKind::ValueValidation);
        assert_eq!(error(&["--rounds=0"]), ErrorKind::ValueValidation);
        assert_eq!(error(&["--out"]), ErrorKind::InvalidValue);
        // A sysroot means nothing without the emulator that reads it.
        assert_eq!(
            error(&["--emulator-sysroot", "/usr/aarch64-linux-gnu"]),
            ErrorKind::MissingRequiredArgument
        );
        let message = parse(&["--rowz", "5"]).expect_err("refused").to_string();
        assert!(message.contains("--rows"), "{message}");
        assert_eq!(parse(&["--rowz"]).expect_err("refused").exit_code(), 2);
    }

    #[test]
    fn help_and_version_are_answers_not_errors() {
        let help = parse(&["--help"]).expect_err("help");
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        assert_eq!(help.exit_code(), 0);
        let version = parse(&["--version"]).expect_err("version");
        assert_eq!(version.kind(), ErrorKind::DisplayVersion);
        assert_eq!(version.exit_code(), 0);
    }
}
