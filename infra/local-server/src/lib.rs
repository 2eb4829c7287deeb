//! The local server: every HTTP function's endpoints ([`api::functions::ALL`]) on the API's one
//! Router, with the embedded adapters under a data directory, tokens validated with a local
//! development key, the blob links of [`DirBlobs`] served at `/blobs/{key}` (the local twin of
//! S3 presigning) and the web console.
//!
//! [`LocalApp::router`] builds the app without a socket, so tests drive it directly.

pub mod console;
pub mod demo;

use api::http::Problem;
use api::router::Edge;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get};
use axum::Router;
use domain::auth::{AuthError, Principal};
use domain::deps::{Deps, Settings};
use domain::org_reports::email::{sweep, Takeover};
use domain::ports::{Clock, SystemClock};
use local_adapters::dev_tokens::DevKey;
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use local_adapters::outbox::OutboxMailer;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Email jobs the local worker runs per sweep.
const EMAIL_SWEEP_BATCH: usize = 10;

/// The local app's state: the wiring, the token key, the blob adapter (for serving links).
#[derive(Clone)]
pub struct LocalApp {
    pub deps: Arc<Deps>,
    pub dev_key: DevKey,
    pub blobs: Arc<DirBlobs>,
    /// The port the server is reached on (its base URL's; 80 when that names none).
    pub port: u16,
    counter: Arc<AtomicU64>,
    /// Wakes the email-job worker when a report email is requested.
    email_jobs: Arc<tokio::sync::Notify>,
}

/// Files under the data directory.
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }
    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// A 32-byte secret kept in the data directory, made on first use from the OS's randomness.
    pub fn secret(&self, name: &str) -> std::io::Result<Vec<u8>> {
        let path = self.root.join(name);
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(bytes) = hex::decode(text.trim()) {
                if bytes.len() == 32 {
                    return Ok(bytes);
                }
            }
        }
        std::fs::create_dir_all(&self.root)?;
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes)?;
        std::fs::write(&path, hex::encode(&bytes))?;
        Ok(bytes)
    }

    pub fn dev_key(&self) -> std::io::Result<DevKey> {
        Ok(DevKey::new(self.secret("dev-signing-key")?))
    }
}

/// The platform's response-time commitment when `DEFAULT_RESPONSE_TIME_HOURS` is unset (as
/// the template's default).
pub const DEFAULT_RESPONSE_TIME_HOURS: u32 = 24;

