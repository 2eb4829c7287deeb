//! Least privilege, held to a declared list: every function's IAM statements in `template.yaml`
//! grant exactly the actions its code calls, on exactly the resources it touches ([`GRANTS`]).
//!
//! The list is read off the code, port call by port call, through the AWS adapters:
//! - DynamoDB (`aws_adapters::dynamo::DynamoStore`): `Store::get`/`get_lazy` → `GetItem`;
//!   `get_many` → `BatchGetItem`; `put` → `PutItem`; `add` → `UpdateItem`; `delete` →
//!   `DeleteItem`; `put_many` → `BatchWriteItem`; `query`/`query_lazy` → `Query` on the table
//!   (`Index::Primary`) or on `table/index/gsi1`, `gsi2`. `transact` is `TransactWriteItems`,
//!   which IAM authorises item by item as the underlying action: `PutItem` (`TxOp::Put`),
//!   `UpdateItem` (`TxOp::Add`), `DeleteItem` (`TxOp::Delete`), `ConditionCheckItem`
//!   (`TxOp::Check`).
//! - S3 (`aws_adapters::s3::S3Blobs`): `put`, and an upload's parts and completion →
//!   `PutObject`; an upload's abort → `AbortMultipartUpload`; `delete` → `DeleteObject`;
//!   `presign_get` → `GetObject` (the link carries the role's signature, so the role needs the
//!   permission when the link is fetched).
//! - SES (`aws_adapters::ses::SesMailer`): `ses:SendEmail` on the sending identity, and on the
//!   configuration set when one is given.
//!
//! What the code does with them, by function:
//! - ingest (`events::ingest`) reads items and `PARTY#` partitions of the table and writes
//!   transactions of puts, counter adds and condition checks; referral creation and both
//!   decisions land their thread events through it, so they carry its grants;
//! - admin tabs query their list on `gsi1` (and `gsi2` for one practitioner's calls or
//!   payments, or the practitioners by approval), read single items (thread, rating totals,
//!   tag counts), and export CSV to `exports/admin/<tab>/` with one audit record;
//! - organisation reports read the organisation's items, its lists on both indexes, the
//!   accounts' `LOGIN#` ranges on the table and the statistics items in batches; downloads and
//!   the export job stream workbooks to `reports/` (deleting one whose record could not be
//!   written) and record them; the history presigns those objects again, audited.
//!
//! A function whose only write is an audit record gets `PutItem` on `AUDIT#` partitions only
//! (`domain::audit::AuditRecord::partition`). A function with only `GET` routes and no blob
//! store gets no write at all.
//!
//! `template_iam_calls` runs every function over ports that record their calls as these
//! actions and holds each call to the function's grants.

#![allow(clippy::unwrap_used)]

use crate::template::{functions, resources_of_type, str_at, template};
use api::routes::ROUTES;
use domain::audit::AuditRecord;
use domain::deps::Wiring;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What one function may do.
struct Grants {
    /// Its package name (`admin-feed`).
    function: &'static str,
    /// DynamoDB actions on the table itself (items and `Query` on the primary key).
    table: &'static [&'static str],
    /// The secondary indexes it queries.
    indexes: &'static [&'static str],
    /// Whether it writes audit records and nothing else (`PutItem` on `AUDIT#*` partitions).
    audit_only: bool,
    /// S3 actions on the objects under one prefix of the reports bucket.
    objects: Option<(&'static str, &'static [&'static str])>,
    /// Any other grant, written as the test renders one (`action resource`).
    other: &'static [&'static str],
}

/// Ingest's reads and writes; the delete removes a practitioner's search words a new name no
/// longer has.
const INGEST: &[&str] = &[
    "GetItem",
    "Query",
    "PutItem",
    "UpdateItem",
    "ConditionCheckItem",
    "DeleteItem",
];
/// A referral step: ingest's grants (the delete also clears the step's delivery marker).
const REFERRAL_STEP: &[&str] = INGEST;
const EXPORT: &[&str] = &["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"];
const REPORT: &[&str] = &[
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
];
const BOTH_INDEXES: &[&str] = &["gsi1", "gsi2"];

const fn grants(function: &'static str) -> Grants {
    Grants {
        function,
        table: &[],
        indexes: &[],
        audit_only: false,
        objects: None,
        other: &[],
    }
}

/// An admin tab with its CSV export: its list on the indexes, an audit record per export.
const fn admin_tab(
    function: &'static str,
    table: &'static [&'static str],
    indexes: &'static [&'static str],
    prefix: &'static str,
) -> Grants {
    Grants {
        table,
        indexes,
        audit_only: true,
        objects: Some((prefix, EXPORT)),
        ..grants(function)
    }
}

