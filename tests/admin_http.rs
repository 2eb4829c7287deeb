//! The admin routes over HTTP on the local server: no token answers 401 before any function
//! runs, every other role 403, a platform admin 200; an export's link downloads the CSV
//! through the server's blob route.

#![allow(clippy::unwrap_used)]

use crate::support::app::TestServer;
use crate::support::TempDir;
use chrono::{TimeZone, Utc};
use domain::auth::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_over_http_check_token_and_role() {
    let dir = TempDir::new("admin-http");
    let now = Utc.with_ymd_and_hms(2026, 3, 5, 12, 0, 0).unwrap();
    let server = TestServer::start(dir.path(), now).await;
    let (base, client) = (&server.base, &server.client);
    let token =
        |role: Role| server.token_for(&format!("{role}-1"), role, &["org-1"], &["clinic-1"]);
    for route in api::routes::ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/admin/"))
    {
        let path = route
            .path
            .replace("{thread_id}", "thr_1")
            .replace("{practitioner_id}", "prac_a");
        let send = |t: Option<String>| {
            let mut req = client.request(route.method.parse().unwrap(), format!("{base}{path}"));
            if route.method == "PUT" {
                req = req
                    .header("content-type", "application/json")
                    .body(r#"{"availability":"away"}"#);
            }
            if let Some(t) = t {
                req = req.bearer_auth(t);
            }
            req.send()
        };
        assert_eq!(send(None).await.unwrap().status().as_u16(), 401, "{path}");
        for role in Role::ALL.into_iter().filter(|r| *r != Role::PlatformAdmin) {
            assert_eq!(
                send(Some(token(role))).await.unwrap().status().as_u16(),
                403,
                "{role} {path}"
            );
        }
        let status = send(Some(token(Role::PlatformAdmin)))
            .await
            .unwrap()
            .status()
            .as_u16();
        // An empty store: no such thread or practitioner; every list answers.
        let expected = if path.contains("thr_1") || route.method == "PUT" {
            404
        } else {
            200
        };
        assert_eq!(status, expected, "{path}");
    }
    // An export's link downloads the CSV (an empty list: the header alone, with the mark).
    let resp: serde_json::Value = client
        .get(format!("{base}/admin/vouchers/export"))
        .bearer_auth(token(Role::PlatformAdmin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["rows"], 0);
    let csv = client
        .get(resp["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert_eq!(
        csv.bytes().await.unwrap().as_ref(),
        "\u{feff}code,times_used,usage_limit,expires_at,created_at\r\n".as_bytes()
    );
}
