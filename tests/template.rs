//! `template.yaml` held to the code: its HTTP routes are exactly `domain::routes::ROUTES`
//! (same method, path, function and authorizer), its functions are exactly the crates under
//! `functions/`, and its table has the key, index and TTL names the DynamoDB adapter uses.
//!
//! The template is read with a plain YAML parser, which is why it spells intrinsic functions
//! long-form (`Ref:`, `Fn::GetAtt:`) rather than with `!Ref` tags.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use api::routes::ROUTES;
use serde_yaml::Value;

/// What a route answers to: (METHOD, path).
type Endpoint = (String, String);

/// A DynamoDB key schema as (attribute, HASH or RANGE) pairs, in order.
type KeySchema = Vec<(String, String)>;

/// A secondary index as its key schema and projection type.
type IndexShape<'a> = (KeySchema, Option<&'a str>);

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn template() -> Value {
    let path = repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not plain YAML: {e}"))
}

pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
}

/// `(logical id, resource)` for every resource of the given type.
pub(crate) fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template
        .get("Resources")
        .and_then(Value::as_mapping)
        .expect("template.yaml has a Resources mapping")
        .iter()
        .filter(|(_, resource)| str_at(resource, &["Type"]) == Some(kind))
        .map(|(id, resource)| (id.as_str().expect("logical ids are strings"), resource))
        .collect()
}

/// `ingest-http` -> `IngestHttp`.
fn pascal_case(name: &str) -> String {
    name.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A function of the template, as the build sees it.
pub(crate) struct TemplateFunction<'a> {
    pub(crate) logical_id: &'a str,
    /// `Metadata.BuildProperties.Binary`: the crate's package name.
    pub(crate) binary: &'a str,
    pub(crate) resource: &'a Value,
}

pub(crate) fn functions(template: &Value) -> Vec<TemplateFunction<'_>> {
    resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(logical_id, resource)| TemplateFunction {
            logical_id,
            binary: str_at(resource, &["Metadata", "BuildProperties", "Binary"])
                .unwrap_or_else(|| panic!("{logical_id} has no Metadata.BuildProperties.Binary")),
            resource,
        })
        .collect()
}

/// One `HttpApi` event of a function.
struct TemplateRoute<'a> {
    function: &'a str,
    method: &'a str,
    path: &'a str,
    /// `Auth.Authorizer` when the event names one; otherwise the API's default applies.
    authorizer: Option<&'a str>,
    api_id: Option<&'a str>,
}

fn template_routes(template: &Value) -> Vec<TemplateRoute<'_>> {
    let mut routes = Vec::new();
    for function in functions(template) {
        let Some(events) = function
            .resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (name, event) in events {
            if str_at(event, &["Type"]) != Some("HttpApi") {
                continue;
            }
            let location = format!(
                "{}.Events.{}",
                function.logical_id,
                name.as_str().unwrap_or("?")
            );
            routes.push(TemplateRoute {
                function: function.binary,
                method: str_at(event, &["Properties", "Method"])
                    .unwrap_or_else(|| panic!("{location} has no Method")),
                path: str_at(event, &["Properties", "Path"])
                    .unwrap_or_else(|| panic!("{location} has no Path")),
                authorizer: str_at(event, &["Properties", "Auth", "Authorizer"]),
                api_id: str_at(event, &["Properties", "ApiId", "Ref"]),
            });
        }
    }
    routes
}

/// The one HTTP API: its logical id, its default authorizer and the names of its JWT authorizers.
fn http_api(template: &Value) -> (&str, &str, BTreeSet<&str>) {
    let apis = resources_of_type(template, "AWS::Serverless::HttpApi");
    assert_eq!(
        apis.len(),
        1,
        "template.yaml declares exactly one AWS::Serverless::HttpApi"
    );
    let (id, api) = apis[0];
    let auth = api
        .get("Properties")
        .and_then(|p| p.get("Auth"))
        .unwrap_or_else(|| panic!("{id} has no Auth"));
    let default = str_at(auth, &["DefaultAuthorizer"])
        .unwrap_or_else(|| panic!("{id} has no Auth.DefaultAuthorizer"));
    let jwt = auth
        .get("Authorizers")
        .and_then(Value::as_mapping)
        .map(|authorizers| {
            authorizers
                .iter()
                .filter(|(_, a)| a.get("JwtConfiguration").is_some())
                .filter_map(|(name, _)| name.as_str())
                .collect()
        })
        .unwrap_or_default();
    (id, default, jwt)
}

