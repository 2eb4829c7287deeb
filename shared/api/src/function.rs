//! What an HTTP function is: its routes with the roles each admits, the ports it is built
//! with, and its handler. A function's Lambda serves its own routes; the local server serves
//! every function's ([`crate::functions::ALL`]).

use crate::http::{ApiRequest, HandlerResult};
use domain::auth::Role;
use domain::deps::{Deps, Wiring};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A handler's future.
pub type HandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// Parses and authorises a request, calls the domain and shapes the answer.
pub type Handler = fn(Arc<Deps>, ApiRequest) -> HandlerFuture;

/// One route of a function: method, API Gateway path template (parameters in braces, which
/// is also axum's syntax) and the roles allowed (empty: public, no token needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
}

impl Endpoint {
    pub const fn get(path: &'static str, roles: &'static [Role]) -> Endpoint {
        Endpoint {
            method: "GET",
            path,
            roles,
        }
    }
    pub const fn post(path: &'static str, roles: &'static [Role]) -> Endpoint {
        Endpoint {
            method: "POST",
            path,
            roles,
        }
    }
    pub const fn put(path: &'static str, roles: &'static [Role]) -> Endpoint {
        Endpoint {
            method: "PUT",
            path,
            roles,
        }
    }
    pub const fn delete(path: &'static str, roles: &'static [Role]) -> Endpoint {
        Endpoint {
            method: "DELETE",
            path,
            roles,
        }
    }
}

/// An HTTP function: the unit deployed as one Lambda (`functions/<name>`).
#[derive(Clone, Copy)]
pub struct Function {
    /// Its name (`wiring.name`) and the ports it is built with.
    pub wiring: Wiring,
    pub endpoints: &'static [Endpoint],
    pub handler: Handler,
}

impl Function {
    /// The function's name, as its crate and the SAM template call it (`admin-feed`).
    pub const fn name(&self) -> &'static str {
        self.wiring.name
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name())
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}