/// Every function's grants (see the module documentation for how they are derived).
const GRANTS: &[Grants] = &[
    grants("health"),
    Grants {
        table: INGEST,
        ..grants("ingest-http")
    },
    Grants {
        table: INGEST,
        ..grants("ingest-events")
    },
    // The Feed reads the commitments item (A11); its pair threads and waiting lists are on gsi2.
    admin_tab(
        "admin-feed",
        &["GetItem"],
        BOTH_INDEXES,
        "exports/admin/feed/",
    ),
    Grants {
        table: &["GetItem", "Query"],
        ..grants("admin-thread")
    },
    // The overdue count beside the 14-day counts reads the Feed's waiting list (gsi2).
    admin_tab(
        "admin-consultations",
        &["GetItem"],
        BOTH_INDEXES,
        "exports/admin/consultations/",
    ),
    // A search reads each practitioner found (word index hit: totals or profile).
    admin_tab(
        "admin-calls",
        &["GetItem"],
        BOTH_INDEXES,
        "exports/admin/calls/",
    ),
    // The availability override writes the practitioner's items as well as its audit record.
    Grants {
        table: &["GetItem", "PutItem"],
        indexes: BOTH_INDEXES,
        objects: Some(("exports/admin/practitioners/", EXPORT)),
        ..grants("admin-practitioners")
    },
    admin_tab(
        "admin-ratings",
        &["GetItem"],
        &["gsi1"],
        "exports/admin/ratings/",
    ),
    admin_tab(
        "admin-payments",
        &["GetItem"],
        BOTH_INDEXES,
        "exports/admin/payments/",
    ),
    admin_tab(
        "admin-payment-items",
        &[],
        &["gsi1"],
        "exports/admin/payment-items/",
    ),
    admin_tab("admin-vouchers", &[], &["gsi1"], "exports/admin/vouchers/"),
    // The trail: an organisation's partition on the table (and whether it exists), every
    // record on gsi2, an actor's on gsi1; each read and export writes an audit record.
    admin_tab(
        "audit-trail",
        &["GetItem", "Query"],
        BOTH_INDEXES,
        "exports/admin/audit/",
    ),
    // A search reads the profile of each practitioner the word index finds.
    Grants {
        table: &["GetItem"],
        indexes: &["gsi1"],
        ..grants("referral-specialists")
    },
    Grants {
        table: REFERRAL_STEP,
        ..grants("referral-create")
    },
    Grants {
        table: REFERRAL_STEP,
        ..grants("referral-patient-decision")
    },
    Grants {
        table: REFERRAL_STEP,
        ..grants("referral-specialist-decision")
    },
    Grants {
        table: &["GetItem"],
        ..grants("referral-get")
    },
    Grants {
        table: REFERRAL_STEP,
        ..grants("referral-withdraw")
    },
    Grants {
        table: &["Query"],
        indexes: &["gsi1"],
        ..grants("admin-referral-ageing")
    },
    Grants {
        table: &["Query"],
        ..grants("referral-list")
    },
    Grants {
        table: &["GetItem", "PutItem"],
        indexes: &["gsi1"],
        ..grants("org-report-config")
    },
    Grants {
        table: &["GetItem", "BatchGetItem", "Query", "PutItem"],
        indexes: BOTH_INDEXES,
        objects: Some(("reports/", REPORT)),
        ..grants("org-report-download")
    },
    Grants {
        table: &["GetItem"],
        indexes: BOTH_INDEXES,
        audit_only: true,
        objects: Some(("reports/", &["s3:GetObject"])),
        ..grants("org-report-history")
    },
    Grants {
        table: &["GetItem", "BatchGetItem", "Query"],
        indexes: BOTH_INDEXES,
        ..grants("org-report-summary")
    },
    Grants {
        table: &["GetItem", "Query", "PutItem", "DeleteItem"],
        ..grants("org-report-email")
    },
    Grants {
        table: &["GetItem", "BatchGetItem", "Query", "PutItem"],
        indexes: BOTH_INDEXES,
        objects: Some(("reports/", REPORT)),
        other: &[
            "ses:SendEmail ses:identity/${SesIdentity}",
            "ses:SendEmail ses:configuration-set/${SesConfigurationSet} if HasSesConfigurationSet",
        ],
        ..grants("org-report-email-job")
    },
    Grants {
        table: REFERRAL_STEP,
        indexes: &["gsi1"],
        ..grants("referral-delivery")
    },
];

