//! The embedded adapters of the ports, for the local run, the tests and the benchmarks (no
//! cloud account, no server to start): [`embedded_store::EmbeddedStore`], [`dir_blobs::DirBlobs`]
//! (report files in a directory, links signed locally), [`outbox::OutboxMailer`] (mail as
//! files), and the deterministic [`demo`] data generator. No Lambda function links this crate.

pub mod demo;
pub mod dev_tokens;
pub mod dir_blobs;
pub mod embedded_store;
pub mod outbox;
