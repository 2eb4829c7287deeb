//! The web console on the local run: the static files of `web/console/` (embedded in the
//! binary, so it needs nothing from the repository at run time) under `/console/`, `/`
//! redirecting there, and one development-only endpoint, `GET /console/identities`, that hands
//! the console a short-lived token per demo identity, minted with the local development key.
//!
//! The identities endpoint answers only a request addressed to the loopback name and port the
//! server is reached on (`localhost`, `127.0.0.1` or `[::1]`, see [`is_own_loopback_host`]):
//! a web page of another name that its DNS later points at 127.0.0.1 (DNS rebinding) is
//! same-origin with itself, not with the console, and its requests carry its own name, so it
//! gets a 403 instead of the tokens. The static files hold no secret and are served to any
//! Host.
//!
//! None of this is part of the API: it is not in the route table, the SAM template or the
//! OpenAPI document. Deployed, the same files are served by any static host and the console
//! asks for the API's base URL and a token from the platform's sign-in instead.

use crate::LocalApp;
use api::http::Problem;
use axum::body::Body;
use axum::response::Response;
use domain::auth::{Principal, Role};

/// The console's files: (name under `/console/`, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../web/console/index.html"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/console/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/console/console.js"),
    ),
];

/// Lifetime of the tokens the identities endpoint hands out.
pub const IDENTITY_TTL_SECONDS: i64 = 3600;

/// Whether `path` belongs to the console (checked before the route table).
pub fn handles(path: &str) -> bool {
    path == "/" || path == "/console" || path.starts_with("/console/")
}

/// One identity of the local sign-in.
pub struct Identity {
    pub label: &'static str,
    pub principal: Principal,
}

/// The demo identities: one per role of `demo_principals()` (but the ingest service), plus a
/// second practitioner to act as the specialist of a referral and the organisation admin of
/// another organisation (`acc-61`, the first account of `org-2` in the demo world).
pub fn identities() -> Vec<Identity> {
    let mut out: Vec<Identity> = local_adapters::demo::demo_principals()
        .into_iter()
        .filter(|p| p.role != Role::Service)
        .map(|principal| Identity {
            label: match principal.role {
                Role::PlatformAdmin => "Platform admin",
                Role::Practitioner => "Practitioner (referrer)",
                Role::Patient => "Patient",
                Role::OrgAdmin => "Organisation admin (org-1)",
                Role::OrgCoordinator => "Organisation coordinator (org-1)",
                Role::OrgReporter => "Organisation reporter (org-1)",
                Role::ClinicAdmin => "Clinic admin (clinic-1)",
                Role::Service => "Service",
            },
            principal,
        })
        .collect();
    let p = |sub: &str, role: Role, orgs: &[&str]| Principal {
        sub: sub.to_string(),
        role,
        orgs: orgs.iter().map(|s| s.to_string()).collect(),
        clinics: Vec::new(),
    };
    out.insert(
        2,
        Identity {
            label: "Practitioner (specialist)",
            principal: p("prac-2", Role::Practitioner, &[]),
        },
    );
    out.push(Identity {
        label: "Organisation admin (org-2)",
        principal: p("acc-61", Role::OrgAdmin, &["org-2"]),
    });
    out
}

/// Serves a console path (see [`handles`]) of a request addressed to `host` (the authority of
/// its target, else its Host header).
pub fn serve(app: &LocalApp, method: &str, path: &str, host: Option<&str>) -> Response {
    if method != "GET" && method != "HEAD" {
        return plain(405, "method not allowed");
    }
    if path == "/" || path == "/console" {
        return Response::builder()
            .status(302)
            .header("location", "/console/")
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty()));
    }
    let name = path.trim_start_matches("/console/");
    if name == "identities" {
        if !host.is_some_and(|h| is_own_loopback_host(h, app.port)) {
            return foreign_host();
        }
        return identities_answer(app);
    }
    let name = if name.is_empty() { "index.html" } else { name };
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => Response::builder()
            .status(200)
            .header("content-type", *content_type)
            .header("cache-control", "no-store")
            .header("x-content-type-options", "nosniff")
            .header(
                "content-security-policy",
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            )
            .body(Body::from(*bytes))
            .unwrap_or_else(|_| Response::new(Body::empty())),
        None => plain(404, "no such console file"),
    }
}

/// Whether `host` (a Host header's value) names this server's loopback address: `localhost`
/// (any case), `127.0.0.1` or `[::1]`, with `port` (a Host without a port means 80).
pub fn is_own_loopback_host(host: &str, port: u16) -> bool {
    let (name, rest) = match host.find(']') {
        Some(end) if host.starts_with('[') => host.split_at(end + 1),
        _ => host.split_at(host.find(':').unwrap_or(host.len())),
    };
    let loopback = name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "[::1]";
    let named_port = match rest {
        "" => Some(80),
        _ => rest
            .strip_prefix(':')
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u16>().ok()),
    };
    loopback && named_port == Some(port)
}