/// Every function's declared grants, rendered as the template's statements are, by package
/// name (what `template_iam_calls` holds the functions' calls to).
pub(crate) fn declared_grants() -> BTreeMap<&'static str, BTreeSet<String>> {
    GRANTS.iter().map(|g| (g.function, g.rendered())).collect()
}

/// DynamoDB actions that read.
const TABLE_READS: &[&str] = &["GetItem", "BatchGetItem", "Query"];

/// Where a `LeadingKeys` condition limits a statement: `on keys AUDIT#*`.
fn audit_condition() -> String {
    " on keys AUDIT#*".to_string()
}

impl Grants {
    /// The grants as the test renders the template's statements.
    fn rendered(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for action in self.table {
            out.insert(format!("dynamodb:{action} Table"));
        }
        for index in self.indexes {
            out.insert(format!("dynamodb:Query Table/index/{index}"));
        }
        if self.audit_only {
            out.insert(format!("dynamodb:PutItem Table{}", audit_condition()));
        }
        if let Some((prefix, actions)) = self.objects {
            for action in actions {
                out.insert(format!("{action} ReportsBucket/{prefix}*"));
            }
        }
        out.extend(self.other.iter().map(|g| g.to_string()));
        out
    }

    fn writes(&self) -> bool {
        self.audit_only
            || self.table.iter().any(|a| !TABLE_READS.contains(a))
            || self
                .objects
                .is_some_and(|(_, actions)| actions.iter().any(|a| *a != "s3:GetObject"))
    }

    fn mails(&self) -> bool {
        self.other.iter().any(|g| g.starts_with("ses:SendEmail "))
    }
}

fn declared(function: &str) -> &'static Grants {
    GRANTS
        .iter()
        .find(|g| g.function == function)
        .unwrap_or_else(|| panic!("{function} has no entry in GRANTS"))
}

/// The wiring of a function crate by its package name.
fn wiring_of(function: &str) -> Wiring {
    crate::support::wiring_of(function).unwrap_or_else(|| panic!("{function} has no WIRING"))
}

/// A statement's resource as the test writes it: `Table`, `Table/index/gsi1`,
/// `ReportsBucket/reports/*`, `ses:identity/${SesIdentity}`, `X if Condition`.
fn render_resource(value: &Value, at: &str) -> String {
    if let Some(text) = value.as_str() {
        return text.to_string();
    }
    if let Some(seq) = value.get("Fn::GetAtt").and_then(Value::as_sequence) {
        let parts: Vec<&str> = seq.iter().filter_map(Value::as_str).collect();
        assert_eq!(
            parts.get(1),
            Some(&"Arn"),
            "{at}: a resource by GetAtt is an Arn"
        );
        return parts[0].to_string();
    }
    if let Some(text) = value.get("Fn::Sub").and_then(Value::as_str) {
        let mut text = text.replace(
            "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:",
            "ses:",
        );
        for resource in ["Table", "ReportsBucket"] {
            text = text.replace(&format!("${{{resource}.Arn}}"), resource);
        }
        return text;
    }
    if let Some(branches) = value.get("Fn::If").and_then(Value::as_sequence) {
        assert_eq!(branches.len(), 3, "{at}: Fn::If has three parts");
        assert_eq!(
            str_at(&branches[2], &["Ref"]),
            Some("AWS::NoValue"),
            "{at}: a conditional resource is the resource or nothing"
        );
        let condition = branches[0].as_str().expect("a condition name");
        return format!("{} if {condition}", render_resource(&branches[1], at));
    }
    panic!("{at}: a resource the test cannot read: {value:?}");
}

