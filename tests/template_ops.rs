//! `template.yaml` as something to operate: every function logs to its own log group with the
//! retention parameter and has an errors and a throttles alarm; every queue has a depth alarm;
//! the export job has reserved concurrency, a sweep on a schedule, a lag alarm and a
//! failed-jobs alarm fed by the log line its code writes; the HTTP API allows the console's origin, headers and methods, writes
//! access logs and throttles its routes; the SES identity is a parameter.

#![allow(clippy::unwrap_used)]

use crate::template::{functions, repo_root, resources_of_type, str_at, template};
use api::routes::ROUTES;
use serde_yaml::Value;
use std::collections::BTreeSet;

/// Every alarm: (logical id, resource).
fn alarms(template: &Value) -> Vec<(&str, &Value)> {
    resources_of_type(template, "AWS::CloudWatch::Alarm")
}

fn props(resource: &Value) -> &Value {
    resource
        .get("Properties")
        .expect("a resource has Properties")
}

/// `Ref: <name>` as a YAML value.
fn reference(name: &str) -> Value {
    serde_yaml::from_str(&format!("Ref: {name}")).unwrap()
}

/// The value of an alarm's one dimension `name`.
fn dimension<'a>(alarm: &'a Value, name: &str) -> Option<&'a Value> {
    props(alarm)
        .get("Dimensions")
        .and_then(Value::as_sequence)?
        .iter()
        .find(|d| str_at(d, &["Name"]) == Some(name))
        .and_then(|d| d.get("Value"))
}

fn metric(alarm: &Value) -> (Option<&str>, Option<&str>) {
    (
        str_at(props(alarm), &["Namespace"]),
        str_at(props(alarm), &["MetricName"]),
    )
}

#[test]
fn every_alarm_notifies_the_alarm_topic() {
    let template = template();
    let all = alarms(&template);
    assert!(!all.is_empty());
    let topic = vec![reference("AlarmTopicArn")];
    for (id, alarm) in all {
        for actions in ["AlarmActions", "OKActions"] {
            assert_eq!(
                props(alarm).get(actions).and_then(Value::as_sequence),
                Some(&topic),
                "{id}.{actions}"
            );
        }
        assert_eq!(
            str_at(props(alarm), &["TreatMissingData"]),
            Some("notBreaching"),
            "{id}: no data is no trouble"
        );
    }
}

#[test]
fn every_function_logs_to_its_own_group_and_has_errors_and_throttles_alarms() {
    let template = template();
    let resources = template.get("Resources").unwrap();
    let mut groups = BTreeSet::new();
    for function in functions(&template) {
        let id = function.logical_id;
        let group = str_at(
            function.resource,
            &["Properties", "LoggingConfig", "LogGroup", "Ref"],
        )
        .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup is a Ref to its log group"));
        assert!(groups.insert(group), "{id} shares log group {group}");
        let log_group = resources
            .get(group)
            .unwrap_or_else(|| panic!("{id}: no resource {group}"));
        assert_eq!(str_at(log_group, &["Type"]), Some("AWS::Logs::LogGroup"));
        assert_eq!(
            props(log_group).get("RetentionInDays"),
            Some(&reference("LogRetentionDays")),
            "{group}: retention"
        );
        assert_eq!(
            str_at(props(log_group), &["LogGroupName", "Fn::Sub"]),
            Some(format!("/aws/lambda/${{AWS::StackName}}/{}", function.binary).as_str()),
            "{group}: named after the function"
        );

        let function_ref = reference(id);
        for wanted in ["Errors", "Throttles"] {
            let found: Vec<&str> = alarms(&template)
                .into_iter()
                .filter(|(_, a)| metric(a) == (Some("AWS/Lambda"), Some(wanted)))
                .filter(|(_, a)| dimension(a, "FunctionName") == Some(&function_ref))
                .map(|(alarm_id, _)| alarm_id)
                .collect();
            assert_eq!(found.len(), 1, "{id}: one {wanted} alarm, found {found:?}");
            let alarm = resources.get(found[0]).unwrap();
            assert_eq!(str_at(props(alarm), &["Statistic"]), Some("Sum"));
            assert_eq!(
                props(alarm).get("Threshold").and_then(Value::as_u64),
                Some(1),
                "{}: the first one counts",
                found[0]
            );
        }
    }
}

#[test]
fn every_queue_has_a_depth_alarm() {
    let template = template();
    let queues = resources_of_type(&template, "AWS::SQS::Queue");
    assert_eq!(queues.len(), 2, "the two failure queues");
    for (queue, _) in queues {
        let name: Value =
            serde_yaml::from_str(&format!("Fn::GetAtt: [{queue}, QueueName]")).unwrap();
        let found = alarms(&template)
            .into_iter()
            .filter(|(_, a)| {
                metric(a) == (Some("AWS/SQS"), Some("ApproximateNumberOfMessagesVisible"))
            })
            .filter(|(_, a)| dimension(a, "QueueName") == Some(&name))
            .count();
        assert_eq!(found, 1, "{queue}: one depth alarm");
    }
}

