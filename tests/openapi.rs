//! The API contract (SPEC Q5): `docs/openapi.yaml` is an OpenAPI 3.1 document that describes
//! exactly the routes of `domain::routes::ROUTES` — no route missing on either side, the same
//! roles (`x-roles`) and function (`x-function`) — and every operation states its path
//! parameters, its JSON body (for POST and PUT, with the 413 of the body limit), its problem
//! answers (401 and 403 when protected), and a bearer security requirement exactly when it is
//! protected.

#![allow(clippy::unwrap_used)]

use api::routes::ROUTES;
use serde_yaml::Value;
use std::collections::BTreeMap;

fn document() -> Value {
    let path = crate::support::workspace_root().join("docs/openapi.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("a list: {v:?}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_openapi_document_describes_exactly_the_route_table() {
    let doc = document();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "OpenAPI 3.1"
    );
    // (METHOD, path) → (function, sorted roles), from each side.
    let mut table = BTreeMap::new();
    for r in ROUTES.iter() {
        let mut roles: Vec<String> = r.roles.iter().map(|x| x.as_str().to_string()).collect();
        roles.sort();
        let dup = table.insert(
            (r.method.to_string(), r.path.to_string()),
            (r.function.to_string(), roles),
        );
        assert!(dup.is_none(), "{} {} twice in the table", r.method, r.path);
    }
    let mut described = BTreeMap::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for (method, op) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap().to_uppercase();
            let mut roles = strings(&op["x-roles"]);
            roles.sort();
            let function = op["x-function"].as_str().unwrap().to_string();
            described.insert(
                (method.clone(), path.to_string()),
                (function, roles.clone()),
            );

            let at = format!("{method} {path}");
            // Path parameters: exactly those of the template, required.
            let mut in_path: Vec<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_string)
                .collect();
            in_path.sort();
            let mut declared: Vec<String> = op["parameters"]
                .as_sequence()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .inspect(|p| assert_eq!(p["required"], true, "{at}"))
                        .map(|p| p["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            declared.sort();
            assert_eq!(declared, in_path, "{at}: path parameters");

            let responses = op["responses"].as_mapping().unwrap();
            let has = |code: &str| responses.contains_key(Value::String(code.into()));
            assert!(
                responses
                    .keys()
                    .any(|k| k.as_str().unwrap().starts_with('2')),
                "{at}: a success answer"
            );
            let protected = !roles.is_empty();
            assert_eq!(has("401"), protected, "{at}: 401 exactly when protected");
            assert_eq!(has("403"), protected, "{at}: 403 exactly when protected");
            let security = op["security"].as_sequence().unwrap();
            assert_eq!(!security.is_empty(), protected, "{at}: security");
            if method == "POST" || method == "PUT" {
                assert!(
                    op["requestBody"]["content"]["application/json"]["schema"].is_mapping(),
                    "{at}: a JSON body"
                );
                assert!(has("413"), "{at}: the body limit");
            }
            for (code, answer) in responses {
                let code = code.as_str().unwrap();
                if code.starts_with('4') || code.starts_with('5') {
                    assert_eq!(
                        answer["$ref"].as_str().unwrap(),
                        format!("#/components/responses/P{code}"),
                        "{at}: {code} is a problem body"
                    );
                }
            }
        }
    }
    for (key, value) in &table {
        assert_eq!(
            described.get(key),
            Some(value),
            "{} {}: in the route table, missing or different in docs/openapi.yaml",
            key.0,
            key.1
        );
    }
    for key in described.keys() {
        assert!(
            table.contains_key(key),
            "{} {}: in docs/openapi.yaml, not in the route table",
            key.0,
            key.1
        );
    }
    // Every problem answer the operations name exists, as application/problem+json.
    let problems = doc["components"]["responses"].as_mapping().unwrap();
    for (name, answer) in problems {
        assert!(
            answer["content"]["application/problem+json"]["schema"]["$ref"]
                == "#/components/schemas/Problem",
            "{name:?}"
        );
    }
    eprintln!("openapi: {} routes described", described.len());
}
