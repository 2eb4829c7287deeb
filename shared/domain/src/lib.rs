//! The domain of the telehealth reporting and referral backend: events and their ingest, read
//! models, report builders, referrals, exporters, auth and the ports (traits) the adapters
//! implement (`aws-adapters` in AWS, `local-adapters` for the local run).

pub mod admin;
pub mod audit;
pub mod auth;
pub mod deps;
pub mod events;
pub mod export;
pub mod http;
pub mod ids;
pub mod org_reports;
pub mod ports;
pub mod readmodels;
pub mod referrals;
pub mod telemetry;
pub mod time;

/// The allocator of every binary that links this crate (the functions, the local server, the
/// bench, the tests): mimalloc instead of the system's (glibc) malloc. The exporter reads the
/// store and builds rows on one thread while another writes the workbook and frees every
/// cell's text; glibc takes the allocating thread's arena lock for each such free, and
/// allocation was about 15% of an admin page's CPU under load. mimalloc keeps a heap per
/// thread and hands cross-thread frees back without a lock (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