/// Whether any source file under `dir` holds `needle`.
fn source_holds(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .any(|entry| {
            let path = entry.path();
            if path.is_dir() {
                source_holds(&path, needle)
            } else {
                path.extension().is_some_and(|e| e == "rs")
                    && std::fs::read_to_string(&path).is_ok_and(|t| t.contains(needle))
            }
        })
}

/// The schedule expressions of a function's `Schedule` events.
fn schedules(function: &Value) -> Vec<&str> {
    props(function)
        .get("Events")
        .and_then(Value::as_mapping)
        .map(|events| {
            events
                .values()
                .filter(|e| str_at(e, &["Type"]) == Some("Schedule"))
                .filter_map(|e| str_at(e, &["Properties", "Schedule"]))
                .collect()
        })
        .unwrap_or_default()
}

/// Jobs always end (SPEC Q6): the export job runs from the stream and from a schedule that
/// sweeps the jobs left queued or stopped, as often as the referral deliveries are swept.
#[test]
fn the_export_job_is_swept_on_a_schedule() {
    let template = template();
    let resources = template.get("Resources").unwrap();
    let job = resources.get("OrgReportEmailJobFunction").unwrap();
    let delivery = resources.get("ReferralDeliveryFunction").unwrap();
    assert_eq!(schedules(job), vec!["rate(5 minutes)"]);
    assert_eq!(schedules(job), schedules(delivery));
    let event_types: BTreeSet<&str> = props(job)
        .get("Events")
        .and_then(Value::as_mapping)
        .unwrap()
        .values()
        .filter_map(|e| str_at(e, &["Type"]))
        .collect();
    assert_eq!(event_types, BTreeSet::from(["DynamoDB", "Schedule"]));
}

#[test]
fn the_export_job_has_reserved_concurrency_and_lag_and_failure_alarms() {
    let template = template();
    let resources = template.get("Resources").unwrap();
    let job = resources.get("OrgReportEmailJobFunction").unwrap();
    assert_eq!(
        props(job).get("ReservedConcurrentExecutions"),
        Some(&reference("ExportJobConcurrency"))
    );
    let job_ref = reference("OrgReportEmailJobFunction");
    let lag = alarms(&template)
        .into_iter()
        .filter(|(_, a)| metric(a) == (Some("AWS/Lambda"), Some("IteratorAge")))
        .filter(|(_, a)| dimension(a, "FunctionName") == Some(&job_ref))
        .count();
    assert_eq!(lag, 1, "one alarm on the job's stream lag");

    // Failed jobs are counted from the job's log by the line the code writes for them.
    let filters = resources_of_type(&template, "AWS::Logs::MetricFilter");
    assert_eq!(filters.len(), 1);
    let (id, filter) = filters[0];
    assert_eq!(
        props(filter).get("LogGroupName"),
        Some(&reference("OrgReportEmailJobLogGroup")),
        "{id} reads the job's log"
    );
    let pattern = str_at(props(filter), &["FilterPattern"]).unwrap();
    let phrase = pattern
        .strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{id}: the pattern is one quoted phrase, not {pattern}"));
    assert!(
        source_holds(
            &repo_root().join("shared/domain/src"),
            &format!("\"{phrase}\"")
        ),
        "{id}: no log line of the domain says {phrase:?}"
    );
    let transformation = props(filter)
        .get("MetricTransformations")
        .and_then(Value::as_sequence)
        .and_then(|t| t.first())
        .unwrap();
    let namespace = transformation.get("MetricNamespace").unwrap();
    let name = str_at(transformation, &["MetricName"]).unwrap();
    let alarmed = alarms(&template)
        .into_iter()
        .filter(|(_, a)| {
            props(a).get("Namespace") == Some(namespace)
                && str_at(props(a), &["MetricName"]) == Some(name)
        })
        .count();
    assert_eq!(alarmed, 1, "one alarm on {name}");
}

/// The request headers `web/console/console.js` sets: the keys of its `headers` objects and
/// its `headers['...']` assignments.
fn console_request_headers() -> BTreeSet<String> {
    let path = repo_root().join("web/console/console.js");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| l.contains("headers")) {
        for (i, _) in line.match_indices(':') {
            let token = line[..i]
                .trim_end()
                .rsplit(|c: char| c.is_whitespace() || c == '{' || c == ',')
                .next()
                .unwrap_or_default()
                .trim_matches('\'');
            let is_header = token.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if is_header {
                out.insert(token.to_string());
            }
        }
        for (i, _) in line.match_indices("headers['") {
            let rest = &line[i + "headers['".len()..];
            if let Some(end) = rest.find('\'') {
                out.insert(rest[..end].to_string());
            }
        }
    }
    out
}