#[test]
fn template_routes_equal_the_route_table() {
    let template = template();
    let routes = template_routes(&template);

    let mut in_template: BTreeMap<Endpoint, &str> = BTreeMap::new();
    for route in &routes {
        assert_eq!(
            route.method,
            route.method.to_ascii_uppercase(),
            "{} {}: methods are upper-case in template.yaml",
            route.method,
            route.path
        );
        let previous = in_template.insert(
            (route.method.to_string(), route.path.to_string()),
            route.function,
        );
        assert!(
            previous.is_none(),
            "{} {} is declared twice in template.yaml",
            route.method,
            route.path
        );
    }

    let mut in_code: BTreeMap<Endpoint, &str> = BTreeMap::new();
    for route in ROUTES.iter() {
        let previous = in_code.insert(
            (route.method.to_string(), route.path.to_string()),
            route.function,
        );
        assert!(
            previous.is_none(),
            "{} {} is listed twice in domain::routes::ROUTES",
            route.method,
            route.path
        );
    }

    let describe = |routes: &BTreeMap<Endpoint, &str>, other: &BTreeMap<Endpoint, &str>| {
        routes
            .iter()
            .filter(|(endpoint, function)| other.get(*endpoint) != Some(*function))
            .map(|((method, path), function)| format!("{method} {path} -> {function}"))
            .collect::<Vec<_>>()
    };
    let only_in_code = describe(&in_code, &in_template);
    let only_in_template = describe(&in_template, &in_code);
    assert!(
        only_in_code.is_empty() && only_in_template.is_empty(),
        "template.yaml and domain::routes::ROUTES disagree.\n\
         In ROUTES, not in the template (add an HttpApi event to the function): {only_in_code:#?}\n\
         In the template, not in ROUTES: {only_in_template:#?}"
    );
}

#[test]
fn public_routes_opt_out_of_the_jwt_authorizer_and_all_others_use_it() {
    let template = template();
    let (api_id, default_authorizer, jwt_authorizers) = http_api(&template);
    assert!(
        jwt_authorizers.contains(default_authorizer),
        "the HTTP API's default authorizer {default_authorizer} must be a JWT authorizer"
    );

    let routes = template_routes(&template);
    for route in ROUTES.iter() {
        let Some(declared) = routes
            .iter()
            .find(|r| r.method == route.method && r.path == route.path)
        else {
            // Reported by template_routes_equal_the_route_table.
            continue;
        };
        let endpoint = format!("{} {}", route.method, route.path);
        assert_eq!(
            declared.api_id,
            Some(api_id),
            "{endpoint}: the event needs `ApiId: Ref: {api_id}`, or SAM puts it on an implicit API with no authorizer"
        );
        let effective = declared.authorizer.unwrap_or(default_authorizer);
        if route.roles.is_empty() {
            assert_eq!(
                effective, "NONE",
                "{endpoint} is public in ROUTES: its event needs `Auth: Authorizer: NONE`"
            );
        } else {
            assert!(
                jwt_authorizers.contains(effective),
                "{endpoint} needs a token (roles {:?}) but its authorizer is {effective}",
                route.roles
            );
        }
    }
}

/// Package names of the crates under `functions/`, by directory.
fn function_crates() -> BTreeMap<String, String> {
    let dir = repo_root().join("functions");
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut crates = BTreeMap::new();
    for entry in entries {
        let path = entry.expect("a directory entry of functions/").path();
        let manifest = path.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
        let name = package_name(&text)
            .unwrap_or_else(|| panic!("{} has no [package] name", manifest.display()));
        let dir_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("crate directory names are UTF-8")
            .to_string();
        crates.insert(dir_name, name);
    }
    crates
}

