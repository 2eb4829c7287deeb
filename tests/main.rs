//! The integration-test binary: declares the scenario modules, nothing else.
mod template;
mod contract;
mod support;
mod demo;
