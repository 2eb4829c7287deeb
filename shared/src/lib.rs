//! The shared library of the telehealth reporting and referral backend: domain, events,
//! read models, ports and their adapters, auth and the HTTP glue every Lambda uses.

pub mod adapters;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod demo;
pub mod deps;
pub mod events;
pub mod export;
pub mod http;
pub mod ids;
pub mod lambda;
pub mod org_reports;
pub mod ports;
pub mod readmodels;
pub mod referrals;
pub mod routes;
pub mod telemetry;
pub mod time;
