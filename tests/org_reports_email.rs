//! Emailed reports (SPEC D2, D3, D4) on both adapter sets — embedded store + DirBlobs + outbox,
//! and moto DynamoDB + S3 + SES: the request (202, a job, the same job for the same request
//! within the window, fences, bad input), the job run through the stream-triggered handler
//! with an event built from the job item, the message captured (recipient, link), the link
//! followed with reqwest and the workbook opened; duplicate and concurrent deliveries (one file,
//! one email); faults injected through the ports (a failing part, a failing send: retried; when
//! retries run out the job fails with its reason, no upload is left behind and no mail goes
//! out); and the whole flow over HTTP on the local server with its in-process worker.

#![allow(clippy::unwrap_used)]

use crate::org_reports::{assert_workbook, expected_org_rows, fixture, now, ORG, OTHER_ORG};
use crate::support::app::TestServer;
use crate::support::{self, links::served_blobs, TempDir};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::Duration;
use domain::auth::{Principal, Role};
use domain::deps::Deps;
use domain::org_reports::email::{job_key, EMAIL_LINK_TTL};
use domain::ports::blobs::{BlobError, BlobStore, BlobUpload};
use domain::ports::{
    Condition, Email, FixedClock, Item, Key, MailError, Mailer, Page, Query, Store, StoreError,
    TxOp,
};
use local_adapters::embedded_store::EmbeddedStore;
use local_adapters::outbox::{read_outbox, OutboxMailer};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

/// Where a world's mail lands.
pub(crate) enum Mailbox {
    Outbox(TempDir),
    /// The sender identity on the mail moto (its messages are told apart by it).
    Moto(String),
}

/// One delivered message: recipient and body text.
#[derive(Debug, Clone)]
pub(crate) struct Delivered {
    pub(crate) to: String,
    subject: String,
    body: String,
}

impl Mailbox {
    pub(crate) async fn messages(&self) -> Vec<Delivered> {
        match self {
            Mailbox::Outbox(dir) => read_outbox(dir.path())
                .unwrap()
                .into_iter()
                .map(|m| Delivered {
                    to: m.to,
                    subject: m.subject,
                    body: m.text,
                })
                .collect(),
            Mailbox::Moto(from) => support::moto::sent_mail()
                .await
                .into_iter()
                .filter(|m| &m.from == from)
                .map(|m| Delivered {
                    to: m.to.join(","),
                    subject: m.subject,
                    body: m.body,
                })
                .collect(),
        }
    }
}

/// A process that stops after a number of side effects: every write of the store, every part,
/// completion, abort or removal of an upload and every mail send is a step; once armed with
/// `n`, the first `n` steps happen and from then on every call of every port fails (reads too),
/// as if the process had been killed there, until [`Crash::restart`].
#[derive(Default)]
pub(crate) struct Crash {
    /// Steps still allowed while armed; `None` when not armed.
    left: std::sync::Mutex<Option<u64>>,
    down: std::sync::atomic::AtomicBool,
    /// Steps taken since the last arming or restart.
    taken: std::sync::atomic::AtomicU64,
}

impl Crash {
    /// Stops the process after `steps` more side effects.
    pub(crate) fn arm(&self, steps: u64) {
        *self.left.lock().unwrap() = Some(steps);
        self.taken.store(0, Ordering::SeqCst);
    }

    /// A new process: every port works again, nothing armed.
    pub(crate) fn restart(&self) {
        *self.left.lock().unwrap() = None;
        self.down.store(false, Ordering::SeqCst);
        self.taken.store(0, Ordering::SeqCst);
    }

    /// Steps taken since the last arming or restart.
    pub(crate) fn taken(&self) -> u64 {
        self.taken.load(Ordering::SeqCst)
    }

    /// Whether the process stopped.
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// A call that reads: fails once the process stopped.
    fn read(&self) -> Result<(), String> {
        if self.is_down() {
            return Err("the process stopped".into());
        }
        Ok(())
    }

