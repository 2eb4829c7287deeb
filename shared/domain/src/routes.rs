//! The one route table: every HTTP route of the API, the Lambda function that serves it and
//! the roles that may call it. The local server routes from it; tests hold `template.yaml`
//! (and the OpenAPI document) equal to it.

use crate::auth::Role;

/// One HTTP route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// API Gateway path template, parameters in braces: `/admin/threads/{thread_id}`.
    pub path: &'static str,
    /// The function crate (and SAM logical id stem) that serves it.
    pub function: &'static str,
    /// Roles allowed; empty means public (no token needed).
    pub roles: &'static [Role],
}

/// Foundation routes: health and ingest.
const FOUNDATION_ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/health",
        function: "health",
        roles: &[],
    },
    Route {
        method: "POST",
        path: "/ingest/events",
        function: "ingest-http",
        roles: &[Role::Service],
    },
];

/// Every route of the API: the foundation's and each feature's own table (a feature adds its
/// routes to its own slice in its own module, and that slice here).
pub static ROUTES: std::sync::LazyLock<Vec<Route>> = std::sync::LazyLock::new(|| {
    let features: &[&[Route]] = &[
        FOUNDATION_ROUTES,
        // ---- feature route tables (one line each) ----
        crate::admin::ROUTES,
        crate::org_reports::ROUTES,
        crate::org_reports::email::ROUTES,
        crate::referrals::ROUTES,
    ];
    features.iter().flat_map(|f| f.iter().copied()).collect()
});

/// Matches a concrete path against a template; returns the path parameters when it fits.
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut t = template.trim_end_matches('/').split('/');
    let mut p = path.trim_end_matches('/').split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) => {
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    let value = percent_encoding::percent_decode_str(ps)
                        .decode_utf8()
                        .ok()?
                        .into_owned();
                    params.push((name.to_string(), value));
                } else if ts != ps {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The route serving `method` and `path`, with its path parameters.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, Vec<(String, String)>)> {
    let routes: &'static [Route] = &ROUTES;
    routes.iter().find_map(|r| {
        if r.method.eq_ignore_ascii_case(method) {
            match_path(r.path, path).map(|params| (r, params))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_parameters_and_rejects_other_shapes() {
        assert_eq!(
            match_path("/a/{id}/b", "/a/x%20y/b"),
            Some(vec![("id".into(), "x y".into())])
        );
        assert_eq!(match_path("/a/{id}/b", "/a//b"), None);
        assert_eq!(match_path("/a/{id}", "/a/1/2"), None);
        assert_eq!(match_path("/health", "/health/"), Some(vec![]));
    }
}
