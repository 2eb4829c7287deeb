//! Download (SPEC D1, D4): build a report, write its workbook in constant memory to a temporary
//! file, stream that file to the blob store (multipart), then record it in the history and the
//! audit trail in one transaction, and answer a presigned link valid for minutes.
//! Re-download from the history presigns the stored object again (and is audited too).

use super::about::{about_lines, Requester};
use super::config::load_config;
use super::consultations::{self, ConsultationFilter};
use super::history::{
    report_key, Delivery, ReportRecord, ReportState, ReportView, HISTORY_WINDOW_HOURS,
};
use super::params::{ParamsInput, ReportParams};
use super::{load, ReportScope};
use crate::audit::{audit_op, AuditRecord};
use crate::auth::Principal;
use crate::deps::Deps;
use crate::error::Error;
use crate::export::xlsx::{
    prepare_rows, remove_quietly, write_to_temp_file, ReadyCell, XlsxOptions,
};
use crate::ports::{BlobStore, Condition, TxOp};
use crate::time::ZoneOffsets;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// How long a download may spend building its workbook. The API answers within API Gateway's
/// 30-second integration limit, so a report that takes longer (several hundred thousand rows)
/// is refused with a problem pointing to the emailed report, which has no such limit, instead
/// of timing out with a bare 503 after the work was done.
pub const DOWNLOAD_BUILD_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);
/// How long a download link works.
pub const LINK_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// Chunk size of the streamed upload.
const UPLOAD_CHUNK: usize = 8 * 1024 * 1024;
/// Content type of an .xlsx workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The six detailed reports (C4–C9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportType {
    /// C4.
    Organisation,
    /// C5.
    Clinics,
    /// C6.
    RoomCalls,
    /// C7.
    ServiceProviders,
    /// C8.
    ServiceProviderSummary,
    /// C9.
    Consultations,
}

impl ReportType {
    /// Every type, in the order of the spec.
    pub const ALL: [ReportType; 6] = [
        ReportType::Organisation,
        ReportType::Clinics,
        ReportType::RoomCalls,
        ReportType::ServiceProviders,
        ReportType::ServiceProviderSummary,
        ReportType::Consultations,
    ];

    /// The path segment naming the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::Organisation => "organisation",
            ReportType::Clinics => "clinics",
            ReportType::RoomCalls => "room-calls",
            ReportType::ServiceProviders => "service-providers",
            ReportType::ServiceProviderSummary => "service-provider-summary",
            ReportType::Consultations => "consultations",
        }
    }

    /// Parses a path segment; an unknown type answers 404.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or(Error::NotFound("report type"))
    }

    /// Whether the report is built from the organisation's size and the period's statistics
    /// items (the same number of reads at any volume) rather than from the period's
    /// raw lists: C4 and C8 ([`super::tiles::load_period`]), C5 ([`super::clinics::load_rows`]:
    /// each clinic's statistics and its bounded look back for the last consultation), C7
    /// ([`super::providers::load_rows`]: each clinic's statistics and two items per account).
    pub fn from_statistics(self) -> bool {
        matches!(
            self,
            ReportType::Organisation
                | ReportType::Clinics
                | ReportType::ServiceProviders
                | ReportType::ServiceProviderSummary
        )
    }

    /// The report's columns.
    pub fn fields(self) -> &'static [crate::export::xlsx::FieldDescription] {
        match self {
            ReportType::Organisation => super::organisation::FIELDS,
            ReportType::Clinics => super::clinics::FIELDS,
            ReportType::RoomCalls => super::room_calls::FIELDS,
            ReportType::ServiceProviders => super::providers::FIELDS,
            ReportType::ServiceProviderSummary => super::provider_summary::FIELDS,
            ReportType::Consultations => consultations::FIELDS,
        }
    }
}

