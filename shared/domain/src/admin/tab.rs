//! The machinery every admin tab shares: a [`Tab`] says which indexed [`Query`] lists its
//! rows and how one item becomes a row (or is filtered out); [`list_page`] serves a page of
//! rows with a cursor, [`export_csv`] streams every selected row into the blob store.
//!
//! # Pages
//! `{"items": [...], "next_cursor": "..." | null, "read": n}` and the header `x-items-read: n`
//! (items the store read to answer, for the read-efficiency benchmark). Ingest shapes the
//! items so that a row is its item: names are copied in, totals kept on it (see
//! `docs/dynamodb.md`, "Read models shaped for the page"). Filters that the key cannot express
//! (tags, search) run on the items of the Query, the way a DynamoDB filter expression does: a
//! page may read more items than it returns, and `read` says how many. The
//! order is the key order, which is stable (sort keys end in the item's id). `next_cursor` is
//! set when the page is full and the list was not exhausted: the next page may then be empty.
//!
//! # Exports
//! A Lambda answer carries at most 6 MB, so a CSV export never travels in the response: the
//! export walks the same Query page by page, writes each row into a streamed upload
//! (S3 multipart, constant memory) under `exports/admin/<tab>/<date>/<id>.csv`, records an
//! audit entry (`admin.exported`, row count, object key), and answers
//! `{"url", "rows", "bytes", "key"}` with a link valid for [`EXPORT_LINK_TTL`].

use super::params::ListParams;
use crate::audit::AuditRecord;
use crate::auth::Principal;
use crate::deps::Deps;
use crate::error::Error;
use crate::export::cells::Cell;
use crate::export::csv::CsvStream;
use crate::ports::{BlobError, Condition, Key, LazyItem, LazyPage, Query, Store, StoreError};
use crate::readmodels::{self as rm, keys};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

/// Lifetime of an export's download link.
pub const EXPORT_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// Items an export asks the store for at a time.
const EXPORT_CHUNK: usize = 500;

/// Reads through the store and counts every item read; caches the profiles rows read and the
/// platform's rating totals.
pub struct Reader<'a> {
    store: &'a dyn Store,
    /// Items read so far.
    pub read: usize,
    practitioners: HashMap<String, Option<rm::Practitioner>>,
    rating_totals: Option<RatingIndex>,
    response_times: Option<rm::ResponseTimes>,
}

/// The platform's rating totals ([`rm::RatingTotals`]) as a request reads them. The one item
/// names every practitioner of the platform and a page only a few, so it is decoded without a
/// string or a tree node per practitioner: every id is appended to one text, and each entry
/// keeps its id's place in that text with the count and stars, sorted by id for a binary
/// search. The ids are unique (ingest writes them from a map); should a corrupt item repeat
/// one, the last wins, as decoding into a map would.
#[derive(Debug, Default)]
struct RatingIndex {
    ids: String,
    entries: Vec<RatingEntry>,
}

#[derive(Debug, Clone, Copy)]
struct RatingEntry {
    start: usize,
    end: usize,
    stats: RatingStats,
}

impl RatingIndex {
    fn id(&self, e: &RatingEntry) -> &str {
        &self.ids[e.start..e.end]
    }

    fn get(&self, id: &str) -> Option<RatingStats> {
        self.entries
            .binary_search_by(|e| self.id(e).cmp(id))
            .ok()
            .map(|i| self.entries[i].stats)
    }
}

impl<'de> Deserialize<'de> for RatingIndex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The item's body: `{"practitioners": {id: [count, stars], ...}}`, other fields
        /// ignored, a missing map empty.
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            practitioners: Entries,
        }
        #[derive(Default)]
        struct Entries(RatingIndex);
        impl<'de> Deserialize<'de> for Entries {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_map(EntriesVisitor)
            }
        }
        struct EntriesVisitor;
        impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of practitioner id to [count, stars]")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut index = RatingIndex::default();
                while map.next_key_seed(AppendId(&mut index.ids))?.is_some() {
                    let (count, stars_total): (i64, i64) = map.next_value()?;
                    let start = index.entries.last().map_or(0, |e| e.end);
                    index.entries.push(RatingEntry {
                        start,
                        end: index.ids.len(),
                        stats: RatingStats { count, stars_total },
                    });
                }
                // Written from a map, so already in id order; sorted (stably: the last of a
                // repeated id stays last) only if not.
                if !index
                    .entries
                    .is_sorted_by(|a, b| index.id(a) <= index.id(b))
                {
                    let ids = &index.ids;
                    index
                        .entries
                        .sort_by(|a, b| ids[a.start..a.end].cmp(&ids[b.start..b.end]));
                }
                let ids = &index.ids;
                index.entries.dedup_by(|later, earlier| {
                    let same = ids[later.start..later.end] == ids[earlier.start..earlier.end];
                    if same {
                        earlier.stats = later.stats;
                    }
                    same
                });
                Ok(Entries(index))
            }
        }
        /// Appends a map key to the ids' text (borrowed or unescaped, no string of its own).
        struct AppendId<'b>(&'b mut String);
        impl<'de> serde::de::DeserializeSeed<'de> for AppendId<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_str(self)
            }
        }
        impl<'de> serde::de::Visitor<'de> for AppendId<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a practitioner id")
            }
            fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<(), E> {
                self.0.push_str(id);
                Ok(())
            }
        }
        Body::deserialize(d).map(|b| b.practitioners.0)
    }
}

