//! The declared grants of `tests/template_iam.rs` checked against what the functions do: every
//! route of every function, the export job and EventBridge ingest run on the demo data over
//! ports that record each call as the IAM action the AWS adapter would need for it (the
//! mapping of `template_iam`'s module documentation), attributed to the function that made it.
//! Each call must be allowed by that function's declared grants: a grant missing from the list
//! (and so from the template) fails here before it fails in AWS with `AccessDenied`.

#![allow(clippy::unwrap_used)]

use crate::support::app::TestApp;
use crate::support::events::text_message;
use crate::support::TempDir;
use crate::template_iam::declared_grants;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use domain::auth::{Principal, Role};
use domain::deps::Deps;
use domain::org_reports::download::ReportType;
use domain::ports::{
    BlobError, BlobStore, BlobUpload, Condition, Email, FixedClock, Index, Item, Key, LazyItem,
    LazyPage, MailError, Mailer, Page, Query, Store, StoreError, TxOp,
};
use local_adapters::demo::{demo_principals, load_demo, DemoConfig, Scale};
use local_adapters::dir_blobs::DirBlobs;
use local_adapters::embedded_store::EmbeddedStore;
use local_adapters::outbox::OutboxMailer;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The calls of the functions, as IAM actions on resources, by function.
#[derive(Default)]
struct Calls {
    /// The function whose calls are being recorded.
    current: Mutex<&'static str>,
    seen: Mutex<BTreeMap<&'static str, BTreeSet<String>>>,
}

impl Calls {
    fn serve(&self, function: &'static str) {
        *self.current.lock().unwrap() = function;
        self.seen.lock().unwrap().entry(function).or_default();
    }

    fn record(&self, grant: String) {
        let function = *self.current.lock().unwrap();
        self.seen
            .lock()
            .unwrap()
            .entry(function)
            .or_default()
            .insert(grant);
    }

    fn put(&self, pk: &str) {
        // Audit records are the writes a `dynamodb:LeadingKeys AUDIT#*` condition lets through.
        if pk.starts_with("AUDIT#") {
            self.record("dynamodb:PutItem Table key AUDIT#".into());
        } else {
            self.record("dynamodb:PutItem Table".into());
        }
    }

    fn object(&self, action: &str, key: &str) {
        self.record(format!("{action} ReportsBucket/{key}"));
    }
}

struct RecordingStore {
    inner: EmbeddedStore,
    calls: Arc<Calls>,
}

fn query_grant(query: &Query) -> String {
    match query.index {
        Index::Primary => "dynamodb:Query Table".into(),
        Index::Gsi1 => "dynamodb:Query Table/index/gsi1".into(),
        Index::Gsi2 => "dynamodb:Query Table/index/gsi2".into(),
    }
}

#[async_trait]
impl Store for RecordingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.calls.record("dynamodb:GetItem Table".into());
        self.inner.get(key).await
    }
    async fn get_lazy(&self, key: &Key) -> Result<Option<LazyItem>, StoreError> {
        self.calls.record("dynamodb:GetItem Table".into());
        self.inner.get_lazy(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.calls.record("dynamodb:BatchGetItem Table".into());
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.calls.put(&item.pk);
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.calls.record("dynamodb:DeleteItem Table".into());
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        for op in &ops {
            match op {
                TxOp::Put { item, .. } => self.calls.put(&item.pk),
                TxOp::Delete { .. } => self.calls.record("dynamodb:DeleteItem Table".into()),
                TxOp::Add { .. } => self.calls.record("dynamodb:UpdateItem Table".into()),
                // The DynamoDB adapter leaves a check without a condition out of the request.
                TxOp::Check {
                    condition: Condition::None,
                    ..
                } => {}
                TxOp::Check { .. } => self
                    .calls
                    .record("dynamodb:ConditionCheckItem Table".into()),
            }
        }
        self.inner.transact(ops).await
    }
    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError> {
        self.calls.record("dynamodb:UpdateItem Table".into());
        self.inner.add(key, delta).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.calls.record(query_grant(query));
        self.inner.query(query).await
    }
    async fn query_lazy(&self, query: &Query) -> Result<LazyPage, StoreError> {
        self.calls.record(query_grant(query));
        self.inner.query_lazy(query).await
    }
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.calls.record("dynamodb:BatchWriteItem Table".into());
        self.inner.put_many(items).await
    }
}