/// Loads what a report reads and builds its rows.
pub async fn build_report(
    store: &dyn crate::ports::Store,
    scope: &ReportScope,
    report_type: ReportType,
    params: &ReportParams,
    config: &super::config::ReportConfig,
) -> Result<Vec<Vec<crate::export::cells::Cell>>, crate::ports::StoreError> {
    let (start, end) = (params.start_utc(), params.end_utc());
    if report_type == ReportType::Consultations {
        let data = load::consultation_input(store, scope, start, end).await?;
        return Ok(consultations::build_rows(
            &data,
            &ConsultationFilter {
                start,
                end,
                clinic_id: scope.clinic_id().map(str::to_string),
                min_duration_seconds: params.min_duration_seconds,
            },
        ));
    }
    // C4, C5, C7 and C8 from the organisation's size and the period's statistics items: the same
    // number of reads at any volume ([`ReportType::from_statistics`]); equal to
    // their `build_rows` on the raw lists.
    Ok(match report_type {
        ReportType::Organisation => {
            let (data, period) = super::tiles::load_period(store, scope, params).await?;
            super::organisation::build_rows_from(&data, &period)
        }
        ReportType::ServiceProviderSummary => {
            let (data, period) = super::tiles::load_period(store, scope, params).await?;
            super::provider_summary::build_rows_from(&data, &period)
        }
        ReportType::Clinics => super::clinics::load_rows(store, scope, params).await?,
        // One row per participant: the period's room-call participants only (not its
        // segments or logins).
        ReportType::RoomCalls => {
            let data = super::data::load_room_call_data(store, scope, params).await?;
            super::room_calls::build_rows(&data, config)
        }
        ReportType::ServiceProviders => super::providers::load_rows(store, scope, params).await?,
        // Built above.
        ReportType::Consultations => Vec::new(),
    })
}

/// Where workbooks are written before upload: `REPORT_TMPDIR` when set, else the system's
/// temporary directory (`/tmp` in Lambda, the only writable place there).
pub fn report_tempdir() -> PathBuf {
    std::env::var_os("REPORT_TMPDIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A report ready to fetch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportLink {
    pub report: ReportView,
    pub url: String,
    pub link_expires_at: DateTime<Utc>,
}

/// Streams a file to the blob store as `key` (multipart); a failed part aborts the upload.
pub async fn stream_file(blobs: &dyn BlobStore, path: &Path, key: &str) -> Result<u64, Error> {
    let unavailable = |what: &str| {
        tracing::error!(what, "report upload failed");
        Error::Unavailable
    };
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|_| unavailable("open temp file"))?;
    let mut upload = blobs
        .start_upload(key, XLSX_CONTENT_TYPE)
        .await
        .map_err(|_| unavailable("start upload"))?;
    loop {
        let mut buf = Vec::with_capacity(UPLOAD_CHUNK);
        let mut filled = 0;
        while filled < UPLOAD_CHUNK {
            let n = (&mut file)
                .take((UPLOAD_CHUNK - filled) as u64)
                .read_to_end(&mut buf)
                .await;
            match n {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(_) => {
                    let _ = upload.abort().await;
                    return Err(unavailable("read temp file"));
                }
            }
        }
        if filled == 0 {
            break;
        }
        if let Err(e) = upload.write(Bytes::from(buf)).await {
            tracing::error!(error = %e, "report part not written");
            // If the abort fails too, the bucket's lifecycle rule aborts the upload after a day.
            let _ = upload.abort().await;
            return Err(unavailable("write part"));
        }
        if filled < UPLOAD_CHUNK {
            break;
        }
    }
    upload
        .complete()
        .await
        .map_err(|_| unavailable("complete upload"))
}

