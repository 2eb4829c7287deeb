//! Clean logs (SPEC Q3): a scenario drives names, emails, message ciphertext, system text,
//! rating comments, referral notes and tag names — valid and invalid, in events and in request
//! bodies and queries — through the local server's Router while the production JSON log format
//! (`domain::telemetry::capture`) writes into a buffer. None of those values may appear in the
//! logs; every line is JSON, and each request is logged once with its `request_id`.
//!
//! The lines and metric documents themselves (SPEC Q8): each request's access line, the denial
//! line of every 401 and 403 (a missing token, a token not yet valid, a role the route does not
//! take) and each request's metric document, exactly; the metric documents of ingest and of
//! exports.
//!
//! The Router runs on this test's single-threaded runtime, so everything it logs there is
//! captured (work moved to blocking threads is not).

#![allow(clippy::unwrap_used)]

use crate::support::app::{local_now, LocalTestApp, JSON};
use crate::support::events::{
    account, patient, practitioner, rating, system_message, text_message, thread_created,
    two_organisations,
};
use crate::support::TempDir;
use domain::auth::Role;
use domain::org_reports::email::{due_jobs, run_job, JobOutcome, Takeover};
use domain::telemetry::{capture, LogBuffer};
use serde_json::{json, Value};

const PATIENT_NAME: &str = "Quillon Marchbanks";
const PRACTITIONER_NAME: &str = "Ysolde Varnham";
const EMAIL: &str = "ysolde.varnham@leak-check.example";
const CIPHER_PLAIN: &str = "LEAKMARKER-7f3a";
const SYSTEM_TEXT: &str = "SYSTEXT-LEAK-91";
const COMMENT: &str = "COMMENT-LEAK-55";
const NOTE: &str = "REFNOTE-LEAK-33";
const DECLINE_TEXT: &str = "DECLINE-LEAK-48";
const TAG: &str = "TAGLEAK-Zebra";
const BAD_ZONE: &str = "Mars/LEAKZONE";
const BAD_CIPHER: &str = "!!LEAKCIPHER!!";
const BAD_JSON: &str = "LEAKJSON-12";

/// `CIPHER_PLAIN` in base64, as a client sends ciphertext.
const CIPHER_B64: &str = "TEVBS01BUktFUi03ZjNh";

