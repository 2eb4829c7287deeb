//! Adapters: AWS (official SDK) and embedded (local run, no server) implementations of
//! every port in [`crate::ports`].

pub mod aws;
pub mod dir_blobs;
pub mod dynamo;
pub mod embedded_store;
pub mod outbox;
pub mod s3;
pub mod ses;
