//! A practitioner's search words (A12, [`rm::search`]): written in the transaction that changes
//! the profile's name or specialties, the words the profile no longer has removed in it too, so
//! the index never names a practitioner by a word they lost, whatever crash or retry.

use super::effects::{to_json, Merged};
use crate::ports::{Condition, Item, Key, StoreError, TxOp};
use crate::readmodels::search::{practitioner_words, word_sort_key, PractitionerWord, WordField};
use crate::readmodels::{self as rm, keys};
use std::collections::{BTreeMap, BTreeSet};

/// The words of a profile as stored (none where nothing is).
fn words_of(item: Option<&Item>) -> Result<(Vec<String>, Vec<String>), StoreError> {
    Ok(match item {
        Some(item) => {
            let p: rm::Practitioner = item.decode()?;
            practitioner_words(p.name.as_deref(), &p.specialties)
        }
        None => (Vec::new(), Vec::new()),
    })
}

/// For each practitioner profile this transaction writes with other words than it had: a put
/// of every word item it has now (each carries all the words) and a delete of each it lost.
pub(super) fn index_words(
    ops: &mut Vec<TxOp>,
    finals: &BTreeMap<Key, Merged>,
) -> Result<(), StoreError> {
    for (key, m) in finals {
        if key.sk != "PROFILE" || !key.pk.starts_with("PRAC#") {
            continue;
        }
        let Some(new) = &m.new else { continue };
        let before = words_of(m.old.as_ref())?;
        let after = words_of(Some(new))?;
        if before == after {
            continue;
        }
        let id = new.decode::<rm::Practitioner>()?.practitioner_id;
        let fields = [
            (WordField::Name, &before.0, &after.0),
            (WordField::Specialty, &before.1, &after.1),
        ];
        for (field, old, now) in fields {
            let kept: BTreeSet<&String> = now.iter().collect();
            for word in old.iter().filter(|w| !kept.contains(w)) {
                ops.push(TxOp::Delete {
                    key: keys::practitioner_word(&id, field, word),
                    condition: Condition::None,
                });
            }
            for word in now {
                let k = keys::practitioner_word(&id, field, word);
                let body = PractitionerWord {
                    practitioner_id: id.clone(),
                    word: word.clone(),
                    name_words: after.0.clone(),
                    specialty_words: after.1.clone(),
                };
                let item = Item::new(k.pk, k.sk, to_json(&body))
                    .with_gsi1(field.list(), word_sort_key(word, &id));
                ops.push(TxOp::put(item, Condition::None));
            }
        }
    }
    Ok(())
}
