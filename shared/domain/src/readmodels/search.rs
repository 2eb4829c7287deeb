//! People search (A12): the words of a practitioner's name and specialties, one index item
//! per (field, word, practitioner), and the rule that matches a search against them.
//!
//! A text is cut into words by [`search_words`]: folded ([`super::fold_name`]: case and
//! accents ignored), split at every character that is not a letter or a digit, each word at
//! most [`MAX_WORD_CHARS`] characters, at most [`MAX_NAME_WORDS`] (name) or
//! [`MAX_SPECIALTY_WORDS`] (specialties) words kept. A search matches a practitioner when
//! every word of the search begins some word of the field searched ("ang mul" finds
//! "Dr. Ángela Müller"; "muller" too; "ela" does not).
//!
//! Ingest keeps one [`PractitionerWord`] per word of the name and per word of the
//! specialties (`PRAC#<id>` / `WORD#<field>#<word>`, [`super::keys::practitioner_word`]),
//! listed in `gsi1` under [`super::lists::PRACTITIONER_NAME_WORDS`] or
//! [`super::lists::PRACTITIONER_SPECIALTY_WORDS`] with the sort key `<word>#<id>`, and removes
//! the words a new name no longer has, in the profile's own transaction. A search is then one
//! Query with `begins_with(<longest search word>)` on one of the two partitions: each item
//! read names a practitioner whose word begins with it; a practitioner with several such words
//! is answered once (at the first of them, [`WordSearch::hit`]), and the other search words
//! are checked on the words the item carries. A result costs the index items of its matching
//! words (at most [`MAX_NAME_WORDS`]) and what the feature reads for the row (its profile).

use super::{fold_name, keys, lists};
use crate::ports::{Cursor, Index, LazyItem, Query, SkRange, StoreError};
use serde::{Deserialize, Serialize};

/// Longest word kept (characters); a longer word is cut there, as is the search word.
pub const MAX_WORD_CHARS: usize = 40;
/// Most words of a name indexed.
pub const MAX_NAME_WORDS: usize = 8;
/// Most words of a practitioner's specialties indexed.
pub const MAX_SPECIALTY_WORDS: usize = 24;

/// The words of a text as search and index see them: folded, cut at non-alphanumerics,
/// each once, in order of first appearance, at most `max` of them.
pub fn search_words(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in fold_name(text).split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let word: String = word.chars().take(MAX_WORD_CHARS).collect();
        if !out.contains(&word) {
            out.push(word);
        }
        if out.len() == max {
            break;
        }
    }
    out
}

/// Whether every search word begins one of the words (no search words: everything matches).
pub fn words_match(search: &[String], words: &[String]) -> bool {
    search
        .iter()
        .all(|s| words.iter().any(|w| w.starts_with(s.as_str())))
}

/// Whether a name matches a search text, word by word (the rule of every name filter).
pub fn name_matches(search: &[String], name: Option<&str>) -> bool {
    search.is_empty() || name.is_some_and(|n| words_match(search, &search_words(n, usize::MAX)))
}

/// Which words of a practitioner an index item stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordField {
    Name,
    Specialty,
}

impl WordField {
    pub fn as_str(self) -> &'static str {
        match self {
            WordField::Name => "name",
            WordField::Specialty => "specialty",
        }
    }

    /// The index partition of this field's words.
    pub fn list(self) -> &'static str {
        match self {
            WordField::Name => lists::PRACTITIONER_NAME_WORDS,
            WordField::Specialty => lists::PRACTITIONER_SPECIALTY_WORDS,
        }
    }
}

/// One word of a practitioner, as its index item holds it: the word, and every word of the
/// practitioner's name and specialties (so the other search words are checked on the item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PractitionerWord {
    pub practitioner_id: String,
    pub word: String,
    pub name_words: Vec<String>,
    pub specialty_words: Vec<String>,
}

impl PractitionerWord {
    /// The words of one field.
    pub fn words(&self, field: WordField) -> &[String] {
        match field {
            WordField::Name => &self.name_words,
            WordField::Specialty => &self.specialty_words,
        }
    }
}

/// The words a practitioner is indexed under: of the name, and of all specialties together.
pub fn practitioner_words(
    name: Option<&str>,
    specialties: &[String],
) -> (Vec<String>, Vec<String>) {
    let name = search_words(name.unwrap_or_default(), MAX_NAME_WORDS);
    let specialty = search_words(&specialties.join(" "), MAX_SPECIALTY_WORDS);
    (name, specialty)
}

