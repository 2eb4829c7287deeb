//! The route table: every endpoint of every HTTP function, with the function that serves it.
//! `template.yaml` and `docs/openapi.yaml` are held to it by the tests.

use crate::functions::ALL;
use domain::auth::Role;

/// One HTTP route and the function that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway path template, parameters in braces: `/admin/threads/{thread_id}`.
    pub path: &'static str,
    /// The function crate (and SAM logical id stem) that serves it.
    pub function: &'static str,
    /// Roles allowed; empty means public (no token needed).
    pub roles: &'static [Role],
}

/// Every route of the API, function by function.
pub static ROUTES: std::sync::LazyLock<Vec<Route>> = std::sync::LazyLock::new(|| {
    ALL.iter()
        .flat_map(|f| {
            f.endpoints.iter().map(|e| Route {
                method: e.method,
                path: e.path,
                function: f.name(),
                roles: e.roles,
            })
        })
        .collect()
});
