//! Events of the marketplace's threads (SPEC §3, §4): a thread created, a message sent
//! (ciphertext only, for a participant's message), a thread opened, a clinical note sent.

use super::Validate;
use crate::events::types::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadCreated {
    pub thread_id: Id,
    pub patient_ids: Vec<Id>,
    pub practitioner_ids: Vec<Id>,
}
impl Validate for ThreadCreated {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.patient_ids.len() + self.practitioner_ids.len() < 2 {
            return Err((
                "practitioner_ids",
                "a thread needs at least two participants".into(),
            ));
        }
        if self.practitioner_ids.is_empty() {
            return Err(("practitioner_ids", "a thread needs a practitioner".into()));
        }
        if self.patient_ids.len() + self.practitioner_ids.len() > 50 {
            return Err(("patient_ids", "at most 50 participants".into()));
        }
        Ok(())
    }
}

/// A message in a thread. Patient and practitioner messages carry only opaque ciphertext
/// (end-to-end encrypted); system messages carry their text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSent {
    pub thread_id: Id,
    pub message_id: Id,
    pub sender_id: Id,
    pub sender_role: PartyRole,
    pub kind: MessageKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// Base64 ciphertext of a patient or practitioner message; never shown to admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
    /// Text of a system or default message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_text: Option<Text<2000>>,
}
impl Validate for MessageSent {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let system = self.sender_role == PartyRole::System;
        if system != (self.kind == MessageKind::System) {
            return Err((
                "kind",
                "is `system` exactly when sender_role is `system`".into(),
            ));
        }
        if system {
            if self.system_text.is_none() {
                return Err(("system_text", "required for a system message".into()));
            }
            if self.ciphertext.is_some() {
                return Err(("ciphertext", "a system message has no ciphertext".into()));
            }
        } else {
            if self.system_text.is_some() {
                return Err(("system_text", "only system messages carry text".into()));
            }
            match &self.ciphertext {
                None => return Err(("ciphertext", "required for a participant's message".into())),
                Some(c) if c.is_empty() || c.len() > 65_536 => {
                    return Err(("ciphertext", "must be 1 to 65536 characters".into()))
                }
                Some(c)
                    if !c
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(&b)) =>
                {
                    return Err(("ciphertext", "must be base64".into()))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// A participant opened the thread (saw its messages). May arrive before the messages it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadOpened {
    pub thread_id: Id,
    pub reader_id: Id,
    pub reader_role: PartyRole,
}
impl Validate for ThreadOpened {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.reader_role == PartyRole::System {
            return Err(("reader_role", "must be patient or practitioner".into()));
        }
        Ok(())
    }
}

/// A diagnosis, medical advice, prescription or in-person recommendation sent in a thread.
/// Its content is not carried: only that it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicalNoteSent {
    pub thread_id: Id,
    pub note_id: Id,
    pub practitioner_id: Id,
    pub note_type: NoteType,
}
impl Validate for ClinicalNoteSent {}
