//! The local server killed with SIGKILL (`kill -9`) in the middle of its work, then started
//! again on the same data directory: during the first start's demo load, and while referral
//! decisions are being taken. Each restart must come up and converge to the state an
//! uninterrupted run would have left — nothing lost, nothing doubled (SPEC Q6); while it runs
//! emailed reports, every job must end with at most one email.

#![allow(clippy::unwrap_used)]

use crate::support::events::{patient, practitioner, thread_created};
use crate::support::process::{token, ServerProcess};
use crate::support::TempDir;
use domain::auth::{Principal, Role};
use domain::ports::store::{query_all, Index, Query, Store};
use domain::readmodels::{keys, lists, ThreadSummary};
use domain::referrals::delivery;
use domain::referrals::threads::specialist_thread_id;
use local_adapters::demo::load_demo;
use local_adapters::embedded_store::EmbeddedStore;
use local_server::demo::{loaded_key, started};
use local_server::DataDir;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// `method base+path` with the bearer `token` and a JSON `body`: the status and the body (null
/// when not JSON), or the error of a request the server never answered.
fn call(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> impl std::future::Future<Output = Result<(u16, Value), reqwest::Error>> + Send + 'static {
    let mut req = client
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    async move {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
}

fn open_store(dir: &Path) -> EmbeddedStore {
    EmbeddedStore::open(&DataDir::new(dir).store()).expect("the store opens after the kill")
}

/// The store of `dir` as a kill left it, opened from a copy (opening drops a torn last line,
/// which the restarted server must find and drop itself).
fn copy_of_store(dir: &Path, copy: &TempDir) -> EmbeddedStore {
    let log = local_adapters::embedded_store::LOG_FILE;
    std::fs::copy(DataDir::new(dir).store().join(log), copy.path().join(log)).unwrap();
    EmbeddedStore::open(copy.path()).expect("the store opens after the kill")
}

/// The Feed's items as stored (keys and bodies; versions depend on how often an item was
/// rewritten, not on what it holds).
async fn feed(store: &EmbeddedStore) -> Vec<(String, String, Value)> {
    query_all(store, &Query::partition(Index::Gsi1, lists::FEED))
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.pk, i.sk, i.body))
        .collect()
}

/// Killed during its first start's demo load, the server comes up on the next start with the
/// demo data complete: exactly the items of one uninterrupted load of the recorded
/// configuration, every event of it there once. The first start loads a small volume, the
/// second is started without those flags: it finishes the load that was begun.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_load_killed_midway_is_finished_by_the_next_start() {
    let dir = TempDir::new("crash-demo");
    let log = DataDir::new(dir.path())
        .store()
        .join(local_adapters::embedded_store::LOG_FILE);
    let small = ["--bench-rows", "1000", "--bench-threads", "300"];
    let mut first = ServerProcess::start(dir.path(), &small, &[]);
    first
        .wait_for_stderr("loading demo data", Duration::from_secs(120))
        .await;
    first
        .wait_until("a part of the demo load", Duration::from_secs(120), |_| {
            std::fs::metadata(&log).map_or(0, |m| m.len()) > 256 * 1024
        })
        .await;
    first.kill();

    let killed_at = std::fs::metadata(&log).unwrap().len();

    let mut second = ServerProcess::start(dir.path(), &[], &[]);
    let base = second.wait_serving(Duration::from_secs(300)).await;
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let errors = second.stderr();
    assert!(
        errors.iter().any(|l| l.contains("resuming the demo load")),
        "{errors:?}"
    );
    assert!(!errors.iter().any(|l| l.contains("cannot")), "{errors:?}");
    second.kill();

    let resumed = open_store(dir.path());
    assert!(resumed.get(&loaded_key()).await.unwrap().is_some());
    let config = started(&resumed)
        .await
        .unwrap()
        .expect("the load's configuration");
    assert_eq!(config.scale.threads, 300, "the volume of the load begun");
    let clean = EmbeddedStore::in_memory();
    let summary = load_demo(&clean, &config).await.unwrap();
    eprintln!(
        "demo load killed at {killed_at} bytes of store log, finished at {} items (a clean \
         load: {} events, {} items)",
        resumed.len(),
        summary.events,
        clean.len()
    );
    // The clean load's items and the two markers of the local run (started, loaded).
    assert_eq!(resumed.len(), clean.len() + 2);
    assert_eq!(feed(&resumed).await, feed(&clean).await);
    assert_eq!(feed(&resumed).await.len() as u64, summary.threads);
    let again = load_demo(&resumed, &config).await.unwrap().loaded.unwrap();
    assert_eq!(
        (again.accepted, again.duplicates),
        (0, summary.events),
        "every event of the recorded load landed, and none of another"
    );
    assert_eq!(resumed.len(), clean.len() + 2);
}

