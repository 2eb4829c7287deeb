//! Platform events: the catalogue (what comes in), their value types, and ingest (how each
//! event lands in the read models, once).

pub mod catalogue;
pub mod ingest;
pub mod types;

pub use catalogue::{parse_event, Event, EventBody, Rejection, EVENT_TYPES};