/// The `name` of the `[package]` table of a Cargo manifest (a line scan: the manifests are
/// ours and keep `name = "..."` on one line).
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(value) = line
                .strip_prefix("name")
                .map(str::trim_start)
                .and_then(|rest| rest.strip_prefix('='))
            {
                return Some(value.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

#[test]
fn every_function_crate_is_in_the_template_and_nothing_else_is() {
    let template = template();
    let crates = function_crates();
    let packages: BTreeSet<&str> = crates.values().map(String::as_str).collect();
    let functions = functions(&template);

    for function in &functions {
        let id = function.logical_id;
        assert!(
            packages.contains(function.binary),
            "{id} builds binary {}, but no crate under functions/ has that package name (crates: {packages:?})",
            function.binary
        );
        assert_eq!(
            id,
            format!("{}Function", pascal_case(function.binary)),
            "logical id of the function built from {}",
            function.binary
        );
        assert_eq!(
            str_at(function.resource, &["Metadata", "BuildMethod"]),
            Some("rust-cargolambda"),
            "{id}: Metadata.BuildMethod"
        );
        assert_eq!(
            str_at(function.resource, &["Properties", "CodeUri"]),
            Some("."),
            "{id}: CodeUri is the workspace root"
        );
    }

    let binaries: BTreeSet<&str> = functions.iter().map(|f| f.binary).collect();
    assert_eq!(
        binaries.len(),
        functions.len(),
        "two functions in template.yaml build the same binary"
    );
    let missing: Vec<_> = crates
        .iter()
        .filter(|(_, package)| !binaries.contains(package.as_str()))
        .map(|(dir, package)| format!("functions/{dir} ({package})"))
        .collect();
    assert!(
        missing.is_empty(),
        "crates under functions/ with no function in template.yaml: {missing:?}"
    );
}

#[test]
fn the_table_has_the_names_the_dynamodb_adapter_uses() {
    let template = template();
    // The table the functions are pointed at, not just any table.
    let table_id = str_at(
        &template,
        &[
            "Globals",
            "Function",
            "Environment",
            "Variables",
            "TABLE_NAME",
            "Ref",
        ],
    )
    .expect("Globals give every function TABLE_NAME as a Ref to the table");
    let table = template
        .get("Resources")
        .and_then(|r| r.get(table_id))
        .and_then(|t| t.get("Properties"))
        .unwrap_or_else(|| panic!("TABLE_NAME refers to {table_id}, which has no Properties"));

    let key_schema = |schema: &Value| -> KeySchema {
        schema
            .as_sequence()
            .expect("a KeySchema is a list")
            .iter()
            .map(|k| {
                (
                    str_at(k, &["AttributeName"])
                        .unwrap_or_default()
                        .to_string(),
                    str_at(k, &["KeyType"]).unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let pair = |hash: &str, range: &str| -> KeySchema {
        vec![
            (hash.to_string(), "HASH".to_string()),
            (range.to_string(), "RANGE".to_string()),
        ]
    };

    assert_eq!(
        key_schema(table.get("KeySchema").expect("the table has a KeySchema")),
        pair("pk", "sk")
    );

    let indexes: BTreeMap<&str, IndexShape> = table
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .expect("the table has GlobalSecondaryIndexes")
        .iter()
        .map(|index| {
            (
                str_at(index, &["IndexName"]).expect("an index has a name"),
                (
                    key_schema(index.get("KeySchema").expect("an index has a KeySchema")),
                    str_at(index, &["Projection", "ProjectionType"]),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<&str, IndexShape> = [
        ("gsi1", (pair("gsi1pk", "gsi1sk"), Some("ALL"))),
        ("gsi2", (pair("gsi2pk", "gsi2sk"), Some("ALL"))),
    ]
    .into_iter()
    .collect();
    assert_eq!(indexes, expected, "secondary indexes");

    let attributes: BTreeMap<&str, &str> = table
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .expect("the table has AttributeDefinitions")
        .iter()
        .filter_map(|a| {
            Some((
                str_at(a, &["AttributeName"])?,
                str_at(a, &["AttributeType"])?,
            ))
        })
        .collect();
    let expected: BTreeMap<&str, &str> = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
        .into_iter()
        .map(|name| (name, "S"))
        .collect();
    assert_eq!(attributes, expected, "key attributes are all strings");

    assert_eq!(
        str_at(table, &["TimeToLiveSpecification", "AttributeName"]),
        Some("expires_at"),
        "TTL attribute"
    );
    assert_eq!(
        table
            .get("TimeToLiveSpecification")
            .and_then(|t| t.get("Enabled"))
            .and_then(Value::as_bool),
        Some(true),
        "TTL is enabled"
    );
}

#[test]
fn pascal_case_joins_words_of_a_package_name() {
    assert_eq!(pascal_case("ingest-http"), "IngestHttp");
    assert_eq!(pascal_case("health"), "Health");
    assert_eq!(
        package_name("[package]\nname = \"ingest-http\"\n[dependencies]\nname = \"x\"\n"),
        Some("ingest-http".to_string())
    );
}