struct RecordingBlobs {
    inner: DirBlobs,
    calls: Arc<Calls>,
}

/// An upload: its parts and completion are `PutObject` (recorded when it starts), its abort
/// `AbortMultipartUpload`.
struct RecordingUpload {
    inner: Box<dyn BlobUpload>,
    key: String,
    calls: Arc<Calls>,
}

#[async_trait]
impl BlobUpload for RecordingUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        self.inner.write(chunk).await
    }
    async fn complete(self: Box<Self>) -> Result<u64, BlobError> {
        self.inner.complete().await
    }
    async fn abort(self: Box<Self>) -> Result<(), BlobError> {
        self.calls.object("s3:AbortMultipartUpload", &self.key);
        self.inner.abort().await
    }
}

#[async_trait]
impl BlobStore for RecordingBlobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError> {
        self.calls.object("s3:PutObject", key);
        self.inner.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        self.calls.object("s3:GetObject", key);
        self.inner.get(key).await
    }
    async fn start_upload(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<Box<dyn BlobUpload>, BlobError> {
        self.calls.object("s3:PutObject", key);
        Ok(Box::new(RecordingUpload {
            inner: self.inner.start_upload(key, content_type).await?,
            key: key.to_string(),
            calls: self.calls.clone(),
        }))
    }
    async fn presign_get(
        &self,
        key: &str,
        ttl: std::time::Duration,
        filename: &str,
    ) -> Result<String, BlobError> {
        self.calls.object("s3:GetObject", key);
        self.inner.presign_get(key, ttl, filename).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.calls.object("s3:DeleteObject", key);
        self.inner.delete(key).await
    }
    async fn incomplete_uploads(&self) -> Result<Vec<String>, BlobError> {
        self.calls
            .record("s3:ListBucketMultipartUploads ReportsBucket".into());
        self.inner.incomplete_uploads().await
    }
}

struct RecordingMailer {
    inner: OutboxMailer,
    calls: Arc<Calls>,
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        self.calls
            .record("ses:SendEmail ses:identity/${SesIdentity}".into());
        self.inner.send(email).await
    }
}

/// Whether `call` is allowed by one of `grants` (rendered as `template_iam` renders them).
fn allowed(call: &str, grants: &BTreeSet<String>) -> bool {
    if grants.contains(call) {
        return true;
    }
    if call == "dynamodb:PutItem Table key AUDIT#" {
        return grants.contains("dynamodb:PutItem Table")
            || grants.contains("dynamodb:PutItem Table on keys AUDIT#*");
    }
    // An object: allowed by the same action on a prefix of its key.
    let Some((action, key)) = call.split_once(" ReportsBucket/") else {
        return false;
    };
    grants.iter().any(|grant| {
        grant
            .strip_prefix(action)
            .and_then(|rest| rest.strip_prefix(" ReportsBucket/"))
            .and_then(|pattern| pattern.strip_suffix('*'))
            .is_some_and(|prefix| key.starts_with(prefix))
    })
}

fn now() -> DateTime<Utc> {
    "2026-05-15T10:30:00Z".parse().unwrap()
}

fn who(sub: &str, role: Role) -> Principal {
    demo_principals()
        .into_iter()
        .find(|p| p.sub == sub && p.role == role)
        .unwrap_or_else(|| Principal {
            sub: sub.into(),
            role,
            orgs: vec![],
            clinics: vec![],
        })
}

struct World {
    app: TestApp,
    calls: Arc<Calls>,
    deps: Arc<Deps>,
    _dir: TempDir,
}

impl World {
    /// `method path` as `caller` on behalf of `function`; the answer's body, which must be a
    /// success.
    async fn call(
        &self,
        function: &'static str,
        caller: Option<&Principal>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        self.calls.serve(function);
        let (path, query) = crate::support::app::split_query(path);
        let headers = [("idempotency-key".to_string(), format!("k-{method}-{path}"))];
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let answer = self
            .app
            .call(caller, method, path, &query, &headers, body)
            .await;
        let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        assert!(
            (200..300).contains(&answer.status),
            "{method} {path} answered {}: {value}",
            answer.status
        );
        value
    }
}

