//! The tag rules the Feed (A1) and Consultations (A3) tabs filter and show: defined with the
//! read models ([`crate::readmodels::tags`]), since ingest derives a consultation's tags as it
//! writes it; named here too for the admin area's callers.

pub use crate::readmodels::tags::{consultation_tags, feed_tags, ConsultationTag, FeedTag};