/// One statement as `action resource[ on keys P]` lines.
fn render_statement(statement: &Value, at: &str) -> Vec<String> {
    assert_eq!(
        str_at(statement, &["Effect"]),
        Some("Allow"),
        "{at}: statements allow"
    );
    for key in statement
        .as_mapping()
        .expect("a statement is a mapping")
        .keys()
    {
        let key = key.as_str().unwrap_or_default();
        assert!(
            ["Sid", "Effect", "Action", "Resource", "Condition"].contains(&key),
            "{at}: unexpected {key} (NotAction, NotResource, Principal are not used)"
        );
    }
    let list = |v: &Value| -> Vec<Value> {
        match v.as_sequence() {
            Some(seq) => seq.clone(),
            None => vec![v.clone()],
        }
    };
    let actions: Vec<String> = list(statement.get("Action").expect("an Action"))
        .iter()
        .map(|a| a.as_str().expect("actions are strings").to_string())
        .collect();
    let resources: Vec<String> = list(statement.get("Resource").expect("a Resource"))
        .iter()
        .map(|r| render_resource(r, at))
        .collect();
    let condition = match statement.get("Condition") {
        None => String::new(),
        Some(condition) => {
            let keys = condition
                .get("ForAllValues:StringLike")
                .and_then(|c| c.get("dynamodb:LeadingKeys"))
                .and_then(Value::as_sequence)
                .unwrap_or_else(|| {
                    panic!("{at}: the only condition used is ForAllValues:StringLike on dynamodb:LeadingKeys")
                });
            assert_eq!(
                condition.as_mapping().map(|m| m.len()),
                Some(1),
                "{at}: one condition"
            );
            let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
            format!(" on keys {}", keys.join(","))
        }
    };
    let mut out = Vec::new();
    for action in &actions {
        assert!(!action.contains('*'), "{at}: {action}: no wildcard actions");
        for resource in &resources {
            out.push(format!("{action} {resource}{condition}"));
        }
    }
    out
}

/// Every function's grants in the template, rendered, by package name.
fn template_grants() -> BTreeMap<String, BTreeSet<String>> {
    let template = template();
    let mut out = BTreeMap::new();
    for function in functions(&template) {
        let id = function.logical_id;
        let mut grants = BTreeSet::new();
        let policies = function
            .resource
            .get("Properties")
            .and_then(|p| p.get("Policies"));
        for (i, policy) in policies
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let mapping = policy.as_mapping().unwrap_or_else(|| {
                panic!("{id}.Policies[{i}]: a managed policy by name grants more than this test can see")
            });
            assert!(
                mapping.len() == 1 && policy.get("Statement").is_some(),
                "{id}.Policies[{i}]: only inline statements (no SAM policy templates such as DynamoDBCrudPolicy)"
            );
            for (j, statement) in policy
                .get("Statement")
                .and_then(Value::as_sequence)
                .expect("Statement is a list")
                .iter()
                .enumerate()
            {
                let at = format!("{id}.Policies[{i}].Statement[{j}]");
                for grant in render_statement(statement, &at) {
                    assert!(grants.insert(grant.clone()), "{at}: {grant} granted twice");
                }
            }
        }
        assert!(
            str_at(function.resource, &["Properties", "Role"]).is_none(),
            "{id}: its role comes from its Policies, not a Role of its own"
        );
        out.insert(function.binary.to_string(), grants);
    }
    out
}