/// A token of `dir`'s development key for `sub` in `role`.
/// `batch` posted to `/ingest/events` with a service token: answered 200 with nothing
/// rejected; its report.
async fn ingest(client: &reqwest::Client, base: &str, dir: &Path, batch: Value) -> Value {
    let service = token_of(dir, "svc", Role::Service);
    let (status, report) = call(
        client,
        base,
        &service,
        "POST",
        "/ingest/events",
        Some(batch),
    )
    .await
    .unwrap();
    assert_eq!(
        (status, report["rejected"].as_u64()),
        (200, Some(0)),
        "{report}"
    );
    report
}

fn token_of(dir: &Path, sub: &str, role: Role) -> String {
    token(
        dir,
        &Principal {
            sub: sub.into(),
            role,
            orgs: vec![],
            clinics: vec![],
        },
    )
}

/// Referrals decided in parallel by their specialist, the server killed while the decisions
/// are under way (once a quarter of them are answered), then started again: every referral
/// that is `accepted` gets exactly one specialist–patient thread holding its system message,
/// delivered by the delivery worker without any retry; and the specialist's same decision
/// again answers what its first answer said, whether or not that answer came back before the
/// kill. Rounds repeat until a kill has caught a decision between its commit and its delivery
/// (a kill falls more often between two decisions than inside one); at the end no referral is without its thread, none
/// has two, and the practitioner pair thread holds each referral's two messages once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referral_decisions_killed_midway_end_with_one_thread_each() {
    const REFERRALS: usize = 40;
    const MAX_ROUNDS: usize = 25;
    let dir = TempDir::new("crash-referrals");
    // One decision per referral (no patient approval); links that do not depend on the port.
    let env = [
        ("REFERRAL_PATIENT_APPROVAL", "false"),
        ("PLATFORM_BASE_URL", "http://platform.test"),
    ];
    let who = |sub: &str, role: Role| token_of(dir.path(), sub, role);
    let (referrer, specialist, admin) = (
        who("prac-ref", Role::Practitioner),
        who("prac-spec", Role::Practitioner),
        who("admin-1", Role::PlatformAdmin),
    );
    let client = reqwest::Client::new();
    let decide = |base: &str, rid: &str| {
        call(
            &client,
            base,
            &specialist,
            "POST",
            &format!("/referrals/{rid}/specialist-decision"),
            Some(json!({ "decision": "accept" })),
        )
    };
    let at = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut server = ServerProcess::start(dir.path(), &["--no-demo"], &env);
    let mut base = server.wait_serving(Duration::from_secs(120)).await;
    let mut events = vec![
        practitioner(
            "prac-ref",
            "Ref",
            &["General practice"],
            "approved",
            5000,
            false,
        )
        .event("c-ref", at),
        practitioner("prac-spec", "Spec", &["Cardiology"], "approved", 5000, true)
            .event("c-spec", at),
    ];

    // referral id → its patient, over all rounds.
    let mut patients = BTreeMap::new();
    let mut caught = 0;
    for round in 0..MAX_ROUNDS {
        let mut referrals = Vec::new();
        for n in 0..REFERRALS {
            let (pat, thr) = (format!("pat-{round}-{n}"), format!("thr-{round}-{n}"));
            events.push(patient(&pat, "P").event(&format!("c-{pat}"), at));
            events
                .push(thread_created(&thr, &[&pat], &["prac-ref"]).event(&format!("c-{thr}"), at));
        }
        let batch = json!({ "events": std::mem::take(&mut events) });
        ingest(&client, &base, dir.path(), batch).await;
        for n in 0..REFERRALS {
            let pat = format!("pat-{round}-{n}");
            let body = json!({ "patient_id": pat, "specialist_id": "prac-spec" });
            let (status, created) =
                call(&client, &base, &referrer, "POST", "/referrals", Some(body))
                    .await
                    .unwrap();
            assert_eq!(status, 201, "{created}");
            assert_eq!(created["state"], "pending_specialist");
            let rid = created["referral_id"].as_str().unwrap().to_string();
            patients.insert(rid.clone(), pat);
            referrals.push(rid);
        }

        // Every decision at once, no Idempotency-Key; the kill once a quarter are answered.
        let (answer_came, mut an_answer) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut tasks = Vec::new();
        for rid in &referrals {
            let (decision, answer_came) = (decide(&base, rid), answer_came.clone());
            tasks.push(tokio::spawn(async move {
                let answer = decision.await.ok();
                if answer.is_some() {
                    let _ = answer_came.send(());
                }
                answer
            }));
        }
        drop(answer_came);
        for _ in 0..REFERRALS / 4 {
            an_answer.recv().await;
        }
        server.kill();
        let mut first_answers = BTreeMap::new();
        for (rid, task) in referrals.iter().zip(tasks) {
            if let Some(answer) = task.await.unwrap() {
                first_answers.insert(rid.clone(), answer);
            }
        }

        // What the kill left: decisions committed, some perhaps without their thread yet.
        let (committed, undelivered) = {
            let copy = TempDir::new("crash-referrals-copy");
            let store = copy_of_store(dir.path(), &copy);
            let mut committed = BTreeSet::new();
            let mut undelivered = 0;
            for rid in &referrals {
                let r = referral(&store, rid).await;
                if r.state == domain::referrals::model::State::Accepted {
                    committed.insert(rid.clone());
                    let thread = keys::thread(&specialist_thread_id(rid));
                    if store.get(&thread).await.unwrap().is_none() {
                        undelivered += 1;
                    }
                }
            }
            (committed, undelivered)
        };
        eprintln!(
            "round {round}: {REFERRALS} decisions, killed after {} answers: {} committed, \
             {undelivered} of them without their thread",
            first_answers.len(),
            committed.len()
        );
        assert!(
            first_answers.len() < REFERRALS,
            "the kill came before every decision was answered"
        );
        for (rid, (status, answer)) in &first_answers {
            assert_eq!(
                (*status, &answer["state"]),
                (200, &json!("accepted")),
                "{rid}"
            );
            assert!(
                committed.contains(rid),
                "an answered decision stands: {rid}"
            );
        }

        // Restarted, the delivery worker lands what the kill left undelivered, with no retry.
        server = ServerProcess::start(dir.path(), &["--no-demo"], &env);
        base = server.wait_serving(Duration::from_secs(120)).await;
        let started = std::time::Instant::now();
        loop {
            let mut missing = Vec::new();
            for rid in &committed {
                let path = format!("/admin/threads/{}", specialist_thread_id(rid));
                let (status, _) = call(&client, &base, &admin, "GET", &path, None)
                    .await
                    .unwrap();
                if status != 200 {
                    missing.push(rid.clone());
                }
            }
            if missing.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "accepted referrals without their specialist–patient thread after the \
                 restart: {missing:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // The same decision again, by the same party: its first answer.
        for rid in &referrals {
            let (status, again) = decide(&base, rid).await.unwrap();
            match first_answers.get(rid) {
                Some((first_status, first)) => {
                    assert_eq!((status, &again), (*first_status, first), "{rid}")
                }
                None => assert_eq!(
                    (status, &again["state"]),
                    (200, &json!("accepted")),
                    "{rid}"
                ),
            }
        }
        caught += undelivered;
        if caught > 0 {
            break;
        }
    }
    server.kill();
    assert!(
        caught > 0,
        "in {MAX_ROUNDS} rounds no kill came between a decision's commit and its delivery"
    );

    // Every referral accepted now, each with one thread and one message in it, none doubled.
    let store = open_store(dir.path());
    assert_eq!(
        delivery::pending(&store, 1000).await.unwrap(),
        Vec::<String>::new(),
        "no delivery left pending"
    );
    let mut pair_threads = BTreeSet::new();
    for (rid, pat) in &patients {
        let thread_id = specialist_thread_id(rid);
        let summary = thread(&store, &thread_id)
            .await
            .unwrap_or_else(|| panic!("no specialist–patient thread for {rid}"));
        assert_eq!(summary.message_count, 1, "{rid}");
        assert_eq!(
            (summary.patient_ids, summary.practitioner_ids),
            (
                BTreeSet::from([pat.clone()]),
                BTreeSet::from(["prac-spec".to_string()])
            )
        );
        let of_patient: BTreeSet<String> = query_all(
            &store,
            &Query::partition(Index::Primary, format!("PARTY#{pat}"))
                .range(domain::ports::SkRange::BeginsWith("THREAD#".into())),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.sk)
        .collect();
        let shared = pat.replacen("pat-", "thr-", 1);
        assert_eq!(
            of_patient,
            BTreeSet::from([format!("THREAD#{shared}"), format!("THREAD#{thread_id}")]),
            "{rid}"
        );
        pair_threads.extend(referral(&store, rid).await.pair_thread_id);
    }
    assert_eq!(pair_threads.len(), 1, "one practitioner pair thread");
    let pair = pair_threads.pop_first().unwrap();
    assert_eq!(
        thread(&store, &pair).await.unwrap().message_count as usize,
        2 * patients.len(),
        "each referral's request and acceptance, once"
    );
}