/// A practitioner's rating count and average, from the totals ingest keeps (on the profile,
/// and for every practitioner at once in [`rm::RatingTotals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RatingStats {
    pub count: i64,
    pub stars_total: i64,
}

impl RatingStats {
    /// The stats from the totals ingest keeps on the practitioner's profile.
    pub fn of(totals: &rm::Totals) -> Self {
        Self {
            count: totals.get("rating_count").copied().unwrap_or(0),
            stars_total: totals.get("rating_stars").copied().unwrap_or(0),
        }
    }

    /// The average in hundredths of a star, rounded half up (exact integer arithmetic).
    pub fn average_hundredths(&self) -> Option<i64> {
        (self.count > 0).then(|| (self.stars_total * 200 + self.count) / (2 * self.count))
    }

    /// The average as a decimal text with two places (`4.67`), or `None` without ratings.
    pub fn average_text(&self) -> Option<String> {
        self.average_hundredths()
            .map(|h| crate::export::cells::decimal_text(h, 2))
    }
}

impl<'a> Reader<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        Self {
            store,
            read: 0,
            practitioners: HashMap::new(),
            rating_totals: None,
            response_times: None,
        }
    }

    /// Every practitioner's response-time commitment (A11): one GetItem of the one item
    /// holding them (`RESPONSE_TIMES`), once per request whatever practitioners the rows name.
    pub async fn response_times(&mut self) -> Result<&rm::ResponseTimes, StoreError> {
        if self.response_times.is_none() {
            self.read += 1;
            let times = match self.store.get_lazy(&keys::response_times()).await? {
                Some(item) => item.decode::<rm::ResponseTimes>()?,
                None => rm::ResponseTimes::default(),
            };
            self.response_times = Some(times);
        }
        Ok(self.response_times.get_or_insert_with(Default::default))
    }

    /// A practitioner's rating count and stars, from the platform's rating totals: one
    /// GetItem of one item holding every practitioner's (`RATING_TOTALS`), once per request
    /// whatever practitioners the rows name. Ingest moves it with the totals on the profiles,
    /// in the same transaction, so both always agree.
    pub async fn rating_stats(&mut self, id: &str) -> Result<RatingStats, StoreError> {
        if self.rating_totals.is_none() {
            self.read += 1;
            // Decoded straight from the stored text into one index (see `RatingIndex`).
            let totals = match self.store.get_lazy(&keys::rating_totals()).await? {
                Some(item) => item.decode::<RatingIndex>()?,
                None => RatingIndex::default(),
            };
            self.rating_totals = Some(totals);
        }
        Ok(self
            .rating_totals
            .as_ref()
            .and_then(|t| t.get(id))
            .unwrap_or_default())
    }

    /// One GetItem (counted as one read, found or not), the body decoded by the caller
    /// straight into its type.
    pub async fn get(&mut self, key: &Key) -> Result<Option<LazyItem>, StoreError> {
        self.read += 1;
        self.store.get_lazy(key).await
    }

    /// One page of a Query, the bodies decoded by the caller straight into its types.
    pub async fn query(&mut self, query: &Query) -> Result<LazyPage, StoreError> {
        let page = self.store.query_lazy(query).await?;
        self.read += page.read;
        Ok(page)
    }

    /// A practitioner's profile (read once per request).
    pub async fn practitioner(&mut self, id: &str) -> Result<Option<rm::Practitioner>, StoreError> {
        if let Some(p) = self.practitioners.get(id) {
            return Ok(p.clone());
        }
        let p = match self.get(&keys::practitioner(id)).await? {
            Some(item) => Some(item.decode::<rm::Practitioner>()?),
            None => None,
        };
        self.practitioners.insert(id.to_string(), p.clone());
        Ok(p)
    }
}