#[test]
fn each_function_is_granted_exactly_its_declared_actions() {
    let in_template = template_grants();
    let declared_names: BTreeSet<&str> = GRANTS.iter().map(|g| g.function).collect();
    let template_names: BTreeSet<&str> = in_template.keys().map(String::as_str).collect();
    assert_eq!(
        declared_names, template_names,
        "GRANTS names every function of template.yaml, once"
    );
    assert_eq!(
        GRANTS.len(),
        declared_names.len(),
        "a function twice in GRANTS"
    );
    let mut differences = Vec::new();
    for (function, granted) in &in_template {
        let wanted = declared(function).rendered();
        let extra: Vec<_> = granted.difference(&wanted).collect();
        let missing: Vec<_> = wanted.difference(granted).collect();
        if !extra.is_empty() || !missing.is_empty() {
            differences.push(format!(
                "{function}: granted but not declared {extra:?}; declared but not granted {missing:?}"
            ));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
}

#[test]
fn read_only_functions_have_no_write_action() {
    for function in api::functions::ALL {
        let name = function.name();
        let read_only =
            function.endpoints.iter().all(|e| e.method == "GET") && !function.wiring.has_blobs();
        assert_eq!(
            declared(name).writes(),
            !read_only,
            "{name}: only GET routes and no exports = {read_only}, so it writes = {}",
            !read_only
        );
    }
    let read_only: Vec<&str> = GRANTS
        .iter()
        .filter(|g| !g.writes())
        .map(|g| g.function)
        .collect();
    assert_eq!(
        read_only,
        [
            "health",
            "admin-thread",
            "referral-specialists",
            "referral-get",
            "admin-referral-ageing",
            "referral-list",
            "org-report-summary"
        ]
    );
    assert!(
        declared("health").rendered().is_empty(),
        "health touches nothing"
    );
}

#[test]
fn object_and_mail_grants_follow_the_wiring() {
    let template = template();
    let lifecycle_prefixes: Vec<String> = resources_of_type(&template, "AWS::S3::Bucket")
        .iter()
        .filter(|(id, _)| *id == "ReportsBucket")
        .flat_map(|(_, bucket)| {
            bucket
                .get("Properties")
                .and_then(|p| p.get("LifecycleConfiguration"))
                .and_then(|l| l.get("Rules"))
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|rule| str_at(&rule, &["Prefix"]).map(str::to_string))
        .collect();
    assert!(
        !lifecycle_prefixes.is_empty(),
        "ReportsBucket expires its objects by prefix"
    );

    for grants in GRANTS {
        let name = grants.function;
        let wiring = wiring_of(name);
        assert_eq!(
            grants.objects.is_some(),
            wiring.has_blobs(),
            "{name}: S3 grants if and only if the blob store is wired"
        );
        assert_eq!(
            grants.mails(),
            wiring.has_mailer(),
            "{name}: ses:SendEmail if and only if the mailer is wired"
        );
        let Some((prefix, _)) = grants.objects else {
            continue;
        };
        assert!(
            lifecycle_prefixes
                .iter()
                .any(|p| prefix.starts_with(p.as_str())),
            "{name}: objects under {prefix} are under no lifecycle rule of {lifecycle_prefixes:?}"
        );
        // An admin tab exports under its own name, which is its route's: /admin/<tab>/export.
        let exports: Vec<String> = ROUTES
            .iter()
            .filter(|r| r.function == name && r.path.ends_with("/export"))
            .filter_map(|r| {
                r.path
                    .strip_prefix("/admin/")
                    .and_then(|p| p.strip_suffix("/export"))
                    .map(|tab| format!("exports/admin/{tab}/"))
            })
            .collect();
        let expected = match exports.as_slice() {
            [one] => one.clone(),
            [] => "reports/".to_string(),
            more => panic!("{name} exports several tabs: {more:?}"),
        };
        assert_eq!(prefix, expected, "{name}: the prefix of its objects");
    }
}

#[test]
fn audit_only_writes_match_the_audit_partition() {
    // The condition `dynamodb:LeadingKeys AUDIT#*` lets through exactly the audit records'
    // partitions, whatever their scope.
    for scope in ["PLATFORM", "ORG#org-1", "REFERRAL#ref-1"] {
        let partition = AuditRecord::partition(scope);
        assert!(
            partition.starts_with("AUDIT#"),
            "audit records of {scope} are stored under {partition}"
        );
    }
    let audit_only: Vec<&str> = GRANTS
        .iter()
        .filter(|g| g.audit_only)
        .map(|g| g.function)
        .collect();
    assert_eq!(
        audit_only,
        [
            "admin-feed",
            "admin-consultations",
            "admin-calls",
            "admin-ratings",
            "admin-payments",
            "admin-payment-items",
            "admin-vouchers",
            "audit-trail",
            "org-report-history"
        ]
    );
    for grants in GRANTS.iter().filter(|g| g.audit_only) {
        assert!(
            !grants.table.contains(&"PutItem"),
            "{}: audit-only and an unrestricted PutItem",
            grants.function
        );
    }
}

#[test]
fn renders_resources_as_declared() {
    let sub = |s: &str| -> Value { serde_yaml::from_str(&format!("Fn::Sub: \"{s}\"")).unwrap() };
    assert_eq!(
        render_resource(&sub("${Table.Arn}/index/gsi2"), "t"),
        "Table/index/gsi2"
    );
    assert_eq!(
        render_resource(&sub("${ReportsBucket.Arn}/reports/*"), "t"),
        "ReportsBucket/reports/*"
    );
    let ses: Value = serde_yaml::from_str(
        "Fn::If: [HasSet, {\"Fn::Sub\": \"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${S}\"}, {Ref: AWS::NoValue}]",
    )
    .unwrap();
    assert_eq!(
        render_resource(&ses, "t"),
        "ses:configuration-set/${S} if HasSet"
    );
    let statement: Value = serde_yaml::from_str(
        "{Effect: Allow, Action: [dynamodb:PutItem], Resource: {\"Fn::GetAtt\": [Table, Arn]}, \
         Condition: {\"ForAllValues:StringLike\": {\"dynamodb:LeadingKeys\": [\"AUDIT#*\"]}}}",
    )
    .unwrap();
    assert_eq!(
        render_statement(&statement, "t"),
        [format!("dynamodb:PutItem Table{}", audit_condition())]
    );
}
