//! The admin reporting area (SPEC A1–A10): one tab per Lambda under `/admin/`, for the role
//! `platform_admin` only. Every tab is a [`tab::Tab`]: an indexed Query and a row builder;
//! [`tab`] serves its pages and its streamed CSV export, [`params`] parses the list
//! parameters once at the edge; the tag rules of the Feed and Consultations are the read
//! models' ([`crate::readmodels::tags`], named here as [`tags`]).

pub mod audit_trail;
pub mod calls;
pub mod consultations;
pub mod feed;
pub mod params;
pub mod payment_items;
pub mod payments;
pub mod practitioners;
pub mod ratings;
pub mod tab;
pub mod tags;
pub mod thread;
pub mod vouchers;

use crate::auth::{require, Principal, Role, Scope};
use crate::error::Error;

/// The roles of every admin route.
pub const ADMIN_ROLES: &[Role] = &[Role::PlatformAdmin];

/// The one check of every admin route: a platform admin. The admin area spans the whole
/// platform, so no object is out of a platform admin's scope.
pub fn authorize(caller: Option<&Principal>) -> Result<&Principal, Error> {
    require(caller, ADMIN_ROLES, Scope::Any)
}
