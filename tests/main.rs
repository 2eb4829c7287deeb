//! The integration-test binary: declares the scenario modules, nothing else.
mod admin;
mod admin_demo;
mod admin_http;
mod admin_ingest;
mod contract;
mod demo;
mod events;
mod hardening;
mod hardening_exports;
mod hardening_logs;
mod local_server;
mod org_reports;
mod org_reports_xlsx;
mod referrals;
mod referrals_http;
mod support;
mod template;