fn foreign_host() -> Response {
    tracing::warn!(
        route = "/console/identities",
        status = 403,
        reason = "not addressed to the server's loopback name and port",
        "request denied"
    );
    let mut problem = Problem::new(
        403,
        "foreign-host",
        "Forbidden",
        "the identities are handed out only to requests addressed to this server's loopback \
         address (localhost, 127.0.0.1 or [::1] with its port)",
    );
    problem.field = Some("Host".into());
    api::problem(problem)
}

fn identities_answer(app: &LocalApp) -> Response {
    let now = app.deps.clock.now().timestamp();
    let items: Vec<serde_json::Value> = identities()
        .into_iter()
        .map(|i| {
            serde_json::json!({
                "label": i.label,
                "role": i.principal.role.as_str(),
                "sub": i.principal.sub,
                "orgs": i.principal.orgs,
                "clinics": i.principal.clinics,
                "token": app.dev_key.mint(&i.principal, now, IDENTITY_TTL_SECONDS),
            })
        })
        .collect();
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::from(
            serde_json::json!({ "identities": items, "ttl_seconds": IDENTITY_TTL_SECONDS })
                .to_string(),
        ))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn plain(status: u16, text: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Body::from(text))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataDir;

    fn app() -> (LocalApp, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "console-unit-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let app =
            LocalApp::open_default(&DataDir::new(&dir), "http://127.0.0.1:1").expect("local app");
        (app, dir)
    }

    async fn body(resp: Response) -> Vec<u8> {
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec()
    }

    #[tokio::test]
    async fn serves_the_files_redirects_the_root_and_refuses_the_rest() {
        let (app, dir) = app();
        let root = serve(&app, "GET", "/", None);
        assert_eq!(root.status(), 302);
        assert_eq!(root.headers()["location"], "/console/");
        let index = serve(&app, "GET", "/console/", None);
        assert_eq!(index.status(), 200);
        assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
        assert!(String::from_utf8(body(index).await)
            .expect("utf-8")
            .contains("<script src=\"console.js\" defer></script>"));
        let js = serve(&app, "GET", "/console/console.js", None);
        assert_eq!(
            js.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            serve(&app, "GET", "/console/../Cargo.toml", None).status(),
            404
        );
        assert_eq!(serve(&app, "GET", "/console/nope.js", None).status(), 404);
        assert_eq!(
            serve(&app, "POST", "/console/identities", Some("127.0.0.1:1")).status(),
            405
        );
        assert!(!handles("/consoles"));
        assert!(!handles("/health"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn identities_carry_tokens_of_their_principals_for_an_hour() {
        let (app, dir) = app();
        let resp = serve(&app, "GET", "/console/identities", Some("127.0.0.1:1"));
        assert_eq!(resp.status(), 200);
        let json: serde_json::Value = serde_json::from_slice(&body(resp).await).expect("json");
        assert_eq!(json["ttl_seconds"], 3600);
        let items = json["identities"].as_array().expect("list");
        let now = app.deps.clock.now().timestamp();
        let mut seen = Vec::new();
        for item in items {
            let token = item["token"].as_str().expect("token");
            let claims = app.dev_key.verify(token, now).expect("valid token");
            let principal = Principal::from_claims(&claims).expect("principal");
            assert_eq!(principal.sub, item["sub"]);
            assert_eq!(principal.role.as_str(), item["role"]);
            assert!(app.dev_key.verify(token, now + 3601).is_err(), "expires");
            seen.push(format!(
                "{}:{}:{}",
                principal.role.as_str(),
                principal.sub,
                principal.orgs.join(",")
            ));
        }
        assert_eq!(
            seen,
            [
                "platform_admin:admin-1:",
                "practitioner:prac-1:",
                "practitioner:prac-2:",
                "patient:pat-1:",
                "org_admin:acc-1:org-1",
                "org_coordinator:acc-2:org-1",
                "org_reporter:acc-3:org-1",
                "clinic_admin:acc-4:",
                "org_admin:acc-61:org-2",
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn only_the_loopback_names_with_the_served_port_are_its_own_host() {
        for host in [
            "localhost:8080",
            "LocalHost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
        ] {
            assert!(is_own_loopback_host(host, 8080), "{host}");
        }
        for host in [
            "evil.example:8080",
            "localhost.evil.example:8080",
            "127.0.0.1.nip.io:8080",
            "localhost:8081",
            "localhost",
            "localhost:",
            "localhost:+8080",
            "127.0.0.2:8080",
            "[::1]",
            "[::2]:8080",
            "0.0.0.0:8080",
            "",
        ] {
            assert!(!is_own_loopback_host(host, 8080), "{host}");
        }
        assert!(is_own_loopback_host("localhost", 80));
        assert!(is_own_loopback_host("[::1]", 80));
    }

    /// The console and its identities endpoint belong to the local run only: no route of the
    /// table, the SAM template or the OpenAPI document names them.
    #[test]
    fn the_console_is_no_route_of_the_api() {
        assert!(api::routes::ROUTES
            .iter()
            .all(|r| !r.path.starts_with("/console") && r.path != "/"));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for file in ["template.yaml", "docs/openapi.yaml"] {
            let text = std::fs::read_to_string(root.join(file)).expect(file);
            assert!(!text.contains("/console"), "{file} names the console");
            assert!(
                !text.contains("identities"),
                "{file} names the identities endpoint"
            );
        }
    }
}
