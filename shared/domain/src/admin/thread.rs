//! A2 Thread details: the thread's participants, devices and tags, and its messages (oldest
//! first, paged) with sender, role, kind, time and device. The text of patient and
//! practitioner messages is end-to-end encrypted: ingest keeps only its ciphertext, and no
//! admin answer ever carries it; only system messages show their text.
//! Query: `pk = THREAD#<id>`, `sk` begins with `MSG#`.

use super::feed::{feed_row, FeedRow};
use super::params::ListParams;
use super::tab::{Party, Reader};
use crate::error::Error;
use crate::events::types::{Device, MessageKind, PartyRole};
use crate::ports::{Cursor, Index, Query, SkRange, Store};
use crate::readmodels::Names;
use crate::readmodels::{keys, StoredMessage, ThreadSummary};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One message as an admin sees it: never its ciphertext.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRow {
    pub message_id: String,
    pub sender: Party,
    pub sender_role: Option<PartyRole>,
    pub kind: Option<MessageKind>,
    #[serde(serialize_with = "crate::time::ser_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub device: Option<Device>,
    /// Only for system messages.
    pub text: Option<String>,
}

/// The thread details answer.
#[derive(Debug, Serialize)]
pub struct ThreadDetails {
    pub thread: FeedRow,
    pub devices: BTreeMap<String, BTreeSet<String>>,
    pub messages: Vec<MessageRow>,
    pub next_cursor: Option<String>,
    pub read: usize,
}

/// A message without its ciphertext; the text only when the platform itself sent it. The
/// sender's name is the thread's copy (every sender is a participant of the summary).
pub fn message_row(names: &Names, m: &StoredMessage) -> MessageRow {
    let sender = match m.sender_role {
        Some(PartyRole::Patient | PartyRole::Practitioner) => Party::named(names, &m.sender_id),
        _ => Party {
            id: m.sender_id.clone(),
            name: None,
        },
    };
    let system = m.sender_role == Some(PartyRole::System);
    MessageRow {
        message_id: m.message_id.clone(),
        sender,
        sender_role: m.sender_role,
        kind: m.kind,
        sent_at: m.sent_at,
        device: m.device.clone(),
        text: if system { m.system_text.clone() } else { None },
    }
}

/// The details of a thread, one page of its messages; `None` when there is no such thread.
pub async fn thread_details(
    store: &dyn Store,
    thread_id: &str,
    params: &ListParams,
) -> Result<Option<ThreadDetails>, Error> {
    let mut reader = Reader::new(store);
    let Some(item) = reader.get(&keys::thread(thread_id)).await? else {
        return Ok(None);
    };
    let summary: ThreadSummary = item.decode()?;
    let thread = feed_row(&summary);
    let query = Query::partition(Index::Primary, keys::thread_pk(thread_id))
        .range(SkRange::BeginsWith("MSG#".into()))
        .limit(params.limit)
        .after(params.cursor.clone());
    let page = reader.query(&query).await?;
    let mut messages = Vec::new();
    for item in &page.items {
        let m: StoredMessage = item.decode()?;
        messages.push(message_row(&summary.names, &m));
    }
    let next_cursor = page.next.as_ref().map(Cursor::encode);
    Ok(Some(ThreadDetails {
        thread,
        devices: summary.devices.clone(),
        messages,
        next_cursor,
        read: reader.read,
    }))
}
