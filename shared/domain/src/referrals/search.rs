//! B1, A12: finding a specialist to refer to, by name and/or specialty, among approved
//! practitioners only.
//!
//! Without a search, one Query on the `PRACTITIONERS` index (`gsi1`, name order). With a name
//! or a specialty, one Query on the practitioners' word index ([`WordSearch`]): every word of
//! the search begins a word of the name (`moreau`, `muller`, `ang`) or of the specialties
//! (`derm`), case and accents ignored, and each hit costs one GetItem of the profile. Approval
//! is checked on the profile; a request reads at most [`MAX_EXAMINED`] index items and then
//! hands back a cursor, so a narrow filter never turns into a long read.

use super::ReferralError;
use crate::events::types::Approval;
use crate::ports::{Cursor, Index, Query, Store};
use crate::readmodels::search::WordSearch;
use crate::readmodels::{keys, lists, Practitioner};
use serde::{Deserialize, Serialize};

/// Most index items one search request reads.
pub const MAX_EXAMINED: usize = 1000;
/// Longest name query (characters).
pub const MAX_QUERY_CHARS: usize = 200;

/// One practitioner found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecialistHit {
    pub practitioner_id: String,
    pub name: Option<String>,
    pub specialties: Vec<String>,
    /// Whether they have a practice in the scheduling portal (booking prompts, B6).
    pub has_scheduling_practice: bool,
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecialistPage {
    pub items: Vec<SpecialistHit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct SpecialistSearch {
    /// Words that begin words of the name (any case, any accents).
    pub name: Option<String>,
    /// Words that begin words of the practitioner's specialties (any case, any accents).
    pub specialty: Option<String>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

impl SpecialistSearch {
    /// Checks the raw query parameters (`q`, `specialty`): bounded, no control characters.
    pub fn text_param(
        field: &'static str,
        value: Option<&str>,
    ) -> Result<Option<String>, ReferralError> {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if v.chars().count() > MAX_QUERY_CHARS {
            return Err(ReferralError::Invalid {
                field,
                reason: format!("must be at most {MAX_QUERY_CHARS} characters"),
            });
        }
        if v.chars().any(char::is_control) {
            return Err(ReferralError::Invalid {
                field,
                reason: "must not hold control characters".into(),
            });
        }
        Ok(Some(v.to_string()))
    }
}

/// Approved practitioners matching the search; never the caller. Without a name or
/// specialty, every approved practitioner in name order; with one, from the word index, in
/// the order of the matching words.
pub async fn search_specialists(
    store: &dyn Store,
    caller_sub: &str,
    search: &SpecialistSearch,
) -> Result<SpecialistPage, ReferralError> {
    let words = WordSearch::new(search.name.as_deref(), search.specialty.as_deref());
    // A cursor is only ever one of this very search's (DynamoDB refuses a start key outside
    // the query's key range).
    let owned = search.cursor.as_ref().is_none_or(|c| match &words {
        Some(words) => words.owns(c),
        None => {
            c.ipk.as_deref() == Some(lists::PRACTITIONERS)
                && c.pk.starts_with("PRAC#")
                && c.sk == "PROFILE"
        }
    });
    if !owned {
        return Err(ReferralError::Invalid {
            field: "cursor",
            reason: "not a cursor of this search".into(),
        });
    }
    let base = match &words {
        Some(words) => words.query(),
        None => Query::partition(Index::Gsi1, lists::PRACTITIONERS),
    };
    let mut q = base
        .limit(search.limit.clamp(1, 100))
        .after(search.cursor.clone());
    let mut items = Vec::new();
    let mut examined = 0usize;
    loop {
        let page = store.query(&q).await?;
        let count = page.items.len();
        for (i, item) in page.items.iter().enumerate() {
            examined += 1;
            let found = match &words {
                Some(words) => match words.hit(&item.clone().into())? {
                    Some(id) => store.get(&keys::practitioner(&id)).await?,
                    None => None,
                },
                None => Some(item.clone()),
            };
            if let Some(found) = found {
                let p: Practitioner = found.decode()?;
                if p.approval == Some(Approval::Approved) && p.practitioner_id != caller_sub {
                    items.push(SpecialistHit {
                        practitioner_id: p.practitioner_id,
                        name: p.name,
                        specialties: p.specialties,
                        has_scheduling_practice: p.has_scheduling_practice,
                    });
                }
            }
            let more = i + 1 < count || page.next.is_some();
            if (items.len() >= search.limit || examined >= MAX_EXAMINED) && more {
                return Ok(SpecialistPage {
                    items,
                    next_cursor: Some(Cursor::after(item, Index::Gsi1).encode()),
                });
            }
        }
        match page.next {
            Some(next) => q.after = Some(next),
            None => {
                return Ok(SpecialistPage {
                    items,
                    next_cursor: None,
                })
            }
        }
    }
}