#[test]
fn the_http_api_serves_the_console_logs_access_and_throttles() {
    let template = template();
    let (_, api) = resources_of_type(&template, "AWS::Serverless::HttpApi")[0];
    // In the definition SAM adds the routes to (see the template for why not CorsConfiguration).
    assert!(props(api).get("CorsConfiguration").is_none());
    let cors = props(api)
        .get("DefinitionBody")
        .and_then(|b| b.get("x-amazon-apigateway-cors"))
        .expect("CORS in the API's definition");
    let origins: Value = serde_yaml::from_str("Fn::Split: [\",\", {Ref: AllowedOrigins}]").unwrap();
    assert_eq!(
        cors.get("allowOrigins"),
        Some(&origins),
        "the origins of the parameter"
    );
    assert_eq!(
        str_at(&template, &["Parameters", "AllowedOrigins", "Type"]),
        Some("String"),
        "a comma-separated string, split in the definition"
    );
    let list = |key: &str| -> BTreeSet<String> {
        cors.get(key)
            .and_then(Value::as_sequence)
            .unwrap_or_else(|| panic!("x-amazon-apigateway-cors.{key}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_ascii_lowercase())
            .collect()
    };
    let methods: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| r.method.to_ascii_lowercase())
        .collect();
    assert_eq!(list("allowMethods"), methods, "the route table's methods");
    let sent = console_request_headers();
    assert_eq!(
        sent,
        ["Accept", "Authorization", "Content-Type", "Idempotency-Key"]
            .map(String::from)
            .into(),
        "the console's headers as this test reads them"
    );
    // Accept is CORS-safelisted; the others need the preflight's consent (Content-Type too, as
    // application/json is not one of the safelisted types).
    let needed: BTreeSet<String> = sent
        .iter()
        .filter(|h| *h != "Accept")
        .map(|h| h.to_ascii_lowercase())
        .collect();
    assert_eq!(list("allowHeaders"), needed);

    let access = props(api).get("AccessLogSettings").expect("access logs");
    let group = access
        .get("DestinationArn")
        .and_then(|d| d.get("Fn::GetAtt"))
        .and_then(Value::as_sequence)
        .and_then(|s| s.first())
        .and_then(Value::as_str)
        .expect("DestinationArn is the Arn of a log group of the template");
    let log_group = template.get("Resources").unwrap().get(group).unwrap();
    assert_eq!(str_at(log_group, &["Type"]), Some("AWS::Logs::LogGroup"));
    assert_eq!(
        props(log_group).get("RetentionInDays"),
        Some(&reference("LogRetentionDays"))
    );
    let format: serde_json::Value =
        serde_json::from_str(str_at(access, &["Format"]).unwrap()).expect("a JSON line");
    for field in [
        "requestId",
        "routeKey",
        "status",
        "responseLatency",
        "integrationError",
    ] {
        assert!(format.get(field).is_some(), "access log field {field}");
    }

    let throttling = props(api)
        .get("DefaultRouteSettings")
        .expect("route throttling");
    assert_eq!(
        throttling.get("ThrottlingRateLimit"),
        Some(&reference("ApiThrottlingRateLimit"))
    );
    assert_eq!(
        throttling.get("ThrottlingBurstLimit"),
        Some(&reference("ApiThrottlingBurstLimit"))
    );
}

#[test]
fn the_dashboard_body_is_json_with_widgets() {
    let template = template();
    let dashboards = resources_of_type(&template, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1);
    let body = str_at(props(dashboards[0].1), &["DashboardBody", "Fn::Sub"]).unwrap();
    // Every ${...} substituted by a plain name, as CloudFormation would.
    let mut text = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        text.push_str("name");
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    let body: serde_json::Value = serde_json::from_str(&text).expect("the body is JSON");
    let widgets = body["widgets"].as_array().unwrap();
    assert!(widgets.len() >= 6, "{} widgets", widgets.len());
}

#[test]
fn the_ses_identity_and_sender_are_parameters() {
    let template = template();
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(env.get("SES_FROM"), Some(&reference("SesFromAddress")));
    let identities = resources_of_type(&template, "AWS::SES::EmailIdentity");
    assert_eq!(identities.len(), 1);
    let (id, identity) = identities[0];
    assert_eq!(
        str_at(identity, &["Condition"]),
        Some("StackOwnsSesIdentity"),
        "{id}"
    );
    let owns: Value =
        serde_yaml::from_str("Fn::Equals: [{Ref: CreateSesIdentity}, \"true\"]").unwrap();
    assert_eq!(
        template["Conditions"].get("StackOwnsSesIdentity"),
        Some(&owns),
        "the stack owns the identity when CreateSesIdentity is true"
    );
    assert_eq!(
        props(identity).get("EmailIdentity"),
        Some(&reference("SesIdentity"))
    );
    for parameter in [
        "SesIdentity",
        "SesFromAddress",
        "CreateSesIdentity",
        "SesConfigurationSet",
    ] {
        assert!(
            template["Parameters"].get(parameter).is_some(),
            "parameter {parameter}"
        );
    }
}
