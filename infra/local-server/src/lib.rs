//! The local server: every HTTP route of the route table on 127.0.0.1, with the embedded
//! adapters under a data directory, tokens validated with a local development key, and the
//! blob links of [`DirBlobs`] served at `/blobs/{key}` (the local twin of S3 presigning).
//!
//! [`LocalApp::router`] builds the app without a socket, so tests drive it directly.

pub mod console;
pub mod demo;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, Uri};
use axum::response::Response;
use axum::Router;
use domain::auth::{AuthError, DevKey, Principal};
use domain::deps::{Deps, Settings, Wiring};
use domain::http::{ApiRequest, ApiResponse, HandlerResult, Problem, MAX_BODY_BYTES};
use domain::ports::{Clock, SystemClock};
use domain::routes::{self, Route};
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use local_adapters::outbox::OutboxMailer;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The wiring of `function` (its crate's `WIRING`): the ports its Lambda binary is built with.
pub fn wiring(function: &str) -> Option<Wiring> {
    Some(match function {
        "health" => health::WIRING,
        "ingest-http" => ingest_http::WIRING,
        "admin-feed" => admin_feed::WIRING,
        "admin-thread" => admin_thread::WIRING,
        "admin-consultations" => admin_consultations::WIRING,
        "admin-calls" => admin_calls::WIRING,
        "admin-practitioners" => admin_practitioners::WIRING,
        "admin-ratings" => admin_ratings::WIRING,
        "admin-payments" => admin_payments::WIRING,
        "admin-payment-items" => admin_payment_items::WIRING,
        "admin-vouchers" => admin_vouchers::WIRING,
        "referral-specialists" => referral_specialists::WIRING,
        "referral-create" => referral_create::WIRING,
        "referral-patient-decision" => referral_patient_decision::WIRING,
        "referral-specialist-decision" => referral_specialist_decision::WIRING,
        "referral-get" => referral_get::WIRING,
        "referral-list" => referral_list::WIRING,
        "org-report-config" => org_report_config::WIRING,
        "org-report-download" => org_report_download::WIRING,
        "org-report-history" => org_report_history::WIRING,
        "org-report-summary" => org_report_summary::WIRING,
        "org-report-email" => org_report_email::WIRING,
        "org-report-email-job" => org_report_email_job::WIRING,
        _ => return None,
    })
}

/// Runs the handler of `function` (a crate under `functions/`) on a request, with `deps`
/// narrowed to the function's [`wiring`] as its Lambda gets them (a port it is built without
/// answers `NotWired`). Every function of the route table is here; a test holds the two
/// together.
pub fn dispatch(
    function: &str,
    deps: Arc<Deps>,
    req: ApiRequest,
) -> Option<Pin<Box<dyn Future<Output = HandlerResult> + Send>>> {
    let deps = Arc::new(deps.wired_as(&wiring(function)?));
    Some(match function {
        "health" => Box::pin(health::handle(deps, req)),
        "ingest-http" => Box::pin(ingest_http::handle(deps, req)),
        // ---- admin reporting (SPEC A1-A9) ----
        "admin-feed" => Box::pin(admin_feed::handle(deps, req)),
        "admin-thread" => Box::pin(admin_thread::handle(deps, req)),
        "admin-consultations" => Box::pin(admin_consultations::handle(deps, req)),
        "admin-calls" => Box::pin(admin_calls::handle(deps, req)),
        "admin-practitioners" => Box::pin(admin_practitioners::handle(deps, req)),
        "admin-ratings" => Box::pin(admin_ratings::handle(deps, req)),
        "admin-payments" => Box::pin(admin_payments::handle(deps, req)),
        "admin-payment-items" => Box::pin(admin_payment_items::handle(deps, req)),
        "admin-vouchers" => Box::pin(admin_vouchers::handle(deps, req)),
        // ---- referrals (SPEC B1-B7) ----
        "referral-specialists" => Box::pin(referral_specialists::handle(deps, req)),
        "referral-create" => Box::pin(referral_create::handle(deps, req)),
        "referral-patient-decision" => Box::pin(referral_patient_decision::handle(deps, req)),
        "referral-specialist-decision" => Box::pin(referral_specialist_decision::handle(deps, req)),
        "referral-get" => Box::pin(referral_get::handle(deps, req)),
        "referral-list" => Box::pin(referral_list::handle(deps, req)),
        // ---- organisation reports (SPEC C1-C10, D1, D3) ----
        "org-report-config" => Box::pin(org_report_config::handle(deps, req)),
        "org-report-download" => Box::pin(org_report_download::handle(deps, req)),
        "org-report-history" => Box::pin(org_report_history::handle(deps, req)),
        "org-report-summary" => Box::pin(org_report_summary::handle(deps, req)),
        // ---- emailed reports (SPEC D2) ----
        "org-report-email" => Box::pin(org_report_email::handle(deps, req)),
        _ => return None,
    })
}

/// The local app's state: the wiring, the token key, the blob adapter (for serving links).
#[derive(Clone)]
pub struct LocalApp {
    pub deps: Arc<Deps>,
    pub dev_key: DevKey,
    pub blobs: Arc<DirBlobs>,
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

/// Settings of the local run: both referral options on unless the environment says otherwise
/// (`REFERRAL_PATIENT_APPROVAL`, `REFERRAL_BOOKING_PROMPT` = `true`/`false`).
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
            counter: Arc::new(AtomicU64::new(0)),
            email_jobs: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Opens with the wall clock.
    pub fn open_default(data: &DataDir, base_url: &str) -> Result<LocalApp, StartError> {
        Self::open(data, base_url, Arc::new(SystemClock))
    }

    /// The axum app: every route of the table, plus `/blobs/{key}`.
    pub fn router(self) -> Router {
        Router::new().fallback(serve).with_state(self)
    }

    /// Starts the in-process worker of emailed reports (SPEC D2, R3): it runs the queued jobs
    /// through the same handler as the stream-triggered function (`org-report-email-job`),
    /// woken by each email request and at least once a second. Claims make a job run once
    /// even if the worker and another runner race.
    pub fn start_email_worker(&self) -> tokio::task::JoinHandle<()> {
        let deps = self.deps.wired_as(&org_report_email_job::WIRING);
        let wake = self.email_jobs.clone();
        tokio::spawn(async move {
            let tempdir = domain::org_reports::download::report_tempdir();
            loop {
                match domain::org_reports::email::queued_jobs(&*deps.store, 10).await {
                    Ok(jobs) if !jobs.is_empty() => {
                        let event = org_report_email_job::insert_event(&jobs);
                        let response = org_report_email_job::handle(&deps, event, &tempdir).await;
                        if !response.batch_item_failures.is_empty() {
                            tracing::error!("email jobs to be run again");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "queued email jobs not read"),
                }
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(1), wake.notified()).await;
            }
        })
    }

    fn next_request_id(&self) -> String {
        format!("local-{}", self.counter.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

fn to_response(resp: ApiResponse) -> Response {
    let mut builder = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Body::from(resp.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn problem(p: Problem) -> Response {
    to_response(p.into_response())
}

/// What the HTTP API's JWT authorizer does in AWS: a protected route without a valid token
/// answers 401 before any function runs.
fn authenticate(app: &LocalApp, headers: &HeaderMap) -> Result<Principal, AuthError> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::Missing)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(AuthError::Malformed)?;
    let claims = app
        .dev_key
        .verify(token.trim(), app.deps.clock.now().timestamp())?;
    Principal::from_claims(&claims)
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let dec = |s: &str| {
                        percent_encoding::percent_decode_str(&s.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    (dec(k), dec(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn serve(State(app): State<LocalApp>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if parts.method == Method::GET {
        if let Some(key) = path.strip_prefix("/blobs/") {
            return serve_blob(&app, key, &query_pairs(&parts.uri)).await;
        }
    }
    // The web console (local run only; not part of the API's route table).
    if console::handles(&path) {
        return console::serve(&app, parts.method.as_str(), &path);
    }
    let Some((route, path_params)) = routes::find(parts.method.as_str(), &path) else {
        let other_method = routes::ROUTES
            .iter()
            .any(|r| routes::match_path(r.path, &path).is_some());
        return problem(if other_method {
            Problem::method_not_allowed()
        } else {
            Problem::not_found("route")
        });
    };
    let principal = if route.roles.is_empty() {
        None
    } else {
        match authenticate(&app, &parts.headers) {
            Ok(p) => Some(p),
            Err(e) => {
                let mut p = Problem::unauthorized();
                p.detail = e.to_string();
                return problem(p);
            }
        }
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return problem(Problem::too_large(MAX_BODY_BYTES)),
    };
    let api = ApiRequest {
        method: parts.method.as_str().to_string(),
        path,
        path_params,
        query: query_pairs(&parts.uri),
        headers: parts
            .headers
            .iter()
            // Values that are not ASCII are kept (decoded lossily), so the handler that reads
            // one refuses it with a 400 naming the header instead of never seeing it.
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        principal,
        request_id: app.next_request_id(),
    };
    to_response(call_route(&app, route, api).await)
}

/// Runs the function behind `route` the way its Lambda would.
pub async fn call_route(app: &LocalApp, route: &'static Route, req: ApiRequest) -> ApiResponse {
    let deps = app.deps.clone();
    let wake_email_worker = route.function == "org-report-email" && route.method == "POST";
    let response = domain::http::respond(route.function, req, move |r| async move {
        match dispatch(route.function, deps, r) {
            Some(fut) => fut.await,
            None => {
                tracing::error!(function = route.function, "route without a handler");
                Err(Problem::internal())
            }
        }
    })
    .await;
    if wake_email_worker && response.status == 202 {
        app.email_jobs.notify_one();
    }
    response
}

async fn serve_blob(app: &LocalApp, key: &str, query: &[(String, String)]) -> Response {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(expires), Some(filename), Some(signature)) = (
        get("expires").and_then(|e| e.parse::<i64>().ok()),
        get("filename"),
        get("signature"),
    ) else {
        return problem(Problem::new(
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
        return problem(Problem::new(403, "bad-link", "Forbidden", e.to_string()));
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
        Err(_) => problem(Problem::not_found("file")),
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

/// The default data directory: `TELEHEALTH_DATA_DIR`, else `.data` under the current directory.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("TELEHEALTH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(".data").to_path_buf())
}