    /// A side effect: happens unless the process stopped, or stops it when no step is left.
    fn step(&self) -> Result<(), String> {
        self.read()?;
        let mut left = self.left.lock().unwrap();
        match *left {
            Some(0) => {
                self.down.store(true, Ordering::SeqCst);
                Err("the process stopped".into())
            }
            Some(n) => {
                *left = Some(n - 1);
                self.taken.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            None => {
                self.taken.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
    }
}

/// A blob store that fails the next `fail_parts` part writes (then behaves), and stops with
/// the process ([`Crash`]).
struct FailingBlobs {
    inner: Arc<dyn BlobStore>,
    fail_parts: Arc<AtomicU32>,
    crash: Arc<Crash>,
}

struct FailingUpload {
    inner: Box<dyn BlobUpload>,
    fail_parts: Arc<AtomicU32>,
    crash: Arc<Crash>,
}

fn blob_crash(crash: &Crash) -> Result<(), BlobError> {
    crash.step().map_err(BlobError::Unavailable)
}

#[async_trait]
impl BlobUpload for FailingUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        blob_crash(&self.crash)?;
        let failing = self
            .fail_parts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        // The part reaches the service first, so a half-done upload exists to be aborted.
        self.inner.write(chunk).await?;
        if failing {
            return Err(BlobError::Unavailable("injected part failure".into()));
        }
        Ok(())
    }
    async fn complete(self: Box<Self>) -> Result<u64, BlobError> {
        blob_crash(&self.crash)?;
        self.inner.complete().await
    }
    async fn abort(self: Box<Self>) -> Result<(), BlobError> {
        blob_crash(&self.crash)?;
        self.inner.abort().await
    }
}

#[async_trait]
impl BlobStore for FailingBlobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError> {
        blob_crash(&self.crash)?;
        self.inner.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        self.crash.read().map_err(BlobError::Unavailable)?;
        self.inner.get(key).await
    }
    async fn start_upload(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<Box<dyn BlobUpload>, BlobError> {
        self.crash.read().map_err(BlobError::Unavailable)?;
        Ok(Box::new(FailingUpload {
            inner: self.inner.start_upload(key, content_type).await?,
            fail_parts: self.fail_parts.clone(),
            crash: self.crash.clone(),
        }))
    }
    async fn presign_get(
        &self,
        key: &str,
        ttl: StdDuration,
        filename: &str,
    ) -> Result<String, BlobError> {
        self.crash.read().map_err(BlobError::Unavailable)?;
        self.inner.presign_get(key, ttl, filename).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        blob_crash(&self.crash)?;
        self.inner.delete(key).await
    }
    async fn incomplete_uploads(&self) -> Result<Vec<String>, BlobError> {
        self.inner.incomplete_uploads().await
    }
}

/// A mailer that fails the next `fail_sends` sends as unavailable (then sends), the next
/// `no_answer` sends without an answer after sending them, and stops with the process
/// ([`Crash`]: a process stopped at the send never sends).
struct FailingMailer {
    inner: Arc<dyn Mailer>,
    fail_sends: Arc<AtomicU32>,
    no_answer: Arc<AtomicU32>,
    crash: Arc<Crash>,
}

#[async_trait]
impl Mailer for FailingMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        self.crash.step().map_err(MailError::Unavailable)?;
        if self
            .no_answer
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            self.inner.send(email).await?;
            return Err(MailError::Uncertain("injected: no answer".into()));
        }
        if self
            .fail_sends
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(MailError::Unavailable("injected send failure".into()));
        }
        self.inner.send(email).await
    }
}

/// On moto, writes go one at a time: moto (5.2) runs a TransactWriteItems op by op and
/// restores a copy of the table when an op fails, without a lock, so concurrent transactions
/// revert each other's writes (DynamoDB never does; see `TestStore` in tests/referrals.rs).
/// Reads stay concurrent, so racing requests and deliveries still race to their conditions.
///
/// It also fails the next `fail_job_reads` reads of a job item as unavailable (both adapters).
struct TestStore {
    inner: Arc<dyn Store>,
    lock: Option<tokio::sync::Mutex<()>>,
    fail_job_reads: Arc<AtomicU32>,
    crash: Arc<Crash>,
}