async fn world() -> World {
    let dir = TempDir::new("iam-calls");
    let calls = Arc::new(Calls::default());
    let inner = EmbeddedStore::in_memory();
    let config = DemoConfig {
        scale: Scale {
            organisations: 1,
            accounts_per_org: 20,
            practitioners: 12,
            patients: 12,
            threads: 12,
            vouchers: 2,
            room_calls: 12,
            consultation_rows: 60,
            ..Scale::demo()
        },
        ..DemoConfig::demo(now())
    };
    load_demo(&inner, &config).await.unwrap();
    let deps = Arc::new(Deps {
        store: Arc::new(RecordingStore {
            inner,
            calls: calls.clone(),
        }),
        blobs: Arc::new(RecordingBlobs {
            inner: DirBlobs::new(
                dir.path().join("blobs"),
                "http://127.0.0.1:9".into(),
                b"iam-calls-key".to_vec(),
            ),
            calls: calls.clone(),
        }),
        mailer: Arc::new(RecordingMailer {
            inner: OutboxMailer::new(dir.path().join("outbox"), "reports@example.org".into()),
            calls: calls.clone(),
        }),
        clock: Arc::new(FixedClock::new(now())),
        settings: local_server::local_settings("https://platform.example").unwrap(),
    });
    World {
        app: TestApp::new(deps.clone()),
        calls,
        deps,
        _dir: dir,
    }
}