/// The index sort key of a practitioner's word.
pub fn word_sort_key(word: &str, practitioner_id: &str) -> String {
    format!("{word}#{practitioner_id}")
}

/// A people search: words of the name and of the specialty, at least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSearch {
    pub name: Vec<String>,
    pub specialty: Vec<String>,
}

impl WordSearch {
    /// The search of a name and a specialty text; `None` when both hold no word.
    pub fn new(name: Option<&str>, specialty: Option<&str>) -> Option<Self> {
        let name = search_words(name.unwrap_or_default(), MAX_NAME_WORDS);
        let specialty = search_words(specialty.unwrap_or_default(), MAX_SPECIALTY_WORDS);
        (!name.is_empty() || !specialty.is_empty()).then_some(Self { name, specialty })
    }

    /// The field and word the Query runs on: the longest name word (the fewest items), else
    /// the longest specialty word.
    fn driver(&self) -> (WordField, &str) {
        fn longest(words: &[String]) -> Option<&str> {
            words
                .iter()
                .max_by_key(|w| w.chars().count())
                .map(String::as_str)
        }
        match longest(&self.name) {
            Some(w) => (WordField::Name, w),
            None => (
                WordField::Specialty,
                longest(&self.specialty).unwrap_or_default(),
            ),
        }
    }

    /// The Query of the index items whose word begins with the driving word.
    pub fn query(&self) -> Query {
        let (field, word) = self.driver();
        Query::partition(Index::Gsi1, field.list()).range(SkRange::BeginsWith(word.to_string()))
    }

    /// Whether a cursor resumes this very search (DynamoDB refuses a start key outside the
    /// query's key range).
    pub fn owns(&self, cursor: &Cursor) -> bool {
        let (field, word) = self.driver();
        cursor.ipk.as_deref() == Some(field.list())
            && cursor.isk.as_deref().is_some_and(|k| k.starts_with(word))
            && cursor.pk.starts_with("PRAC#")
            && cursor.sk.starts_with(keys::PRACTITIONER_WORD_PREFIX)
    }

    /// The practitioner an index item of [`WordSearch::query`] answers, or `None` when the
    /// other words do not match or an earlier item of the same practitioner answers it.
    pub fn hit(&self, item: &LazyItem) -> Result<Option<String>, StoreError> {
        let w: PractitionerWord = item.decode()?;
        let (field, driver) = self.driver();
        let first = w
            .words(field)
            .iter()
            .filter(|x| x.starts_with(driver))
            .min();
        let matches = first == Some(&w.word)
            && words_match(&self.name, &w.name_words)
            && words_match(&self.specialty, &w.specialty_words);
        Ok(matches.then_some(w.practitioner_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        search_words(text, usize::MAX)
    }

    #[test]
    fn words_are_folded_and_cut_at_non_letters() {
        assert_eq!(words("Dr. Ángela Müller"), ["dr", "angela", "muller"]);
        assert_eq!(words("  Jean-Luc  O'Brien "), ["jean", "luc", "o", "brien"]);
        assert_eq!(words("Ana ana ANA"), ["ana"]);
        assert_eq!(search_words("a b c d", 2), ["a", "b"]);
        assert_eq!(words(&"x".repeat(50))[0].len(), MAX_WORD_CHARS);
        assert!(words(" - . ").is_empty());
    }

    #[test]
    fn every_search_word_must_begin_a_word() {
        let name = Some("Dr. Ángela Müller");
        for q in [
            "muller",
            "ang",
            "ANGELA",
            "mül",
            "ang mul",
            "dr",
            "müller ángela",
        ] {
            assert!(name_matches(&words(q), name), "{q}");
        }
        for q in ["ela", "uller", "angela moreau", "x"] {
            assert!(!name_matches(&words(q), name), "{q}");
        }
        assert!(name_matches(&[], None));
        assert!(!name_matches(&words("a"), None));
    }

    #[test]
    fn the_search_runs_on_its_longest_name_word_else_its_specialty() {
        let s = WordSearch::new(Some("a mull"), Some("derm")).expect("a search");
        assert_eq!(s.driver(), (WordField::Name, "mull"));
        let s = WordSearch::new(Some(" . "), Some("Derm")).expect("a search");
        assert_eq!(s.driver(), (WordField::Specialty, "derm"));
        assert_eq!(WordSearch::new(Some(" "), None), None);
    }
}