fn store_crash(result: Result<(), String>) -> Result<(), StoreError> {
    result.map_err(StoreError::Unavailable)
}

impl TestStore {
    async fn one_at_a_time(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

#[async_trait]
impl Store for TestStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        store_crash(self.crash.read())?;
        if key.sk == "JOB"
            && self
                .fail_job_reads
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Err(StoreError::Unavailable("injected read failure".into()));
        }
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let _one = self.one_at_a_time().await;
        store_crash(self.crash.step())?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let _one = self.one_at_a_time().await;
        store_crash(self.crash.step())?;
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        let _one = self.one_at_a_time().await;
        store_crash(self.crash.step())?;
        self.inner.transact(ops).await
    }
    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError> {
        let _one = self.one_at_a_time().await;
        store_crash(self.crash.step())?;
        self.inner.add(key, delta).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        store_crash(self.crash.read())?;
        self.inner.query(query).await
    }
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let _one = self.one_at_a_time().await;
        store_crash(self.crash.step())?;
        self.inner.put_many(items).await
    }
}

pub(crate) struct World {
    pub(crate) deps: Arc<Deps>,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) mailbox: Mailbox,
    fail_parts: Arc<AtomicU32>,
    fail_sends: Arc<AtomicU32>,
    pub(crate) no_answer: Arc<AtomicU32>,
    fail_job_reads: Arc<AtomicU32>,
    pub(crate) crash: Arc<Crash>,
    pub(crate) tempdir: TempDir,
    _served: Option<support::links::ServedBlobs>,
}

pub(crate) async fn world(moto: bool) -> World {
    let (store, blobs, mailer, mailbox, served): (
        Arc<dyn Store>,
        Arc<dyn BlobStore>,
        Arc<dyn Mailer>,
        Mailbox,
        _,
    ) = if moto {
        let (mailer, from) = support::moto::ses_mailer().await;
        (
            Arc::new(support::moto::dynamo_store().await),
            Arc::new(support::moto::s3_blobs().await),
            Arc::new(mailer),
            Mailbox::Moto(from),
            None,
        )
    } else {
        let served = served_blobs().await;
        let dir = TempDir::new("email-outbox");
        (
            Arc::new(EmbeddedStore::in_memory()),
            served.blobs.clone(),
            Arc::new(OutboxMailer::new(dir.path(), "reports@example.org".into())),
            Mailbox::Outbox(dir),
            Some(served),
        )
    };
    let fail_parts = Arc::new(AtomicU32::new(0));
    let fail_sends = Arc::new(AtomicU32::new(0));
    let fail_job_reads = Arc::new(AtomicU32::new(0));
    let no_answer = Arc::new(AtomicU32::new(0));
    let crash = Arc::new(Crash::default());
    let store: Arc<dyn Store> = Arc::new(TestStore {
        inner: store,
        lock: moto.then(|| tokio::sync::Mutex::new(())),
        fail_job_reads: fail_job_reads.clone(),
        crash: crash.clone(),
    });
    let clock = Arc::new(FixedClock::new(now()));
    let deps = Arc::new(Deps {
        store,
        blobs: Arc::new(FailingBlobs {
            inner: blobs,
            fail_parts: fail_parts.clone(),
            crash: crash.clone(),
        }),
        mailer: Arc::new(FailingMailer {
            inner: mailer,
            fail_sends: fail_sends.clone(),
            no_answer: no_answer.clone(),
            crash: crash.clone(),
        }),
        clock: clock.clone(),
        settings: local_server::local_settings("https://platform.example").unwrap(),
    });
    let report = domain::events::ingest::ingest_batch(&*deps.store, now(), &fixture())
        .await
        .unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.results);
    World {
        deps,
        clock,
        mailbox,
        fail_parts,
        fail_sends,
        no_answer,
        fail_job_reads,
        crash,
        tempdir: TempDir::new("email-job"),
        _served: served,
    }
}