/// Writes the workbook of one report to a temporary file under `tempdir` (named after `stem`)
/// in constant memory: rows arrive in batches through a bounded channel (the Consultations rows
/// page by page) while a blocking thread writes them. Shared by the download and the emailed
/// reports (`super::email`). The caller removes the file. With a `budget`, producing the rows
/// stops once it is spent: the partial file is removed and the answer is [`too_slow`]. `about`
/// is the About sheet's lines ([`super::about::about_lines`]).
#[allow(clippy::too_many_arguments)]
pub async fn write_workbook(
    store: &dyn crate::ports::Store,
    scope: &ReportScope,
    report_type: ReportType,
    params: &ReportParams,
    config: &super::config::ReportConfig,
    tempdir: &Path,
    stem: &str,
    budget: Option<std::time::Duration>,
    about: Vec<(String, String)>,
) -> Result<(PathBuf, crate::export::xlsx::XlsxSummary), Error> {
    let fields = report_type.fields();
    let mut options = XlsxOptions::new(params.zone, tempdir);
    options.about = about;
    let stem = stem.to_string();
    // The workbook is written on a blocking thread while rows arrive in batches through a
    // bounded channel: memory holds a few batches, never the whole report. The rows are
    // prepared (cell safety, local times) on this side, so the writer's thread only writes.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<ReadyCell>>>(4);
    let mut zone = ZoneOffsets::new(params.zone);
    let writer = tokio::task::spawn_blocking(move || {
        let rows = std::iter::from_fn(move || rx.blocking_recv()).flatten();
        write_to_temp_file(fields, rows, options, &stem)
    });
    let producing = async {
        match report_type {
            ReportType::Consultations => {
                let filter = ConsultationFilter {
                    start: params.start_utc(),
                    end: params.end_utc(),
                    clinic_id: scope.clinic_id().map(str::to_string),
                    min_duration_seconds: params.min_duration_seconds,
                };
                load::stream_consultation_rows_with(
                    store,
                    scope,
                    &filter,
                    load::STREAM_PAGE,
                    |rows| prepare_rows(rows, &mut zone),
                    &tx,
                )
                .await
            }
            _ => match build_report(store, scope, report_type, params, config).await {
                Ok(rows) => {
                    // A send error means the writer stopped; its own error is reported below.
                    let _ = tx.send(prepare_rows(rows, &mut zone)).await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
        }
    };
    let produced = match budget {
        None => producing.await.map_err(Error::from),
        Some(budget) => match tokio::time::timeout(budget, producing).await {
            Ok(done) => done.map_err(Error::from),
            Err(_) => Err(too_slow(budget)),
        },
    };
    drop(tx);
    let written = writer.await.map_err(|_| Error::Internal)?;
    if let Err(e) = produced {
        if let Ok((path, _)) = &written {
            remove_quietly(path);
        }
        return Err(e);
    }
    written.map_err(|e| {
        tracing::error!(error = %e, "workbook not written");
        Error::Internal
    })
}

/// The refusal of a download whose workbook took longer than `budget` to build, naming
/// the range (a shorter one downloads; the emailed report takes any).
pub fn too_slow(budget: std::time::Duration) -> Error {
    Error::Refused {
        kind: "report-too-large",
        title: "Report too large to download",
        detail: format!(
            "building this report takes longer than {} s; request it by email (POST .../email) \
             or choose a shorter range",
            budget.as_secs()
        ),
        field: Some("to"),
        reason: None,
    }
}

/// Builds the report for `scope`, stores it, records it and answers its link, refusing a
/// report that takes longer than [`DOWNLOAD_BUILD_BUDGET`] to build.
pub async fn download(
    deps: &Deps,
    actor: &Principal,
    scope: ReportScope,
    report_type: ReportType,
    input: &ParamsInput,
    tempdir: &Path,
) -> Result<ReportLink, Error> {
    download_within(
        deps,
        actor,
        scope,
        report_type,
        input,
        tempdir,
        DOWNLOAD_BUILD_BUDGET,
    )
    .await
}

/// [`download`] with another build budget (for tests).
pub async fn download_within(
    deps: &Deps,
    actor: &Principal,
    scope: ReportScope,
    report_type: ReportType,
    input: &ParamsInput,
    tempdir: &Path,
    budget: std::time::Duration,
) -> Result<ReportLink, Error> {
    let store = &*deps.store;
    let config = load_config(store, scope.org_id()).await?;
    let params = ReportParams::resolve(input, &config)?;
    params.require_interactive()?;
    let now = deps.clock.now();
    let report_id = crate::ids::new_id("rep", now);
    let requester = Requester {
        account_id: &actor.sub,
        at: now,
    };
    let about = about_lines(store, &scope, report_type, &params, &config, requester).await?;
    let (path, summary) = write_workbook(
        store,
        &scope,
        report_type,
        &params,
        &config,
        tempdir,
        &report_id,
        Some(budget),
        about,
    )
    .await?;
    let object_key = format!("reports/{report_id}.xlsx");
    let uploaded = stream_file(&*deps.blobs, &path, &object_key).await;
    remove_quietly(&path);
    let size = uploaded?;
    let file_name = format!(
        "{}_{}_{}.xlsx",
        report_type.as_str(),
        params.from,
        params.to
    );
    let record = ReportRecord {
        report_id: report_id.clone(),
        org_id: scope.org_id().to_string(),
        clinic_id: scope.clinic_id().map(str::to_string),
        report_type: report_type.as_str().to_string(),
        params: params.record(),
        requested_by: actor.sub.clone(),
        requested_role: actor.role.as_str().to_string(),
        requested_at: now,
        delivery: Delivery::Download,
        state: ReportState::Ready,
        size_bytes: Some(size),
        row_count: Some(summary.rows),
        object_key: Some(object_key.clone()),
        file_name,
        expires_at: now + Duration::hours(HISTORY_WINDOW_HOURS),
    };
    let mut audit = AuditRecord::in_org(
        actor,
        now,
        "report.downloaded",
        &record.org_id,
        &report_id,
        serde_json::json!({
            "report_type": record.report_type,
            "clinic_id": record.clinic_id,
            "params": record.params,
            "size_bytes": size,
        }),
    );
    audit.row_count = Some(summary.rows);
    audit.object_key = Some(object_key.clone());
    if let Err(e) = store
        .transact(vec![
            TxOp::put(record.item(), Condition::NotExists),
            audit_op(&audit),
        ])
        .await
    {
        let _ = deps.blobs.delete(&object_key).await;
        return Err(e.into());
    }
    tracing::info!(report_id = %report_id, rows = summary.rows, size, "report stored");
    crate::telemetry::exported("report_download", report_type.as_str(), summary.rows, size);
    presign(deps, record, now).await
}

async fn presign(
    deps: &Deps,
    record: ReportRecord,
    now: DateTime<Utc>,
) -> Result<ReportLink, Error> {
    let key = record
        .object_key
        .clone()
        .ok_or(Error::NotFound("report file"))?;
    let url = deps
        .blobs
        .presign_get(&key, LINK_TTL, &record.file_name)
        .await
        .map_err(|e| match e {
            crate::ports::BlobError::NotFound => Error::NotFound("report file"),
            _ => Error::Unavailable,
        })?;
    Ok(ReportLink {
        report: ReportView::from(&record),
        url,
        link_expires_at: now + Duration::seconds(LINK_TTL.as_secs() as i64),
    })
}

/// A fresh link to a report of `scope`'s history (404 when gone, another scope's, or not
/// ready); audited as `report.redownloaded`.
pub async fn relink(
    deps: &Deps,
    actor: &Principal,
    scope: &ReportScope,
    report_id: &str,
) -> Result<ReportLink, Error> {
    let now = deps.clock.now();
    let record = super::history::find_current(&*deps.store, scope, report_id, now)
        .await?
        .filter(|r| r.state == ReportState::Ready)
        .ok_or(Error::NotFound("report"))?;
    let mut audit = AuditRecord::in_org(
        actor,
        now,
        "report.redownloaded",
        &record.org_id,
        &record.report_id,
        serde_json::json!({ "report_type": record.report_type, "clinic_id": record.clinic_id }),
    );
    audit.row_count = record.row_count;
    audit.object_key = record.object_key.clone();
    deps.store.transact(vec![audit_op(&audit)]).await?;
    debug_assert_eq!(report_key(&record.report_id).sk, "REPORT");
    presign(deps, record, now).await
}
