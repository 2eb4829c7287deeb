//! The HTTP layer: every HTTP function ([`functions`]) with its endpoints and handler, the one
//! axum [`router::router`] that serves them with the same layers everywhere, and
//! [`lambda::run`], which serves a function's endpoints in Lambda through `lambda_http`. The
//! local server serves [`functions::ALL`] on the same Router.

pub mod function;
pub mod functions;
pub mod http;
pub mod lambda;
pub mod router;
pub mod routes;
pub mod tab;

pub use function::{Endpoint, Function};
pub use router::{problem, router, Edge};