/// Ana Lima (acc-1, `acc-1@example.org`), an org admin of the fixture's organisation.
pub(crate) fn requester() -> Principal {
    Principal {
        sub: "acc-1".into(),
        role: Role::OrgAdmin,
        orgs: vec![ORG.into()],
        clinics: vec![],
    }
}

/// Calls a route through the API's Router.
pub(crate) async fn call(
    w: &World,
    who: &Principal,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body
        .map(|b| bytes::Bytes::from(b.to_string()))
        .unwrap_or_default();
    let resp = crate::support::app::TestApp::new(w.deps.clone())
        .call(Some(who), method, path, &[], &[], body)
        .await;
    (
        resp.status,
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
    )
}

pub(crate) fn params(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to, "time_zone": "Australia/Sydney", "min_duration_seconds": 60})
}

/// The stream event DynamoDB would deliver for the job item as stored now (`NEW_IMAGE`).
pub(crate) async fn stream_event(w: &World, job_id: &str, sequence: &str) -> Value {
    let item = w.deps.store.get(&job_key(job_id)).await.unwrap().unwrap();
    let keys = json!({"pk": {"S": item.pk}, "sk": {"S": item.sk}});
    json!({"Records": [{
        "eventID": format!("ev-{sequence}"),
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026",
        "dynamodb": {
            "Keys": keys,
            "NewImage": {"pk": {"S": item.pk}, "sk": {"S": item.sk},
                         "version": {"N": item.version.to_string()},
                         "body": {"S": item.body.to_string()}},
            "SequenceNumber": sequence,
            "SizeBytes": 512,
            "StreamViewType": "NEW_IMAGE"
        }
    }]})
}