async fn scenario(server: &LocalTestApp) -> usize {
    let mut requests = 0;
    server.ingest(two_organisations()).await;
    requests += 1;
    let at = "2026-11-12T09:00:00Z";
    let events = json!([
        patient("pat-l", PATIENT_NAME).event("l-1", at),
        practitioner(
            "prac-l",
            PRACTITIONER_NAME,
            &["Cardiology"],
            "approved",
            5000,
            false
        )
        .event("l-2", at),
        account(
            "acc-l",
            "org-1",
            EMAIL,
            PRACTITIONER_NAME,
            "standard",
            "full",
            "2024-03-18T00:00:00Z"
        )
        .event("l-3", at),
        thread_created("thr-l", &["pat-l"], &["prac-a"]).event("l-4", at),
        text_message("thr-l", "msg-l1", "pat-l", "patient", CIPHER_B64).event("l-5", at),
        system_message("thr-l", "msg-l2", SYSTEM_TEXT).event("l-6", at),
        rating("rat-l", "pat-l", "prac-a", 2)
            .with("comment", COMMENT)
            .event("l-7", at),
        // Refused events: their values must not reach the logs either.
        patient("pat-m", &format!("{PATIENT_NAME}{}", "x".repeat(300))).event("l-8", at),
        text_message("thr-l", "msg-l3", "pat-l", "patient", BAD_CIPHER).event("l-9", at),
        account(
            "acc-m",
            "org-1",
            &format!("{EMAIL} not an email"),
            "",
            "standard",
            "full",
            "2024-03-18T00:00:00Z"
        )
        .with("name", 7)
        .event("l-10", at),
    ]);
    let (status, report) = server.post_events(events).await;
    requests += 1;
    assert_eq!(status, 207, "some accepted, some refused: {report}");
    assert_eq!(report["accepted"], 7, "{report}");
    assert_eq!(report["rejected"], 3, "{report}");

    // A body that is not JSON, with a marker in it.
    let service = server.token_for("svc-1", Role::Service, &[], &[]);
    let not_json = format!("{{\"events\": [\"{BAD_JSON}").into_bytes();
    let answer = server
        .request("POST", "/ingest/events", Some(&service), &[JSON], not_json)
        .await;
    requests += 1;
    assert_eq!(answer.status, 400);

    // Admin reads, with names in the query.
    let admin = server.token_for("admin-1", Role::PlatformAdmin, &[], &[]);
    for path in [
        format!("/admin/feed?q={}", PATIENT_NAME.replace(' ', "%20")),
        "/admin/threads/thr-l".to_string(),
        "/admin/ratings".to_string(),
        format!("/admin/practitioners?q={PRACTITIONER_NAME}").replace(' ', "%20"),
        "/admin/feed/export".to_string(),
    ] {
        let (status, body) = server.send("GET", &path, Some(&admin), None).await;
        requests += 1;
        assert!(status < 500, "{path}: {status} {body}");
    }

    // A referral with a note, then a refused one naming an unknown patient by name.
    let prac = server.token_for("prac-a", Role::Practitioner, &[], &[]);
    let (status, body) = server
        .send(
            "POST",
            "/referrals",
            Some(&prac),
            Some(&json!({ "patient_id": "pat-l", "specialist_id": "prac-l", "message": NOTE })),
        )
        .await;
    requests += 1;
    assert_eq!(status, 201, "{body}");
    // Its patient accepts; the specialist declines with a reason's free text, once with a code
    // that is not one.
    let rid = body["referral_id"].as_str().unwrap().to_string();
    let patient_token = server.token_for("pat-l", Role::Patient, &[], &[]);
    let (status, body) = server
        .send(
            "POST",
            &format!("/referrals/{rid}/patient-decision"),
            Some(&patient_token),
            Some(&json!({ "decision": "accept" })),
        )
        .await;
    requests += 1;
    assert_eq!(status, 200, "{body}");
    let specialist = server.token_for("prac-l", Role::Practitioner, &[], &[]);
    let decision = format!("/referrals/{rid}/specialist-decision");
    let (status, body) = server
        .send(
            "POST",
            &decision,
            Some(&specialist),
            Some(&json!({ "decision": "reject", "reason": { "code": DECLINE_TEXT, "text": DECLINE_TEXT } })),
        )
        .await;
    requests += 1;
    assert_eq!(
        (status, &body["field"]),
        (400, &json!("reason.code")),
        "{body}"
    );
    assert!(!body.to_string().contains(DECLINE_TEXT), "{body}");
    let (status, body) = server
        .send(
            "POST",
            &decision,
            Some(&specialist),
            Some(&json!({ "decision": "reject", "reason": { "code": "other", "text": DECLINE_TEXT } })),
        )
        .await;
    requests += 1;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server
        .send(
            "POST",
            "/referrals",
            Some(&prac),
            Some(
                &json!({ "patient_id": PATIENT_NAME, "specialist_id": "prac-l",
                "message": NOTE, "extra": EMAIL }),
            ),
        )
        .await;
    requests += 1;
    assert_eq!(status, 400);
    let (status, _) = server
        .send(
            "GET",
            &format!(
                "/referrals/specialists?q={}",
                PRACTITIONER_NAME.replace(' ', "%20")
            ),
            Some(&prac),
            None,
        )
        .await;
    requests += 1;
    assert_eq!(status, 200);

    // Report configuration: a tag name, then a zone that does not exist.
    let org_admin = server.token_for("acc-1", Role::OrgAdmin, &["org-1"], &[]);
    let (status, body) = server
        .send(
            "PUT",
            "/orgs/org-1/reports/config",
            Some(&org_admin),
            Some(
                &json!({ "time_zone": "UTC", "min_duration_seconds": 0, "version": 0,
                "tags": [{ "name": TAG, "clinic_ids": ["clinic-1"], "room_ids": [] }] }),
            ),
        )
        .await;
    requests += 1;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server
        .send(
            "PUT",
            "/orgs/org-1/reports/config",
            Some(&org_admin),
            Some(&json!({ "time_zone": BAD_ZONE, "min_duration_seconds": 0 })),
        )
        .await;
    requests += 1;
    assert_eq!(status, 400);
    let (status, body) = server
        .send(
            "POST",
            "/orgs/org-1/reports/service-providers/download",
            Some(&org_admin),
            Some(&json!({ "from": "2026-11-01", "to": "2026-11-15" })),
        )
        .await;
    requests += 1;
    assert_eq!(status, 201, "{body}");
    // The same report emailed to the account holding the marked email: the job run as the
    // local worker runs it.
    let holder = server.token_for("acc-l", Role::OrgAdmin, &["org-1"], &[]);
    let (status, body) = server
        .send(
            "POST",
            "/orgs/org-1/reports/service-providers/email",
            Some(&holder),
            Some(&json!({ "from": "2026-11-01", "to": "2026-11-15" })),
        )
        .await;
    requests += 1;
    assert_eq!(status, 202, "{body}");
    let deps = &server.app.deps;
    let tempdir = TempDir::new("logs-email");
    let jobs = due_jobs(&*deps.store, local_now(), Takeover::Expired, 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    for job in jobs {
        let outcome = run_job(deps, &job, tempdir.path()).await.unwrap();
        assert_eq!(outcome, JobOutcome::Done);
    }
    requests
}

#[tokio::test]
async fn logs_hold_no_names_emails_or_message_content_and_carry_request_ids() {
    let buffer = LogBuffer::default();
    let _guard = capture(buffer.clone());
    let dir = TempDir::new("logs");
    let server = LocalTestApp::open(dir.path(), local_now());
    let requests = scenario(&server).await;
    drop(server);

    let logs = buffer.text();
    let mut request_lines = 0;
    for line in logs.lines() {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        if entry["message"] == "request" {
            let id = entry["request_id"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "a request logged without its id: {line}");
            request_lines += 1;
        }
    }
    assert_eq!(request_lines, requests, "one line per request:\n{logs}");
    for marker in [
        PATIENT_NAME,
        "Quillon",
        "Marchbanks",
        PRACTITIONER_NAME,
        "Varnham",
        EMAIL,
        "leak-check",
        CIPHER_PLAIN,
        CIPHER_B64,
        SYSTEM_TEXT,
        COMMENT,
        NOTE,
        DECLINE_TEXT,
        TAG,
        "LEAKZONE",
        "LEAKCIPHER",
        BAD_JSON,
    ] {
        assert!(
            !logs.contains(marker),
            "the logs hold {marker:?}:\n{}",
            logs.lines()
                .filter(|l| l.contains(marker))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    eprintln!(
        "clean logs: {} lines, {request_lines} requests, 16 markers absent",
        logs.lines().count()
    );

    // The metric documents of the scenario's ingest (the second batch: 7 accepted, 3 refused)
    // and of its exports (the admin feed as CSV, the service-providers report).
    let documents: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("_aws").is_some())
        .map(|mut l| {
            let stamp = l["_aws"]["Timestamp"].take();
            assert!(stamp.as_i64().is_some_and(|t| t > 0), "{stamp}");
            l
        })
        .collect();
    let ingest = json!({
        "_aws": {"Timestamp": null, "CloudWatchMetrics": [{
            "Namespace": "TelehealthReporting", "Dimensions": [[]],
            "Metrics": [
                {"Name": "EventsAccepted", "Unit": "Count"},
                {"Name": "EventsRefused", "Unit": "Count"},
                {"Name": "EventsDuplicate", "Unit": "Count"},
            ],
        }]},
        "EventsAccepted": 7, "EventsRefused": 3, "EventsDuplicate": 0,
    });
    assert!(documents.contains(&ingest), "{documents:#?}");
    let exports: Vec<&Value> = documents
        .iter()
        .filter(|d| d.get("RowsExported").is_some())
        .collect();
    assert_eq!(exports.len(), 3, "{exports:#?}");
    let channels = [
        (exports[0], "admin_csv"),
        (exports[1], "report_download"),
        (exports[2], "report_email"),
    ];
    for (export, channel) in channels {
        assert_eq!(export["channel"], channel, "{export}");
        assert_eq!(
            export["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["channel", "export"]])
        );
        assert_eq!(
            export["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "RowsExported", "Unit": "Count"},
                   {"Name": "BytesExported", "Unit": "Bytes"}])
        );
        assert!(export["BytesExported"].as_u64().unwrap() > 0, "{export}");
    }
    assert_eq!(exports[1]["export"], "service-providers");
    assert_eq!(exports[2]["export"], "service-providers");
    assert_eq!(exports[2]["RowsExported"], exports[1]["RowsExported"]);
    // The email job's run, with its outcome.
    let jobs: Vec<&Value> = documents
        .iter()
        .filter(|d| d.get("JobDuration").is_some())
        .collect();
    assert_eq!(jobs.len(), 1, "{documents:#?}");
    assert!(jobs[0]["JobDuration"].is_u64(), "{}", jobs[0]);
    assert_eq!(
        jobs[0]["_aws"]["CloudWatchMetrics"][0],
        json!({"Namespace": "TelehealthReporting", "Dimensions": [["job", "outcome"]],
            "Metrics": [{"Name": "JobDuration", "Unit": "Milliseconds"}]})
    );
    assert_eq!(jobs[0]["job"], "org_report_email");
    assert_eq!(jobs[0]["outcome"], "done");
}

/// The lines of four requests, exactly (the timestamp and the latency aside): a public route;
/// an admin route without a token, with a token not valid before an hour from now, with a role
/// it does not take; each denial writes its line with the reason before the access line, and
/// every request its metric document. No token reaches the logs.
#[tokio::test]
async fn access_lines_denials_and_request_metrics_are_written_as_documented() {
    use local_adapters::dev_tokens::{TokenClaims, DEV_AUDIENCE, DEV_ISSUER};
    let buffer = LogBuffer::default();
    let _guard = capture(buffer.clone());
    let dir = TempDir::new("logs-lines");
    let server = LocalTestApp::open(dir.path(), local_now());
    let now = local_now().timestamp();
    let not_yet = server.app.dev_key.sign(&TokenClaims {
        sub: "admin-1".into(),
        role: Role::PlatformAdmin,
        orgs: String::new(),
        clinics: String::new(),
        iss: DEV_ISSUER.into(),
        aud: DEV_AUDIENCE.into(),
        exp: now + 7200,
        iat: now,
        nbf: Some(now + 3600),
    });
    let practitioner = server.token_for("prac-a", Role::Practitioner, &[], &[]);
    let calls = [
        (None, "/health", 200),
        (None, "/admin/feed", 401),
        (Some(&not_yet), "/admin/feed", 401),
        (Some(&practitioner), "/admin/feed", 403),
    ];
    for (token, path, want) in calls {
        let (status, body) = server
            .send("GET", path, token.map(|t| t.as_str()), None)
            .await;
        assert_eq!(status, want, "{path}: {body}");
    }
    drop(server);

    let text = buffer.text();
    for token in [&not_yet, &practitioner] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!text.contains(signature), "a token in the logs:\n{text}");
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| {
            l.get("_aws").is_some() || l["message"] == "request" || l["message"] == "request denied"
        })
        .map(|mut l| {
            let fields = l.as_object_mut().unwrap();
            if let Some(aws) = fields.get_mut("_aws") {
                assert!(aws["Timestamp"].take().is_i64());
                assert!(fields["Latency"].is_u64());
                fields.insert("Latency".into(), json!(0));
            } else {
                assert!(fields.remove("timestamp").unwrap().is_string());
            }
            if let Some(latency) = fields.get_mut("latency_ms") {
                assert!(latency.is_u64());
                *latency = json!(0);
            }
            l
        })
        .collect();
    let access = |n: u32, function: &str, route: &str, role: &str, status: u16| {
        json!({"level": "INFO", "message": "request", "request_id": format!("local-{n}"),
            "function": function, "method": "GET", "route": route, "role": role,
            "status": status, "latency_ms": 0})
    };
    let denied = |n: u32, status: u16, reason: &str| {
        json!({"level": "WARN", "message": "request denied", "request_id": format!("local-{n}"),
            "function": "admin-feed", "method": "GET", "route": "/admin/feed",
            "status": status, "reason": reason})
    };
    let metrics = |route: &str| {
        json!({
            "_aws": {"Timestamp": null, "CloudWatchMetrics": [{
                "Namespace": "TelehealthReporting", "Dimensions": [["route"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                    {"Name": "Errors", "Unit": "Count"},
                ],
            }]},
            "route": route, "Requests": 1, "Latency": 0, "Errors": 0,
        })
    };
    let expected = vec![
        access(1, "health", "/health", "-", 200),
        metrics("GET /health"),
        denied(2, 401, "missing bearer token"),
        access(2, "admin-feed", "/admin/feed", "-", 401),
        metrics("GET /admin/feed"),
        denied(3, 401, "claim `nbf` missing or invalid"),
        access(3, "admin-feed", "/admin/feed", "-", 401),
        metrics("GET /admin/feed"),
        denied(4, 403, "the role practitioner may not call this route"),
        access(4, "admin-feed", "/admin/feed", "practitioner", 403),
        metrics("GET /admin/feed"),
    ];
    assert_eq!(lines, expected, "{text}");
}

/// `local_adapters::demo::sensitive_needles` (what the whole run's log scan searches for,
/// infra/test.sh step 7) covers every name, email, message and comment the demo generator writes: each such
/// value holds one of the needles of its kind.
#[test]
fn the_log_scan_knows_every_sensitive_value_of_the_demo_data() {
    use local_adapters::demo::{demo_events, sensitive_needles, DemoConfig, Scale};
    let needles = sensitive_needles();
    let config = DemoConfig {
        seed: 7,
        scale: Scale {
            organisations: 2,
            clinics_per_org: 3,
            accounts_per_org: 20,
            practitioners: 20,
            patients: 30,
            threads: 120,
            vouchers: 3,
            room_calls: 10,
            consultation_rows: 200,
            chatter: 2,
        },
        now: chrono::Utc::now(),
    };
    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    demo_events(&config, |batch| {
        for event in batch {
            let data = &event["data"];
            let fields: &[(&str, &str)] = match event["type"].as_str().unwrap() {
                "patient.upserted" | "practitioner.upserted" => &[("name", "name")],
                "account.upserted" => &[("name", "name"), ("email", "email")],
                "message.sent" => &[("system_text", "message"), ("ciphertext", "message")],
                "rating.submitted" => &[("comment", "comment")],
                _ => &[],
            };
            for (field, kind) in fields {
                let Some(value) = data[*field].as_str() else {
                    continue;
                };
                assert!(
                    needles
                        .iter()
                        .any(|(k, needle)| k == kind && value.contains(needle.as_str())),
                    "{} {field} is not searched for: {value:?}",
                    event["type"]
                );
                *checked.entry(*field).or_default() += 1;
            }
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    for field in ["name", "email", "system_text", "ciphertext", "comment"] {
        assert!(
            checked.get(field).copied().unwrap_or(0) > 0,
            "no {field} checked: {checked:?}"
        );
    }
}

/// Every function logs JSON (which Lambda filters by `level`) at the stack's `LogLevel`, which
/// Lambda hands over as `AWS_LAMBDA_LOG_LEVEL` (`domain::telemetry::log_filter`).
#[test]
fn the_functions_log_json_at_the_stack_s_level() {
    use crate::template::{str_at, template};
    let template = template();
    let logging = &template["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(str_at(logging, &["LogFormat"]), Some("JSON"));
    assert_eq!(
        str_at(logging, &["ApplicationLogLevel", "Ref"]),
        Some("LogLevel")
    );
    let parameter = &template["Parameters"]["LogLevel"];
    assert_eq!(str_at(parameter, &["Default"]), Some("INFO"));
    let levels: Vec<&str> = parameter["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(levels, ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);
}