async fn referral(store: &EmbeddedStore, rid: &str) -> domain::referrals::model::Referral {
    let key = domain::referrals::model::keys::referral(rid);
    store.get(&key).await.unwrap().unwrap().decode().unwrap()
}

async fn thread(store: &EmbeddedStore, thread_id: &str) -> Option<ThreadSummary> {
    let item = store.get(&keys::thread(thread_id)).await.unwrap();
    item.map(|i| i.decode().unwrap())
}

/// `.eml` files in the data directory's outbox: the emails the local mailer sent.
fn emails(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("outbox")).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    })
}

/// An emailed report requested, the server killed a little later after each request (2 ms
/// more each time) and started again on the same data directory, until kills have landed
/// while a job ran three times: every job ends — done with one email, or failed with its
/// reason and at most one email — and at least one kill came mid-run (the job claimed again,
/// or failed without a second email because its email had been attempted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emailed_reports_killed_midway_end_with_at_most_one_email_each() {
    let dir = TempDir::new("crash-email-jobs");
    let client = reqwest::Client::new();
    let mut server = ServerProcess::start(dir.path(), &["--no-demo"], &[]);
    let mut base = server.wait_serving(Duration::from_secs(120)).await;
    let events = json!({"events": [
        {"id": "e-org", "type": "organisation.upserted", "occurred_at": "2026-01-15T03:00:00Z",
         "data": {"org_id": "org-k", "name": "Northside", "state": "Victoria",
                  "specialty": "General practice", "contract": "Enterprise",
                  "created_at": "2023-06-01T00:00:00Z"}},
        {"id": "e-acc", "type": "account.upserted", "occurred_at": "2026-02-02T05:40:00Z",
         "data": {"account_id": "acc-k", "org_id": "org-k", "email": "acc-k@example.org",
                  "name": "Kim", "platform_role": "standard", "access_level": "full",
                  "created_at": "2024-03-18T00:00:00Z"}}
    ]});
    let report = ingest(&client, &base, dir.path(), events).await;
    assert_eq!(report["accepted"].as_u64(), Some(2), "{report}");
    let requester = token(
        dir.path(),
        &Principal {
            sub: "acc-k".into(),
            role: Role::OrgAdmin,
            orgs: vec!["org-k".into()],
            clinics: vec![],
        },
    );

    let (mut killed_mid_run, mut endings) = (0, Vec::new());
    for attempt in 0..60u32 {
        let before = emails(dir.path());
        let params = json!({"from": "2025-01-01", "to": "2025-12-31",
                            "min_duration_seconds": attempt});
        let (status, body) = call(
            &client,
            &base,
            &requester,
            "POST",
            "/orgs/org-k/reports/organisation/email",
            Some(params),
        )
        .await
        .unwrap();
        assert_eq!(status, 202, "{body}");
        let path = body["status_url"].as_str().expect("status url").to_string();
        tokio::time::sleep(Duration::from_millis(2 * u64::from(attempt))).await;
        server.kill();
        server = ServerProcess::start(dir.path(), &["--no-demo"], &[]);
        base = server.wait_serving(Duration::from_secs(120)).await;

        // The job once it ended (done or failed), polled through its status route.
        let started = std::time::Instant::now();
        let job = loop {
            let (status, body) = call(&client, &base, &requester, "GET", &path, None)
                .await
                .unwrap();
            assert_eq!(status, 200, "{body}");
            let job = body["job"].clone();
            if job["state"] == "done" || job["state"] == "failed" {
                break job;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "a job that never ends after a restart: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let sent = emails(dir.path()) - before;
        if job["state"] == "done" {
            assert_eq!(sent, 1, "{job}");
        } else {
            assert!(
                job["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{job}"
            );
            assert!(sent <= 1, "{job}");
        }
        let mid_run = job["runs"].as_u64().unwrap_or(0) > 1
            || job["email_attempted_at"].is_string() && job["state"] == "failed";
        endings.push((attempt, job["state"].clone(), job["runs"].clone(), sent));
        if mid_run {
            killed_mid_run += 1;
            if killed_mid_run == 3 {
                break;
            }
        }
    }
    eprintln!("(attempt, state, runs, emails): {endings:?}");
    assert!(
        killed_mid_run > 0,
        "no kill landed while a job ran: {endings:?}"
    );
}