/// Settings of the local run: both referral options on unless the environment says otherwise
/// (`REFERRAL_PATIENT_APPROVAL`, `REFERRAL_BOOKING_PROMPT` = `true`/`false`); referrals expire
/// after `REFERRAL_EXPIRY_DAYS` days (default 14); the platform's response-time commitment is
/// [`DEFAULT_RESPONSE_TIME_HOURS`] unless `DEFAULT_RESPONSE_TIME_HOURS` says otherwise.
pub fn local_settings(base_url: &str) -> Result<Settings, domain::deps::ConfigError> {
    let flag = |name: &'static str| match std::env::var(name) {
        Err(_) => Ok(true),
        Ok(_) => domain::deps::env_bool(name),
    };
    Ok(Settings {
        platform_base_url: std::env::var("PLATFORM_BASE_URL")
            .unwrap_or_else(|_| base_url.to_string()),
        referral_patient_approval: flag("REFERRAL_PATIENT_APPROVAL")?,
        referral_booking_prompt: flag("REFERRAL_BOOKING_PROMPT")?,
        referral_expiry: match std::env::var("REFERRAL_EXPIRY_DAYS") {
            Err(_) => chrono::Duration::days(i64::from(domain::deps::DEFAULT_REFERRAL_EXPIRY_DAYS)),
            Ok(_) => domain::deps::env_expiry_days("REFERRAL_EXPIRY_DAYS")?,
        },
        default_response_time_hours: match std::env::var("DEFAULT_RESPONSE_TIME_HOURS") {
            Err(_) => DEFAULT_RESPONSE_TIME_HOURS,
            Ok(_) => domain::deps::env_hours("DEFAULT_RESPONSE_TIME_HOURS")?,
        },
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("store: {0}")]
    Store(#[from] domain::ports::StoreError),
    #[error("configuration: {0}")]
    Config(#[from] domain::deps::ConfigError),
}

impl LocalApp {
    /// Opens (or creates) everything under `data` for a server reachable at `base_url`.
    pub fn open(
        data: &DataDir,
        base_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<LocalApp, StartError> {
        let store = EmbeddedStore::open(&data.store())?;
        let blobs = Arc::new(DirBlobs::new(
            data.blobs(),
            base_url.to_string(),
            data.secret("blob-signing-key")?,
        ));
        let mailer = OutboxMailer::new(data.outbox(), "reports@telehealth.local".to_string());
        let deps = Deps {
            store: Arc::new(store),
            blobs: blobs.clone(),
            mailer: Arc::new(mailer),
            clock,
            settings: local_settings(base_url)?,
        };
        Ok(LocalApp {
            deps: Arc::new(deps),
            dev_key: data.dev_key()?,
            blobs,
            port: base_url
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| u.port_u16())
                .unwrap_or(80),
            counter: Arc::new(AtomicU64::new(0)),
            email_jobs: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Opens with the wall clock.
    pub fn open_default(data: &DataDir, base_url: &str) -> Result<LocalApp, StartError> {
        Self::open(data, base_url, Arc::new(SystemClock))
    }

    /// The axum app: the API's Router with every function, the web console and
    /// `/blobs/{key}`.
    pub fn router(self) -> Router {
        let edge = Arc::new(LocalEdge {
            dev_key: self.dev_key.clone(),
            clock: self.deps.clock.clone(),
            counter: self.counter.clone(),
        });
        let api = api::router(api::functions::ALL, self.deps.clone(), edge);
        let wake = self.email_jobs.clone();
        Router::new()
            .route("/blobs/{*key}", get(serve_blob))
            .route("/", any(console_page))
            .route("/console", any(console_page))
            .route("/console/", any(console_page))
            .route("/console/{*file}", any(console_page))
            .with_state(self)
            .merge(api)
            .layer(middleware::from_fn_with_state(wake, wake_email_worker))
    }

    /// Starts the in-process worker of emailed reports (SPEC D2, R3, Q6): the sweep the job
    /// function runs on a schedule in AWS (`org-report-email-job`), through the same runner,
    /// woken by each email request and at least once a second. Its first sweep also takes over
    /// every running job: a job running when the server starts was left by a process that
    /// stopped (were another server running on the same data directory, its run would stop at
    /// its next write on the job, and a job whose email was attempted is never mailed again).
    pub fn start_email_worker(&self) -> tokio::task::JoinHandle<()> {
        let deps = self.deps.wired_as(&org_report_email_job::WIRING);
        let wake = self.email_jobs.clone();
        tokio::spawn(async move {
            let tempdir = domain::org_reports::download::report_tempdir();
            let mut takeover = Takeover::All;
            loop {
                match sweep(&deps, &tempdir, takeover, EMAIL_SWEEP_BATCH).await {
                    Ok(swept) => {
                        // Until the jobs left by the last process are all taken over.
                        if swept.done + swept.failed + swept.skipped + swept.retry
                            < EMAIL_SWEEP_BATCH
                        {
                            takeover = Takeover::Expired;
                        }
                        if swept.retry > 0 {
                            tracing::error!(jobs = swept.retry, "email jobs to be run again");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "open email jobs not read"),
                }
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(1), wake.notified()).await;
            }
        })
    }
}

impl LocalApp {
    /// Starts the in-process delivery worker of referral steps (SPEC Q6): at start and every
    /// second it expires the referrals that are due (B9) and settles the delivery markers a
    /// crash or a failure left behind, as the `referral-delivery` function does in AWS.
    pub fn start_delivery_worker(&self) -> tokio::task::JoinHandle<()> {
        let deps = self.deps.clone();
        tokio::spawn(async move {
            loop {
                let now = deps.clock.now();
                match domain::referrals::delivery::sweep(&*deps.store, now, 25).await {
                    Ok(swept) if swept == Default::default() => {}
                    Ok(swept) => tracing::info!(
                        expired = swept.expired,
                        referrals = swept.settled,
                        "referral deliveries settled"
                    ),
                    Err(e) => tracing::error!(error = %e, "referral deliveries not read"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        })
    }
}

/// What the HTTP API's JWT authorizer does in AWS: a protected route without a valid token
/// answers 401 before any function runs. Request ids are `local-1`, `local-2`, ...
struct LocalEdge {
    dev_key: DevKey,
    clock: Arc<dyn Clock>,
    counter: Arc<AtomicU64>,
}

impl Edge for LocalEdge {
    fn request_id(&self, _: &Parts) -> String {
        format!("local-{}", self.counter.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn principal(&self, parts: &Parts) -> Result<Option<Principal>, AuthError> {
        authenticate(&self.dev_key, self.clock.now().timestamp(), &parts.headers).map(Some)
    }
}

fn authenticate(key: &DevKey, now: i64, headers: &HeaderMap) -> Result<Principal, AuthError> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::Missing)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(AuthError::Malformed)?;
    let claims = key.verify(token.trim(), now)?;
    Principal::from_claims(&claims)
}

/// Wakes the email-job worker when an emailed report was queued (a 202 to a POST on
/// `.../email`), so that it runs at once rather than at its next tick.
async fn wake_email_worker(
    State(wake): State<Arc<tokio::sync::Notify>>,
    req: Request,
    next: Next,
) -> Response {
    let queues_email = req.method() == Method::POST && req.uri().path().ends_with("/email");
    let resp = next.run(req).await;
    if queues_email && resp.status() == 202 {
        wake.notify_one();
    }
    resp
}

async fn console_page(State(app): State<LocalApp>, req: Request) -> Response {
    // The target's authority when it has one (RFC 9112 3.2.2), else the Host header.
    let host = match req.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => req
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok()),
    };
    console::serve(&app, req.method().as_str(), req.uri().path(), host)
}

async fn serve_blob(
    State(app): State<LocalApp>,
    UrlPath(key): UrlPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let key = key.as_str();
    let get = |name: &str| query.get(name).map(String::as_str);
    let (Some(expires), Some(filename), Some(signature)) = (
        get("expires").and_then(|e| e.parse::<i64>().ok()),
        get("filename"),
        get("signature"),
    ) else {
        return api::problem(Problem::new(
            403,
            "bad-link",
            "Forbidden",
            "not a signed download link",
        ));
    };
    if let Err(e) = app
        .blobs
        .verify_link(key, expires, filename, signature, app.deps.clock.now())
    {
        return api::problem(Problem::new(403, "bad-link", "Forbidden", e.to_string()));
    }
    match domain::ports::BlobStore::get(&*app.blobs, key).await {
        Ok(bytes) => Response::builder()
            .status(200)
            .header("content-type", content_type(key))
            .header(
                "content-disposition",
                domain::ports::blobs::attachment_disposition(filename),
            )
            .body(Body::from(bytes))
            .unwrap_or_else(|_| Response::new(Body::empty())),
        Err(_) => api::problem(Problem::not_found("file")),
    }
}

fn content_type(key: &str) -> &'static str {
    if key.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if key.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}