/// Runs the stream-triggered handler on the job's record; answers the batch item failures'
/// identifiers.
pub(crate) async fn delivery_failures(
    w: &World,
    job_id: &str,
    sequence: &str,
) -> Vec<Option<String>> {
    let event = serde_json::from_value(stream_event(w, job_id, sequence).await).unwrap();
    org_report_email_job::handle_stream(&w.deps, event, w.tempdir.path())
        .await
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

/// Runs the stream-triggered handler on the job's record; answers the number of failures.
pub(crate) async fn deliver(w: &World, job_id: &str, sequence: &str) -> usize {
    delivery_failures(w, job_id, sequence).await.len()
}

pub(crate) async fn job(w: &World, job_id: &str) -> Value {
    let (status, body) = call(
        w,
        &requester(),
        "GET",
        &format!("/orgs/{ORG}/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["job"].clone()
}

pub(crate) async fn request(w: &World, body: Value) -> (u16, Value) {
    call(
        w,
        &requester(),
        "POST",
        &format!("/orgs/{ORG}/reports/consultations/email"),
        Some(body),
    )
    .await
}

/// The link in a message's body (the first URL, the presigned one).
fn first_link(body: &str) -> String {
    body.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .expect("a link in the message")
        .replace("&amp;", "&")
}

pub(crate) async fn history_count(w: &World) -> usize {
    let (status, body) = call(
        w,
        &requester(),
        "GET",
        &format!("/orgs/{ORG}/reports/history"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    body["items"].as_array().unwrap().len()
}

pub(crate) async fn audit_actions(w: &World) -> Vec<String> {
    let items = domain::ports::store::query_all(
        &*w.deps.store,
        &domain::ports::Query::partition(domain::ports::Index::Primary, format!("AUDIT#ORG#{ORG}")),
    )
    .await
    .unwrap();
    items
        .iter()
        .map(|i| i.body["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn request_run_and_follow_the_link(w: World) {
    // Request (D2): 202 at once with a queued job; any range, also beyond 2 months.
    let (status, first) = request(&w, params("2026-04-03", "2026-04-05")).await;
    assert_eq!(status, 202, "{first}");
    let job_id = first["job"]["job_id"].as_str().unwrap().to_string();
    assert_eq!(first["job"]["state"], "queued");
    assert_eq!(
        first["status_url"],
        format!("/orgs/{ORG}/reports/jobs/{job_id}")
    );
    // The same request within the window: the same job.
    w.clock.advance(Duration::minutes(9));
    let (status, again) = request(&w, params("2026-04-03", "2026-04-05")).await;
    assert_eq!(
        (status, again["job"]["job_id"].as_str()),
        (202, Some(job_id.as_str()))
    );
    // Other parameters, or a long range: other jobs.
    let (status, long) = request(&w, params("2025-01-01", "2026-03-31")).await;
    assert_eq!(status, 202, "{long}");
    assert_ne!(long["job"]["job_id"].as_str(), Some(job_id.as_str()));
    // Bad input names its field; no job.
    let (status, bad) = request(&w, json!({"from": "2026-04-03"})).await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("to")));
    let (status, bad) = request(
        &w,
        json!({"from": "2026-04-03", "to": "2026-04-05", "x": 1}),
    )
    .await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("x")));
    // Fences: another organisation's caller sees no job (404), nor a report of ours.
    let other = Principal {
        sub: "acc-9".into(),
        role: Role::OrgAdmin,
        orgs: vec![OTHER_ORG.into()],
        clinics: vec![],
    };
    let (status, _) = call(
        &w,
        &other,
        "GET",
        &format!("/orgs/{ORG}/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &w,
        &other,
        "GET",
        &format!("/orgs/{OTHER_ORG}/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &w,
        &other,
        "POST",
        &format!("/orgs/{ORG}/reports/consultations/email"),
        Some(params("2026-04-03", "2026-04-05")),
    )
    .await;
    assert_eq!(status, 404);
    let clinic_admin = Principal {
        sub: "acc-2".into(),
        role: Role::ClinicAdmin,
        orgs: vec![],
        clinics: vec!["cl-b".into()],
    };
    let (status, _) = call(
        &w,
        &clinic_admin,
        "GET",
        &format!("/clinics/cl-b/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "an organisation-level job is not the clinic's");
    let (status, _) = call(
        &w,
        &clinic_admin,
        "GET",
        &format!("/clinics/cl-x/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // A caller without an account of the organisation has no address to mail to.
    let stranger = Principal {
        sub: "acc-nobody".into(),
        ..requester()
    };
    let (status, body) = call(
        &w,
        &stranger,
        "POST",
        &format!("/orgs/{ORG}/reports/consultations/email"),
        Some(params("2026-04-03", "2026-04-05")),
    )
    .await;
    assert_eq!(
        (
            status,
            body["type"]
                .as_str()
                .map(|t| t.ends_with("no-account-email"))
        ),
        (422, Some(true))
    );
    assert_eq!(job(&w, &job_id).await["state"], "queued");

    // The job runs from the stream record of its item.
    assert_eq!(deliver(&w, &job_id, "100").await, 0);
    let done = job(&w, &job_id).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["phase"], "finished");
    assert_eq!(done["row_count"], expected_org_rows().len() as u64);
    let report_id = done["report_id"].as_str().unwrap().to_string();

    // The message: to the requester's account email, the presigned link, the history page.
    let messages = w.mailbox.messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].to, "acc-1@example.org");
    assert_eq!(messages[0].subject, "Your consultations report is ready");
    assert!(
        messages[0].body.contains(&format!(
            "https://platform.example/orgs/{ORG}/reports/history"
        )),
        "{}",
        messages[0].body
    );
    assert!(messages[0].body.contains(&format!(
        "works for {} minutes",
        EMAIL_LINK_TTL.as_secs() / 60
    )));
    let link = first_link(&messages[0].body);
    let resp = reqwest::get(&link).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{link}");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    assert_workbook(&bytes, &expected_org_rows());

    // History (D3): the emailed report, re-linkable; audit (D4): requested, generated, emailed.
    let (status, history) = call(
        &w,
        &requester(),
        "GET",
        &format!("/orgs/{ORG}/reports/history"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let entry = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["report_id"] == report_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (entry["delivery"].as_str(), entry["state"].as_str()),
        (Some("email"), Some("ready"))
    );
    assert_eq!(entry["row_count"], expected_org_rows().len() as u64);
    let mut actions = audit_actions(&w).await;
    actions.sort();
    assert_eq!(
        actions,
        vec![
            "report.email_requested",
            "report.email_requested",
            "report.emailed",
            "report.generated"
        ]
    );
    assert!(w.deps.blobs.incomplete_uploads().await.unwrap().is_empty());

    // Past the window the same request makes a new job.
    w.clock.advance(Duration::minutes(2));
    let (status, later) = request(&w, params("2026-04-03", "2026-04-05")).await;
    assert_eq!(status, 202);
    assert_ne!(later["job"]["job_id"].as_str(), Some(job_id.as_str()));
    assert_eq!(later["job"]["state"], "queued");
}

#[tokio::test]
async fn emailed_report_end_to_end_embedded() {
    request_run_and_follow_the_link(world(false).await).await;
}

#[tokio::test]
async fn emailed_report_end_to_end_moto() {
    request_run_and_follow_the_link(world(true).await).await;
}

async fn duplicate_deliveries_make_one_file_and_one_email(w: World) {
    let (_, a) = request(&w, params("2026-04-03", "2026-04-05")).await;
    let job_a = a["job"]["job_id"].as_str().unwrap().to_string();
    // The same record twice, one after the other.
    assert_eq!(deliver(&w, &job_a, "1").await, 0);
    assert_eq!(deliver(&w, &job_a, "1").await, 0);
    assert_eq!(job(&w, &job_a).await["state"], "done");
    assert_eq!(w.mailbox.messages().await.len(), 1);
    assert_eq!(history_count(&w).await, 1);
    // Another job's record twice at the same time.
    let (_, b) = request(&w, params("2026-04-04", "2026-04-05")).await;
    let job_b = b["job"]["job_id"].as_str().unwrap().to_string();
    let (x, y) = tokio::join!(deliver(&w, &job_b, "2"), deliver(&w, &job_b, "2"));
    assert_eq!((x, y), (0, 0));
    assert_eq!(job(&w, &job_b).await["state"], "done");
    assert_eq!(w.mailbox.messages().await.len(), 2);
    assert_eq!(history_count(&w).await, 2);
    let generated = audit_actions(&w)
        .await
        .iter()
        .filter(|a| *a == "report.generated")
        .count();
    assert_eq!(generated, 2);
    assert!(w.deps.blobs.incomplete_uploads().await.unwrap().is_empty());
}

#[tokio::test]
async fn duplicate_deliveries_make_one_file_and_one_email_embedded() {
    duplicate_deliveries_make_one_file_and_one_email(world(false).await).await;
}

#[tokio::test]
async fn duplicate_deliveries_make_one_file_and_one_email_moto() {
    duplicate_deliveries_make_one_file_and_one_email(world(true).await).await;
}

async fn faults_are_retried_then_fail_the_job_without_a_dead_link(w: World) {
    // A failing part, then a failing send: each retried, the job done with one mail.
    w.fail_parts.store(1, Ordering::SeqCst);
    w.fail_sends.store(2, Ordering::SeqCst);
    let (_, a) = request(&w, params("2026-04-03", "2026-04-05")).await;
    let job_a = a["job"]["job_id"].as_str().unwrap().to_string();
    assert_eq!(deliver(&w, &job_a, "1").await, 0);
    assert_eq!(job(&w, &job_a).await["state"], "done");
    assert_eq!(w.mailbox.messages().await.len(), 1);
    assert!(w.deps.blobs.incomplete_uploads().await.unwrap().is_empty());
    assert_eq!(history_count(&w).await, 1);

    // Every upload attempt fails: the job fails with its reason; no upload left, no file in
    // the history, no mail.
    w.fail_parts.store(100, Ordering::SeqCst);
    let (_, b) = request(&w, params("2026-04-04", "2026-04-05")).await;
    let job_b = b["job"]["job_id"].as_str().unwrap().to_string();
    assert_eq!(deliver(&w, &job_b, "2").await, 0);
    let failed = job(&w, &job_b).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["reason"], "upload failed after 3 attempts");
    assert_eq!(w.fail_parts.load(Ordering::SeqCst), 97);
    assert!(w.deps.blobs.incomplete_uploads().await.unwrap().is_empty());
    assert_eq!(history_count(&w).await, 1);
    assert_eq!(w.mailbox.messages().await.len(), 1);
    // A failed job is not handed out again: the same request makes a new job.
    w.fail_parts.store(0, Ordering::SeqCst);
    let (_, again) = request(&w, params("2026-04-04", "2026-04-05")).await;
    assert_ne!(again["job"]["job_id"].as_str(), Some(job_b.as_str()));

    // Every send fails: the job fails with its reason and no mail goes out.
    w.fail_sends.store(100, Ordering::SeqCst);
    let (_, c) = request(&w, params("2026-04-03", "2026-04-04")).await;
    let job_c = c["job"]["job_id"].as_str().unwrap().to_string();
    assert_eq!(deliver(&w, &job_c, "3").await, 0);
    let failed = job(&w, &job_c).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(
        failed["reason"],
        "mail not sent after 3 attempts: service unavailable"
    );
    assert_eq!(w.fail_sends.load(Ordering::SeqCst), 97);
    assert_eq!(w.mailbox.messages().await.len(), 1);
    // A failed job stays failed: another delivery does nothing.
    assert_eq!(deliver(&w, &job_c, "3").await, 0);
    assert_eq!(w.fail_sends.load(Ordering::SeqCst), 97);

    // The job cannot be read for a moment: the record is a batch item failure (by its
    // sequence number), the job stays queued, and the next delivery runs it.
    w.fail_sends.store(0, Ordering::SeqCst);
    let (_, d) = request(&w, params("2026-04-05", "2026-04-05")).await;
    let job_d = d["job"]["job_id"].as_str().unwrap().to_string();
    let event = stream_event(&w, &job_d, "4").await;
    w.fail_job_reads.store(1, Ordering::SeqCst);
    let failures = org_report_email_job::handle_stream(
        &w.deps,
        serde_json::from_value(event).unwrap(),
        w.tempdir.path(),
    )
    .await
    .batch_item_failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].item_identifier.as_deref(), Some("4"));
    assert_eq!(job(&w, &job_d).await["state"], "queued");
    assert_eq!(
        delivery_failures(&w, &job_d, "4").await,
        Vec::<Option<String>>::new()
    );
    assert_eq!(job(&w, &job_d).await["state"], "done");
    assert_eq!(w.mailbox.messages().await.len(), 2);
}

#[tokio::test]
async fn faults_are_retried_then_fail_the_job_without_a_dead_link_embedded() {
    faults_are_retried_then_fail_the_job_without_a_dead_link(world(false).await).await;
}

#[tokio::test]
async fn faults_are_retried_then_fail_the_job_without_a_dead_link_moto() {
    faults_are_retried_then_fail_the_job_without_a_dead_link(world(true).await).await;
}

/// Over HTTP on the local server: the email route with a token, the in-process worker runs
/// the job, the outbox `.eml` holds the link, and the server serves it.
#[tokio::test]
async fn local_server_worker_emails_a_link_it_serves() {
    let dir = TempDir::new("email-local");
    let server = TestServer::start(dir.path(), now()).await;
    let (base, client) = (&server.base, &server.client);
    let report = domain::events::ingest::ingest_batch(&*server.app.deps.store, now(), &fixture())
        .await
        .unwrap();
    assert_eq!(report.rejected, 0);
    let token = server.token(&requester());
    let worker = server.app.start_email_worker();
    let resp = client
        .post(format!("{base}/orgs/{ORG}/reports/consultations/email"))
        .bearer_auth(&token)
        .json(&params("2026-04-03", "2026-04-05"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(location, body["status_url"].as_str().unwrap());
    // Follow the job until the worker has finished it (states only; no time is asserted).
    let mut state = Value::Null;
    for _ in 0..600 {
        let job: Value = client
            .get(format!("{base}{location}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        state = job["job"]["state"].clone();
        if state == "done" || state == "failed" {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(state, "done");
    let messages = read_outbox(&server.data.outbox()).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, "acc-1@example.org");
    let link = first_link(&messages[0].text);
    assert!(
        link.starts_with(&format!("{base}/blobs/reports/")),
        "{link}"
    );
    let resp = reqwest::get(&link).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_workbook(&resp.bytes().await.unwrap(), &expected_org_rows());
    worker.abort();
}

async fn clinic_twin_and_racing_requests(w: World) {
    // Two identical requests at the same time agree on one job (one audit record).
    let (a, b) = tokio::join!(
        request(&w, params("2026-04-03", "2026-04-05")),
        request(&w, params("2026-04-03", "2026-04-05"))
    );
    assert_eq!((a.0, b.0), (202, 202));
    assert_eq!(a.1["job"]["job_id"], b.1["job"]["job_id"]);
    let requested = audit_actions(&w).await;
    assert_eq!(requested, vec!["report.email_requested"]);

    // The clinic-level twin: a clinic admin of Coogee (acc-2) asks for the clinic's report.
    let coogee_admin = Principal {
        sub: "acc-2".into(),
        role: Role::ClinicAdmin,
        orgs: vec![],
        clinics: vec!["cl-b".into()],
    };
    let (status, body) = call(
        &w,
        &coogee_admin,
        "POST",
        "/clinics/cl-b/reports/consultations/email",
        Some(params("2026-04-03", "2026-04-05")),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let job_id = body["job"]["job_id"].as_str().unwrap().to_string();
    assert_eq!(body["job"]["clinic_id"], "cl-b");
    assert_eq!(
        body["status_url"],
        format!("/clinics/cl-b/reports/jobs/{job_id}")
    );
    // The organisation sees its clinic's job; another clinic's admin does not.
    assert_eq!(job(&w, &job_id).await["state"], "queued");
    let bondi_admin = Principal {
        sub: "acc-1".into(),
        role: Role::ClinicAdmin,
        orgs: vec![],
        clinics: vec!["cl-a".into()],
    };
    let (status, _) = call(
        &w,
        &bondi_admin,
        "GET",
        &format!("/clinics/cl-a/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(deliver(&w, &job_id, "7").await, 0);
    let (status, done) = call(
        &w,
        &coogee_admin,
        "GET",
        &format!("/clinics/cl-b/reports/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!((status, done["job"]["state"].as_str()), (200, Some("done")));
    let messages = w.mailbox.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, "acc-2@example.org");
    assert!(messages[0]
        .body
        .contains("https://platform.example/clinics/cl-b/reports/history"));
    let (status, history) = call(
        &w,
        &coogee_admin,
        "GET",
        "/clinics/cl-b/reports/history",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
    assert_eq!(history["items"][0]["report_id"], done["job"]["report_id"]);
}

#[tokio::test]
async fn clinic_twin_and_racing_requests_embedded() {
    clinic_twin_and_racing_requests(world(false).await).await;
}

#[tokio::test]
async fn clinic_twin_and_racing_requests_moto() {
    clinic_twin_and_racing_requests(world(true).await).await;
}