/// A person a row names: id and (when known) name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub id: String,
    pub name: Option<String>,
}

impl Party {
    /// A party as a list item shows it: the name ingest copied into the item (no read).
    pub fn named(names: &rm::Names, id: &str) -> Party {
        Party {
            id: id.to_string(),
            name: names.get(id).cloned(),
        }
    }
}

/// Whether the search (if any) matches the copied name of one of these practitioners
/// (case- and accent-insensitive, like every search; no read).
pub fn search_hits_named<'i>(
    params: &ListParams,
    names: &rm::Names,
    ids: impl IntoIterator<Item = &'i String>,
) -> bool {
    params.q.is_none()
        || ids
            .into_iter()
            .any(|id| params.matches(names.get(id).map(String::as_str)))
}

/// The item a tab of practitioners (Calls, Payments) makes a row of, for an item of its
/// Query: without a search, the item itself; with one (the Query is then the practitioners'
/// word index), for a hit the practitioner's all-time totals (`totals(id)`) without a period
/// or the profile with one — one GetItem — and `None` for no hit or a missing item.
pub async fn listed_item<'i>(
    reader: &mut Reader<'_>,
    params: &ListParams,
    item: &'i LazyItem,
    totals: fn(&str) -> Key,
) -> Result<Option<Cow<'i, LazyItem>>, StoreError> {
    let Some(search) = params.people_search() else {
        return Ok(Some(Cow::Borrowed(item)));
    };
    let Some(id) = search.hit(item)? else {
        return Ok(None);
    };
    let key = match params.period {
        None => totals(&id),
        Some(_) => keys::practitioner(&id),
    };
    Ok(reader.get(&key).await?.map(Cow::Owned))
}