#[tokio::test]
async fn every_call_of_every_function_is_within_its_declared_grants() {
    let w = world().await;
    let admin = who("admin-1", Role::PlatformAdmin);
    let referrer = who("prac-1", Role::Practitioner);
    let specialist = who("prac-2", Role::Practitioner);
    let patient = who("pat-1", Role::Patient);
    let org_admin = who("acc-1", Role::OrgAdmin);
    let clinic_admin = who("acc-4", Role::ClinicAdmin);
    let service = who("platform-ingest", Role::Service);

    w.call("health", None, "GET", "/health", None).await;

    let message = |id: &str| {
        text_message("t-iam", id, "pat-1", "patient", "U0VDUkVULU1BUktFUg==")
            .event(id, "2026-05-15T09:00:00Z")
    };
    let body = json!({"events": [message("iam-1")]});
    w.call(
        "ingest-http",
        Some(&service),
        "POST",
        "/ingest/events",
        Some(body),
    )
    .await;

    // The admin tabs: each list, and its export (an object under its prefix and an audit record).
    let period = "from=2026-04-01&to=2026-05-15";
    for (function, tab) in [
        ("admin-feed", "feed"),
        ("admin-consultations", "consultations"),
        ("admin-calls", "calls"),
        ("admin-practitioners", "practitioners"),
        ("admin-ratings", "ratings"),
        ("admin-payments", "payments"),
        ("admin-payment-items", "payment-items"),
        ("admin-vouchers", "vouchers"),
    ] {
        for query in ["limit=5", period] {
            let path = format!("/admin/{tab}?{query}");
            w.call(function, Some(&admin), "GET", &path, None).await;
        }
        let path = format!("/admin/{tab}/export?{period}");
        w.call(function, Some(&admin), "GET", &path, None).await;
    }
    w.call(
        "admin-consultations",
        Some(&admin),
        "GET",
        "/admin/consultations/counts",
        None,
    )
    .await;
    w.call(
        "admin-practitioners",
        Some(&admin),
        "GET",
        "/admin/practitioners?approval=approved",
        None,
    )
    .await;
    for query in [
        "kind=practitioner_practitioner",
        "overdue=true",
        "sort=waiting",
    ] {
        let path = format!("/admin/feed?{query}");
        w.call("admin-feed", Some(&admin), "GET", &path, None).await;
    }
    w.call(
        "admin-practitioners",
        Some(&admin),
        "PUT",
        "/admin/practitioners/prac-2/availability",
        Some(json!({"availability": "away"})),
    )
    .await;
    let feed = w
        .call(
            "admin-feed",
            Some(&admin),
            "GET",
            "/admin/feed?limit=1",
            None,
        )
        .await;
    let thread = feed["items"][0]["thread_id"].as_str().unwrap().to_string();
    let path = format!("/admin/threads/{thread}");
    w.call("admin-thread", Some(&admin), "GET", &path, None)
        .await;

    // The audit trail: every record, one actor's, one organisation's, its export, and an
    // organisation admin's own; each read records itself.
    for query in [
        "limit=5",
        "actor=acc-1",
        "org=org-1&action=report.downloaded",
        period,
    ] {
        let path = format!("/admin/audit?{query}");
        w.call("audit-trail", Some(&admin), "GET", &path, None)
            .await;
    }
    let path = format!("/admin/audit/export?{period}");
    w.call("audit-trail", Some(&admin), "GET", &path, None)
        .await;
    w.call(
        "audit-trail",
        Some(&org_admin),
        "GET",
        "/orgs/org-1/audit",
        None,
    )
    .await;

    // A referral through both decisions, then read back.
    w.call(
        "referral-specialists",
        Some(&referrer),
        "GET",
        "/referrals/specialists?limit=20",
        None,
    )
    .await;
    // A search through the practitioners' word index reads each practitioner found.
    w.call(
        "referral-specialists",
        Some(&referrer),
        "GET",
        "/referrals/specialists?specialty=derm",
        None,
    )
    .await;
    for (function, tab) in [("admin-calls", "calls"), ("admin-payments", "payments")] {
        for query in ["q=m", "q=m&from=2026-04-01&to=2026-05-15"] {
            let path = format!("/admin/{tab}?{query}");
            w.call(function, Some(&admin), "GET", &path, None).await;
        }
    }
    let created = w
        .call(
            "referral-create",
            Some(&referrer),
            "POST",
            "/referrals",
            Some(json!({"patient_id": "pat-1", "specialist_id": "prac-2"})),
        )
        .await;
    let referral = created["referral_id"].as_str().unwrap().to_string();
    let path = format!("/referrals/{referral}/patient-decision");
    let accept = json!({"decision": "accept"});
    w.call(
        "referral-patient-decision",
        Some(&patient),
        "POST",
        &path,
        Some(accept.clone()),
    )
    .await;
    let path = format!("/referrals/{referral}/specialist-decision");
    w.call(
        "referral-specialist-decision",
        Some(&specialist),
        "POST",
        &path,
        Some(accept),
    )
    .await;
    let path = format!("/referrals/{referral}");
    w.call("referral-get", Some(&patient), "GET", &path, None)
        .await;
    w.call("referral-list", Some(&patient), "GET", "/referrals", None)
        .await;
    // Another referral (under its own key: `call`'s is one per route), withdrawn by its
    // referrer while the patient is asked.
    w.calls.serve("referral-create");
    let request =
        serde_json::from_value(json!({"patient_id": "pat-1", "specialist_id": "prac-2"})).unwrap();
    let created = domain::referrals::flow::create(&w.deps, &referrer, &request, Some("k-second"))
        .await
        .unwrap();
    let referral = created.body["referral_id"].as_str().unwrap().to_string();
    let path = format!("/referrals/{referral}/withdraw");
    let withdrawn = w
        .call("referral-withdraw", Some(&referrer), "POST", &path, None)
        .await;
    assert_eq!(withdrawn["state"], "withdrawn", "{withdrawn}");
    // The referral ageing report (B11), by state, by specialty and by specialist.
    for by in ["state", "specialty", "specialist"] {
        w.call(
            "admin-referral-ageing",
            Some(&admin),
            "GET",
            &format!("/admin/referral-ageing?by={by}"),
            None,
        )
        .await;
    }

    // Organisation reports, for the organisation and for a clinic.
    let config = w
        .call(
            "org-report-config",
            Some(&org_admin),
            "GET",
            "/orgs/org-1/reports/config",
            None,
        )
        .await;
    let change = json!({
        "time_zone": "Europe/Lisbon",
        "min_duration_seconds": 0,
        "tags": config["tags"],
        "version": config["version"],
    });
    w.call(
        "org-report-config",
        Some(&org_admin),
        "PUT",
        "/orgs/org-1/reports/config",
        Some(change),
    )
    .await;
    let to = now().date_naive();
    let from = to - Duration::days(30);
    let params = json!({"from": from.to_string(), "to": to.to_string()});
    let summary = format!("?from={from}&to={to}");
    for (caller, base) in [
        (&org_admin, "/orgs/org-1"),
        (&clinic_admin, "/clinics/clinic-1"),
    ] {
        let path = format!("{base}/reports/summary{summary}");
        w.call("org-report-summary", Some(caller), "GET", &path, None)
            .await;
        for report_type in ReportType::ALL {
            let path = format!("{base}/reports/{}/download", report_type.as_str());
            w.call(
                "org-report-download",
                Some(caller),
                "POST",
                &path,
                Some(params.clone()),
            )
            .await;
        }
        let path = format!("{base}/reports/history");
        let history = w
            .call("org-report-history", Some(caller), "GET", &path, None)
            .await;
        let report = history["items"][0]["report_id"].as_str().unwrap();
        let path = format!("{base}/reports/history/{report}/link");
        w.call("org-report-history", Some(caller), "GET", &path, None)
            .await;
    }
    let queued = w
        .call(
            "org-report-email",
            Some(&org_admin),
            "POST",
            "/orgs/org-1/reports/consultations/email",
            Some(params),
        )
        .await;
    let job = queued["job"]["job_id"].as_str().unwrap().to_string();
    let path = format!("/orgs/org-1/reports/jobs/{job}");
    w.call("org-report-email", Some(&org_admin), "GET", &path, None)
        .await;

    // The event-driven functions, as their Lambda handlers run them.
    w.calls.serve("org-report-email-job");
    let tempdir = TempDir::new("iam-calls-job");
    let job_deps = w.deps.wired_as(&org_report_email_job::WIRING);
    let response = org_report_email_job::handle_stream(
        &job_deps,
        org_report_email_job::insert_event(std::slice::from_ref(&job)),
        tempdir.path(),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let swept = org_report_email_job::handle(
        &job_deps,
        json!({"source": "aws.scheduler"}),
        tempdir.path(),
    )
    .await
    .unwrap();
    assert_eq!(
        swept,
        json!({"done": 0, "failed": 0, "skipped": 0, "retry": 0, "scheduled_runs": 0})
    );
    let status = w
        .call("org-report-email", Some(&org_admin), "GET", &path, None)
        .await;
    assert_eq!(status["job"]["state"], "done", "{status}");

    w.calls.serve("ingest-events");
    let ingest_deps = w.deps.wired_as(&ingest_events::WIRING);
    ingest_events::handle(&ingest_deps, json!({"detail": message("iam-2")}))
        .await
        .unwrap();

    w.calls.serve("referral-delivery");
    let delivery_deps = w.deps.wired_as(&referral_delivery::WIRING);
    let marker = json!({"Records": [{"eventID": "1", "eventName": "INSERT", "awsRegion": "local",
        "dynamodb": {"Keys": {"pk": {"S": "REFERRAL#iam-ref"}, "sk": {"S": "DELIVERY"}},
                     "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}}]});
    let answer = referral_delivery::handle(&delivery_deps, marker)
        .await
        .unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    let swept = referral_delivery::handle(&delivery_deps, json!({"source": "aws.scheduler"}))
        .await
        .unwrap();
    assert_eq!(swept, json!({"expired": 0, "settled": 0}));

    // Every function ran, and every call it made is one of its grants.
    let seen = w.calls.seen.lock().unwrap().clone();
    let declared = declared_grants();
    let ran: BTreeSet<&str> = seen.keys().copied().collect();
    let all: BTreeSet<&str> = declared.keys().copied().collect();
    assert_eq!(ran, all, "every function of GRANTS runs here");
    let mut refused = Vec::new();
    for (function, made) in &seen {
        let grants = &declared[function];
        for call in made {
            if !allowed(call, grants) {
                refused.push(format!("{function}: {call}"));
            }
        }
    }
    assert!(
        refused.is_empty(),
        "calls the declared grants (and so template.yaml) do not allow: {refused:#?}"
    );
}

#[test]
fn object_calls_are_allowed_by_their_prefix_only() {
    let grants: BTreeSet<String> = [
        "s3:PutObject ReportsBucket/reports/*",
        "dynamodb:PutItem Table on keys AUDIT#*",
    ]
    .map(String::from)
    .into();
    assert!(allowed(
        "s3:PutObject ReportsBucket/reports/rep-1.xlsx",
        &grants
    ));
    assert!(!allowed(
        "s3:PutObject ReportsBucket/exports/admin/feed/x.csv",
        &grants
    ));
    assert!(!allowed(
        "s3:GetObject ReportsBucket/reports/rep-1.xlsx",
        &grants
    ));
    assert!(allowed("dynamodb:PutItem Table key AUDIT#", &grants));
    assert!(!allowed("dynamodb:PutItem Table", &grants));
}
