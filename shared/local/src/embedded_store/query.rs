//! Queries of the embedded store: the sort-key range of a query turned into bounds of the
//! primary set or of an index map, the run of matching items read one page at a time under
//! the lock, and the page's items parsed (or handed over as text) after it.

use super::stored::Stored;
use super::tables::Inner;
use domain::ports::store::{
    check_query, normalize_range, Cursor, Index, IndexKey, Key, LazyItem, LazyPage, Page, Query,
    SkRange, StoreError,
};
use std::ops::Bound;
use std::sync::Arc;

/// The smallest string greater than every string that starts with `prefix`, if any.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Sort-key bounds of a range: lower bound (`None` = from the partition start) and upper
/// bound (`None` = to the partition end; `Some((s, true))` inclusive, `Some((s, false))`
/// exclusive).
fn sk_bounds(range: &SkRange) -> (Option<String>, Option<(String, bool)>) {
    match range {
        SkRange::All => (None, None),
        SkRange::BeginsWith(p) => (Some(p.clone()), prefix_successor(p).map(|s| (s, false))),
        SkRange::Between(a, b) => (Some(a.clone()), Some((b.clone(), true))),
        SkRange::AtLeast(a) => (Some(a.clone()), None),
        SkRange::AtMost(b) => (None, Some((b.clone(), true))),
    }
}

/// The string right after `s` in byte order.
fn just_after(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    out.push_str(s);
    out.push('\0');
    out
}

fn min_key() -> Key {
    Key::new("", "")
}

/// Whether `(lo, hi)` is a non-empty range that `BTreeMap::range` accepts.
fn nonempty<T: Ord>(lo: &Bound<T>, hi: &Bound<T>) -> bool {
    use Bound::{Excluded, Included, Unbounded};
    match (lo, hi) {
        (Unbounded, _) | (_, Unbounded) => true,
        (Included(a), Included(b)) => a <= b,
        (Included(a), Excluded(b)) | (Excluded(a), Included(b)) | (Excluded(a), Excluded(b)) => {
            a < b
        }
    }
}

/// An ordered run of matching items.
type Run<'a> = Box<dyn Iterator<Item = &'a Arc<Stored>> + 'a>;

/// A page as read under the lock: its items are copied in their stored form and parsed after
/// the lock is released, so concurrent readers hold it only for the copy.
#[derive(Default)]
pub(super) struct RawPage {
    items: Vec<Arc<Stored>>,
    more: bool,
    read: usize,
}

impl RawPage {
    pub(super) fn into_page(self, index: Index) -> Result<Page, StoreError> {
        let page = self.into_lazy_page(index);
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(LazyItem::into_item)
                .collect::<Result<Vec<_>, _>>()?,
            next: page.next,
            read: page.read,
        })
    }

    pub(super) fn into_lazy_page(self, index: Index) -> LazyPage {
        let next = match self.items.last() {
            Some(stored) if self.more => {
                let k = &*stored.keys;
                Some(Cursor::after_keys(
                    &k.key.pk, &k.key.sk, &k.gsi1, &k.gsi2, index,
                ))
            }
            _ => None,
        };
        LazyPage {
            items: self.items.into_iter().map(|stored| stored.lazy()).collect(),
            next,
            read: self.read,
        }
    }
}

/// The range from `lo` to `hi` narrowed to what lies past the cursor position `after` in the
/// query's direction; `None` when nothing is left of it.
fn past_cursor<K: Ord>(
    mut lo: Bound<K>,
    mut hi: Bound<K>,
    after: Option<K>,
    forward: bool,
) -> Option<(Bound<K>, Bound<K>)> {
    if let Some(at) = after {
        let at = Bound::Excluded(at);
        if forward {
            lo = at;
        } else {
            hi = at;
        }
    }
    nonempty(&lo, &hi).then_some((lo, hi))
}

/// A range's items in the query's direction.
fn directed<'a>(
    run: impl DoubleEndedIterator<Item = &'a Arc<Stored>> + 'a,
    forward: bool,
) -> Run<'a> {
    if forward {
        Box::new(run)
    } else {
        Box::new(run.rev())
    }
}

/// Reads one page off an ordered run of matching items.
fn page(run: Run<'_>, query: &Query) -> RawPage {
    let want = query.limit.unwrap_or(usize::MAX);
    let mut raw = RawPage::default();
    for stored in run {
        raw.read += 1;
        if raw.items.len() == want {
            raw.more = true;
            break;
        }
        raw.items.push(Arc::clone(stored));
    }
    raw
}

impl Inner {
    pub(super) fn query(&self, query: &Query) -> Result<RawPage, StoreError> {
        check_query(query)?;
        let empty = RawPage::default();
        let Some(range) = normalize_range(&query.sk) else {
            return Ok(empty);
        };
        let (lo, hi) = sk_bounds(&range);
        let pk = &query.pk;
        match query.index {
            Index::Primary => {
                let lo = Bound::Included(Key::new(pk.clone(), lo.unwrap_or_default()));
                let hi = match hi {
                    None => Bound::Excluded(Key::new(just_after(pk), "")),
                    Some((b, true)) => Bound::Included(Key::new(pk.clone(), b)),
                    Some((b, false)) => Bound::Excluded(Key::new(pk.clone(), b)),
                };
                let after = query
                    .after
                    .as_ref()
                    .map(|c| Key::new(c.pk.clone(), c.sk.clone()));
                let Some(range) = past_cursor(lo, hi, after, query.forward) else {
                    return Ok(empty);
                };
                let run = self.items.range::<Key, _>(range).map(|e| &e.0);
                Ok(page(directed(run, query.forward), query))
            }
            Index::Gsi1 | Index::Gsi2 => {
                let set = if query.index == Index::Gsi1 {
                    &self.gsi1
                } else {
                    &self.gsi2
                };
                let pos = |ipk: String, isk: String| (IndexKey::new(ipk, isk), min_key());
                let lo = Bound::Included(pos(pk.clone(), lo.unwrap_or_default()));
                let hi = match hi {
                    None => Bound::Excluded(pos(just_after(pk), String::new())),
                    Some((b, true)) => Bound::Excluded(pos(pk.clone(), just_after(&b))),
                    Some((b, false)) => Bound::Excluded(pos(pk.clone(), b)),
                };
                let at = query.after.as_ref().and_then(|c| match (&c.ipk, &c.isk) {
                    (Some(ipk), Some(isk)) => Some((
                        IndexKey::new(ipk.clone(), isk.clone()),
                        Key::new(c.pk.clone(), c.sk.clone()),
                    )),
                    _ => None,
                });
                let Some(range) = past_cursor(lo, hi, at, query.forward) else {
                    return Ok(empty);
                };
                let run = set.range(range).map(|(_, stored)| stored);
                Ok(page(directed(run, query.forward), query))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_is_the_first_string_after_the_prefix() {
        assert_eq!(prefix_successor("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_successor(""), None);
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
    }
}