/// The names of parties, joined for one CSV cell (`name (id)`, `; ` between).
pub fn parties_text(parties: &[Party]) -> String {
    parties
        .iter()
        .map(|p| match &p.name {
            Some(n) => format!("{n} ({})", p.id),
            None => p.id.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The Query of a list that is read newest first (one item per row, sort keys starting with
/// the time), over `params.period` when one is given.
pub fn newest_first(list: &str, params: &ListParams) -> Query {
    newest_first_in(crate::ports::Index::Gsi1, list, params)
}

/// [`newest_first`] on a list of another index.
pub fn newest_first_in(index: crate::ports::Index, list: &str, params: &ListParams) -> Query {
    let q = Query::partition(index, list).backward();
    match params.period {
        Some(p) => {
            let (a, b) = p.sk_bounds();
            q.range(crate::ports::SkRange::Between(a, b))
        }
        None => q,
    }
}

/// One admin tab.
#[async_trait]
pub trait Tab: Send + Sync {
    /// A row of the tab, as the JSON page shows it.
    type Row: Serialize + Send + Sync;

    /// Names the export files: `exports/admin/<name>/...`.
    fn name(&self) -> &'static str;

    /// The CSV header.
    fn columns(&self) -> &'static [&'static str];

    /// The CSV lines of a row (usually one), each in [`Tab::columns`] order.
    fn cells(&self, row: &Self::Row) -> Vec<Vec<Cell>>;

    /// The indexed Query listing the tab's items (no cursor, no limit).
    fn query(&self, params: &ListParams) -> Query;

    /// The row of one item, or `None` when the filters leave it out.
    async fn row(
        &self,
        reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<Self::Row>, StoreError>;
}

/// One page of a tab.
#[derive(Debug, Serialize)]
pub struct TabPage<R> {
    pub items: Vec<R>,
    pub next_cursor: Option<String>,
    pub read: usize,
}

/// Reads one page of rows: `params.limit` rows from `params.cursor` on.
pub async fn list_page<T: Tab>(
    tab: &T,
    store: &dyn Store,
    params: &ListParams,
) -> Result<TabPage<T::Row>, StoreError> {
    let mut reader = Reader::new(store);
    let base = tab.query(params);
    let index = base.index;
    let mut query = base.after(params.cursor.clone()).limit(params.limit);
    let mut items = Vec::new();
    loop {
        let page = reader.query(&query).await?;
        let last = page.items.len().saturating_sub(1);
        for (i, item) in page.items.iter().enumerate() {
            if let Some(row) = tab.row(&mut reader, params, item).await? {
                items.push(row);
                if items.len() == params.limit {
                    let more = i < last || page.next.is_some();
                    let next_cursor = more.then(|| item.cursor_after(index).encode());
                    return Ok(TabPage {
                        items,
                        next_cursor,
                        read: reader.read,
                    });
                }
            }
        }
        match page.next {
            Some(c) => query.after = Some(c),
            None => {
                return Ok(TabPage {
                    items,
                    next_cursor: None,
                    read: reader.read,
                })
            }
        }
    }
}

/// What an export produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportLink {
    pub url: String,
    pub rows: u64,
    pub bytes: u64,
    /// Object key in the reports bucket.
    pub key: String,
    #[serde(skip)]
    pub read: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl From<ExportError> for Error {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Store(s) => s.into(),
            ExportError::Blob(b) => {
                tracing::error!(error = %b, "export upload failed");
                Error::Unavailable
            }
        }
    }
}

/// Streams every row the filters select (all pages; `limit` and `cursor` do not apply) into
/// a CSV object, audits it and returns its link.
pub async fn export_csv<T: Tab>(
    tab: &T,
    deps: &Deps,
    actor: &Principal,
    params: &ListParams,
) -> Result<ExportLink, ExportError> {
    let now = deps.clock.now();
    let id = crate::ids::new_id("exp", now);
    let key = format!(
        "exports/admin/{}/{}/{id}.csv",
        tab.name(),
        now.format("%Y-%m-%d")
    );
    let upload = deps
        .blobs
        .start_upload(&key, "text/csv; charset=utf-8")
        .await?;
    let mut csv = CsvStream::new(upload, tab.columns(), params.tz, params.bom)?;
    let mut reader = Reader::new(&*deps.store);
    let mut query = tab.query(params).limit(EXPORT_CHUNK);
    let outcome: Result<(), ExportError> = async {
        loop {
            let page = reader.query(&query).await?;
            for item in &page.items {
                if let Some(row) = tab.row(&mut reader, params, item).await? {
                    for line in tab.cells(&row) {
                        csv.write_owned_row(line).await?;
                    }
                }
            }
            match page.next {
                Some(c) => query.after = Some(c),
                None => return Ok(()),
            }
        }
    }
    .await;
    if let Err(e) = outcome {
        csv.abort().await;
        return Err(e);
    }
    let (rows, bytes) = csv.finish().await?;
    let mut record = AuditRecord::new(actor, now, "admin.exported", "PLATFORM", tab.name());
    record.row_count = Some(rows);
    record.object_key = Some(key.clone());
    record.params = export_params(params);
    deps.store.put(record.item(), Condition::NotExists).await?;
    let filename = format!("{}-{}.csv", tab.name(), now.format("%Y-%m-%d"));
    let url = deps
        .blobs
        .presign_get(&key, EXPORT_LINK_TTL, &filename)
        .await?;
    Ok(ExportLink {
        url,
        rows,
        bytes,
        key,
        read: reader.read,
    })
}

/// The export's parameters as the audit keeps them: the period and zone, never the search
/// text (it may be a name).
fn export_params(params: &ListParams) -> serde_json::Value {
    serde_json::json!({
        "from": params.period.map(|p| p.start),
        "to": params.period.map(|p| p.end),
        "tz": params.tz.name(),
        "search": params.q.is_some(),
        "filters": params.extra.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The index answers every id exactly as the whole-map decode does: escaped ids, ids out
    /// of order, a repeated id (the last wins), unknown fields, a missing id, a missing map.
    #[test]
    fn rating_index_equals_the_map_decode() {
        let text = r#"{"other":[1,{"x":2}],"practitioners":{"pr-b":[2,9],"pr-a":[1,5],
            "pr-\u00e9\"q":[3,12],"pr-c":[7,30],"pr-a":[4,17],"":[1,1]}}"#;
        let map: rm::RatingTotals = serde_json::from_str(text).unwrap();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        for index in [
            serde_json::from_str::<RatingIndex>(text).unwrap(),
            RatingIndex::deserialize(&value).unwrap(),
        ] {
            assert_eq!(index.entries.len(), 5);
            for id in ["pr-a", "pr-b", "pr-c", "pr-é\"q", "", "pr-d", "pr"] {
                let want = map
                    .practitioners
                    .get(id)
                    .map(|&(count, stars_total)| RatingStats { count, stars_total });
                assert_eq!(index.get(id), want, "{id}");
            }
            assert_eq!(
                index.get("pr-a"),
                Some(RatingStats {
                    count: 4,
                    stars_total: 17
                })
            );
        }
        let empty: RatingIndex = serde_json::from_str(r#"{"version":3}"#).unwrap();
        assert_eq!(empty.get("pr-a"), None);
        let bad = serde_json::from_str::<RatingIndex>(r#"{"practitioners":{"pr-a":[1]}}"#);
        assert!(bad.is_err());
    }
}
