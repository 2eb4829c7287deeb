//! The store contract: `EmbeddedStore` (persisted in a temp dir) and `DynamoStore` (a fresh
//! table on moto) give exactly the same answers. Then the embedded store's own promise:
//! what it acknowledged survives a restart, compaction and a torn last write.

use crate::support::moto::dynamo_store;
use crate::support::TempDir;
use domain::ports::store::{
    query_all, Condition, Cursor, Index, IndexKey, Item, Key, Query, SkRange, Store, StoreError,
    TxOp, MAX_TX_OPS,
};
use local_adapters::embedded_store::{EmbeddedStore, LOG_FILE};
use serde_json::json;
use std::collections::HashSet;

struct Fixture {
    store: Box<dyn Store>,
    _dir: Option<TempDir>,
}

fn embedded_fixture() -> Fixture {
    let dir = TempDir::new("store");
    let store = EmbeddedStore::open(dir.path()).expect("open the embedded store");
    Fixture {
        store: Box::new(store),
        _dir: Some(dir),
    }
}

async fn moto_fixture() -> Fixture {
    Fixture {
        store: Box::new(dynamo_store().await),
        _dir: None,
    }
}

contract_tests!(
    embedded: embedded_fixture(),
    moto: moto_fixture().await,
    port: fixture => fixture.store.as_ref();
    put_get_and_replace,
    conditional_writes,
    transactions_commit_all_or_nothing,
    transaction_shape_is_checked,
    counters,
    pagination_at_every_page_size,
    sort_key_ranges,
    secondary_indexes,
    cursors_are_checked,
    expiry_round_trips,
    put_many_writes_everything,
    get_many_reads_in_order,
    keys_are_checked,
);

const FAR_FUTURE: i64 = 4_102_444_800; // 2100-01-01

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn full_item() -> Item {
    Item::new(
        "ORG#1",
        "REPORT#2024-05-01#a1",
        json!({
            "title": "Rapport été — 東京 🚑",
            "n": 42,
            "ratio": 0.125,
            "big": 9_007_199_254_740_993_i64,
            "flags": [true, false, null],
            "nested": {"a": {"b": []}, "empty": ""},
        }),
    )
    .with_gsi1("USER#7", "2024-05-01T10:00:00Z#a1")
    .with_gsi2("STATUS#open", "2024-05-01#a1")
    .with_expiry(FAR_FUTURE)
    .with_version(3)
}

async fn put_get_and_replace(store: &dyn Store) {
    assert_eq!(store.get(&key("ORG#1", "nothing")).await, Ok(None));
    assert_eq!(store.get_lazy(&key("ORG#1", "nothing")).await, Ok(None));

    let mut item = full_item();
    item.count = Some(-5);
    store.put(item.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&item.key()).await, Ok(Some(item.clone())));
    // The lazy read is the same item, body decoded by the reader.
    let lazy = store.get_lazy(&item.key()).await.unwrap().expect("found");
    assert_eq!(lazy.decode::<serde_json::Value>().unwrap(), item.body);
    assert_eq!(lazy.into_item(), Ok(item.clone()));

    // A put replaces the whole item: index keys, expiry and counter not given are gone.
    let plain = Item::new("ORG#1", "REPORT#2024-05-01#a1", json!({"v": 2})).with_version(4);
    store.put(plain.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&plain.key()).await, Ok(Some(plain.clone())));
    let in_gsi1 = store
        .query(&Query::partition(Index::Gsi1, "USER#7"))
        .await
        .unwrap();
    assert_eq!(in_gsi1.items, vec![]);

    // The same key in another partition, and a neighbouring key, are other items.
    assert_eq!(
        store.get(&key("ORG#10", "REPORT#2024-05-01#a1")).await,
        Ok(None)
    );
    assert_eq!(
        store.get(&key("ORG#1", "REPORT#2024-05-01#a")).await,
        Ok(None)
    );

    // An item with a null body and version 0 round-trips too.
    let bare = Item::new("ORG#1", "BARE", serde_json::Value::Null).with_version(0);
    store.put(bare.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&bare.key()).await, Ok(Some(bare)));

    store.delete(&plain.key(), Condition::None).await.unwrap();
    assert_eq!(store.get(&plain.key()).await, Ok(None));
}

async fn conditional_writes(store: &dyn Store) {
    let failed = Err(StoreError::ConditionFailed { op: None });
    let v1 = Item::new("P", "a", json!({"v": 1}));
    let k = v1.key();

    // NotExists: creates once, then refuses and leaves the stored item alone.
    store.put(v1.clone(), Condition::NotExists).await.unwrap();
    let other = Item::new("P", "a", json!({"v": "other"}));
    assert_eq!(store.put(other.clone(), Condition::NotExists).await, failed);
    assert_eq!(store.get(&k).await, Ok(Some(v1.clone())));

    // Exists: refuses on a missing key (and writes nothing), replaces an existing one.
    let missing = Item::new("P", "b", json!({}));
    assert_eq!(store.put(missing.clone(), Condition::Exists).await, failed);
    assert_eq!(store.get(&missing.key()).await, Ok(None));
    let v1b = Item::new("P", "a", json!({"v": "1b"}));
    store.put(v1b.clone(), Condition::Exists).await.unwrap();
    assert_eq!(store.get(&k).await, Ok(Some(v1b)));

    // VersionIs: optimistic concurrency.
    let v2 = Item::new("P", "a", json!({"v": 2})).with_version(2);
    store
        .put(v2.clone(), Condition::VersionIs(1))
        .await
        .unwrap();
    assert_eq!(store.get(&k).await, Ok(Some(v2.clone())));
    let stale = Item::new("P", "a", json!({"v": "stale"})).with_version(2);
    assert_eq!(store.put(stale, Condition::VersionIs(1)).await, failed);
    assert_eq!(store.get(&k).await, Ok(Some(v2.clone())));
    assert_eq!(
        store.put(missing.clone(), Condition::VersionIs(0)).await,
        failed,
        "VersionIs needs an item"
    );
    assert_eq!(store.get(&missing.key()).await, Ok(None));

    // Deletes.
    assert_eq!(store.delete(&k, Condition::VersionIs(1)).await, failed);
    assert_eq!(store.delete(&k, Condition::NotExists).await, failed);
    assert_eq!(store.get(&k).await, Ok(Some(v2)));
    store.delete(&k, Condition::VersionIs(2)).await.unwrap();
    assert_eq!(store.get(&k).await, Ok(None));
    store.delete(&k, Condition::None).await.unwrap();
    store.delete(&k, Condition::NotExists).await.unwrap();
    assert_eq!(store.delete(&k, Condition::Exists).await, failed);
    assert_eq!(store.delete(&k, Condition::VersionIs(2)).await, failed);
    let e = Item::new("P", "e", json!(1));
    store.put(e.clone(), Condition::None).await.unwrap();
    store.delete(&e.key(), Condition::Exists).await.unwrap();
    assert_eq!(store.get(&e.key()).await, Ok(None));
}

/// Every item of the partitions `pks`, in key order (to compare whole states).
async fn dump(store: &dyn Store, pks: &[&str]) -> Vec<Item> {
    let mut all = Vec::new();
    for pk in pks {
        all.extend(
            query_all(store, &Query::partition(Index::Primary, *pk))
                .await
                .unwrap(),
        );
    }
    all
}

async fn transactions_commit_all_or_nothing(store: &dyn Store) {
    let a = Item::new("T", "a", json!("a1"));
    let b = Item::new("T", "b", json!("b2")).with_version(2);
    store.put(a.clone(), Condition::None).await.unwrap();
    store.put(b.clone(), Condition::None).await.unwrap();
    assert_eq!(store.add(&key("T", "c"), 5).await, Ok(5));

    // Every kind of op, all conditions holding.
    let a2 = Item::new("T", "a", json!("a2")).with_version(2);
    let d = Item::new("T", "d", json!({"new": true})).with_gsi1("G", "d");
    store
        .transact(vec![
            TxOp::put(d.clone(), Condition::NotExists),
            TxOp::put(a2.clone(), Condition::VersionIs(1)),
            TxOp::Delete {
                key: b.key(),
                condition: Condition::VersionIs(2),
            },
            TxOp::Check {
                key: key("T", "zz"),
                condition: Condition::NotExists,
            },
            TxOp::Add {
                key: key("T", "c"),
                delta: 3,
                gsi1: Some(IndexKey::new("G", "c")),
                expires_at: Some(FAR_FUTURE),
            },
            TxOp::Add {
                key: key("T", "n"),
                delta: -2,
                gsi1: None,
                expires_at: None,
            },
        ])
        .await
        .unwrap();
    let counter = |sk: &str, count: i64, gsi1: Option<IndexKey>, expires_at: Option<i64>| Item {
        pk: "T".into(),
        sk: sk.into(),
        gsi1,
        gsi2: None,
        expires_at,
        version: 0,
        count: Some(count),
        body: serde_json::Value::Null,
    };
    let committed = vec![
        a2.clone(),
        counter("c", 8, Some(IndexKey::new("G", "c")), Some(FAR_FUTURE)),
        d.clone(),
        counter("n", -2, None, None),
    ];
    assert_eq!(dump(store, &["T"]).await, committed);

    // One op fails: the error names it, and nothing of the transaction is written.
    let e = Item::new("T", "e", json!("e"));
    let failing = |at: usize| {
        let mut ops = vec![
            TxOp::put(e.clone(), Condition::NotExists),
            TxOp::add(key("T", "c"), 100),
            TxOp::Delete {
                key: d.key(),
                condition: Condition::Exists,
            },
            TxOp::put(
                Item::new("T", "a", json!("a3")).with_version(3),
                Condition::VersionIs(2),
            ),
        ];
        let broken = match &ops[at] {
            TxOp::Put { item, .. } if item.sk == "e" => TxOp::put(e.clone(), Condition::Exists),
            TxOp::Add { .. } => TxOp::Check {
                key: key("T", "c"),
                condition: Condition::VersionIs(9),
            },
            TxOp::Delete { key, .. } => TxOp::Delete {
                key: key.clone(),
                condition: Condition::NotExists,
            },
            TxOp::Put { item, .. } => TxOp::put(item.clone(), Condition::VersionIs(1)),
            other => other.clone(),
        };
        ops[at] = broken;
        ops
    };
    for at in 0..4 {
        assert_eq!(
            store.transact(failing(at)).await,
            Err(StoreError::ConditionFailed { op: Some(at) }),
            "op {at} fails"
        );
        assert_eq!(dump(store, &["T"]).await, committed, "op {at} failed");
    }

    // A failing Check on a missing key after writes: index 2.
    assert_eq!(
        store
            .transact(vec![
                TxOp::put(e.clone(), Condition::None),
                TxOp::add(key("T", "n"), 1),
                TxOp::Check {
                    key: key("T", "missing"),
                    condition: Condition::Exists,
                },
            ])
            .await,
        Err(StoreError::ConditionFailed { op: Some(2) })
    );
    assert_eq!(dump(store, &["T"]).await, committed);

    // The counter set up by the transaction is in gsi1.
    let g = store
        .query(&Query::partition(Index::Gsi1, "G"))
        .await
        .unwrap();
    let g_keys: Vec<_> = g.items.iter().map(Item::key).collect();
    assert_eq!(g_keys, vec![key("T", "c"), key("T", "d")]);

    // A Check without a condition is a no-op; an empty transaction succeeds.
    store
        .transact(vec![TxOp::Check {
            key: key("T", "missing"),
            condition: Condition::None,
        }])
        .await
        .unwrap();
    store.transact(vec![]).await.unwrap();
    assert_eq!(dump(store, &["T"]).await, committed);
}

async fn transaction_shape_is_checked(store: &dyn Store) {
    let puts = |n: usize| -> Vec<TxOp> {
        (0..n)
            .map(|i| TxOp::put(Item::new("S", format!("{i:03}"), json!(i)), Condition::None))
            .collect()
    };
    // One op too many: refused whole.
    match store.transact(puts(MAX_TX_OPS + 1)).await {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{} ops: {other:?}", MAX_TX_OPS + 1),
    }
    assert_eq!(dump(store, &["S"]).await, vec![]);

    // One key twice: refused whole.
    let twice = vec![
        TxOp::put(Item::new("S", "x", json!(1)), Condition::None),
        TxOp::put(Item::new("S", "y", json!(1)), Condition::None),
        TxOp::add(key("S", "x"), 1),
    ];
    match store.transact(twice).await {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("a key twice: {other:?}"),
    }
    assert_eq!(dump(store, &["S"]).await, vec![]);

    // Exactly the limit is fine.
    store.transact(puts(MAX_TX_OPS)).await.unwrap();
    let all = dump(store, &["S"]).await;
    assert_eq!(all.len(), MAX_TX_OPS);
    assert_eq!(all[99], Item::new("S", "099", json!(99)));
}

async fn counters(store: &dyn Store) {
    let k = key("C", "views");
    assert_eq!(store.add(&k, 5).await, Ok(5));
    assert_eq!(store.add(&k, -7).await, Ok(-2));
    assert_eq!(store.add(&k, 0).await, Ok(-2));
    assert_eq!(
        store.get(&k).await,
        Ok(Some(Item {
            pk: "C".into(),
            sk: "views".into(),
            gsi1: None,
            gsi2: None,
            expires_at: None,
            version: 0,
            count: Some(-2),
            body: serde_json::Value::Null,
        }))
    );

    // ADD on an item without a counter starts from 0 and keeps everything else.
    let doc = full_item();
    store.put(doc.clone(), Condition::None).await.unwrap();
    assert_eq!(store.add(&doc.key(), 3).await, Ok(3));
    assert_eq!(store.add(&doc.key(), 4).await, Ok(7));
    let mut want = doc.clone();
    want.count = Some(7);
    assert_eq!(store.get(&doc.key()).await, Ok(Some(want.clone())));

    // ADD in a transaction sets the index key and expiry on an existing item too.
    store
        .transact(vec![TxOp::Add {
            key: doc.key(),
            delta: 1,
            gsi1: Some(IndexKey::new("USER#8", "x")),
            expires_at: Some(FAR_FUTURE + 1),
        }])
        .await
        .unwrap();
    want.count = Some(8);
    want.gsi1 = Some(IndexKey::new("USER#8", "x"));
    want.expires_at = Some(FAR_FUTURE + 1);
    assert_eq!(store.get(&doc.key()).await, Ok(Some(want)));

    // Large values.
    let big = key("C", "big");
    assert_eq!(store.add(&big, i64::MAX - 1).await, Ok(i64::MAX - 1));
    assert_eq!(store.add(&big, 1).await, Ok(i64::MAX));
    assert_eq!(store.add(&big, i64::MIN).await, Ok(-1));
}

/// The sort keys of the pagination partition: byte order puts `Z` < `z` < `é` < U+E000 <
/// U+10000 (UTF-16 order would put U+10000 before U+E000).
fn pagination_sks() -> Vec<String> {
    let mut sks: Vec<String> = (0..23).map(|i| format!("S#{i:02}")).collect();
    for extra in [
        "S#Z",
        "S#z",
        "S#é",
        "S#\u{E000}",
        "S#\u{10000}",
        "S",
        "T#1",
        "R#1",
    ] {
        sks.push(extra.to_string());
    }
    sks.sort();
    sks
}

async fn seed_pagination(store: &dyn Store) -> Vec<Item> {
    let items: Vec<Item> = pagination_sks()
        .into_iter()
        .map(|sk| Item::new("P#1", sk.clone(), json!({"sk": sk})))
        .collect();
    store.put_many(items.clone()).await.unwrap();
    // Neighbouring partitions that a sloppy prefix match would leak into.
    for pk in ["P#10", "P#", "P#0", "P#1 ", "P"] {
        store
            .put(Item::new(pk, "S#05", json!("neighbour")), Condition::None)
            .await
            .unwrap();
    }
    items
}

/// Reads a query page by page with `limit`, checking every page: full pages but the last,
/// `next` exactly when more items follow (never an empty last page), no duplicates, and a
/// bounded read count. Returns the items in order.
async fn pages(store: &dyn Store, query: &Query, limit: usize) -> Vec<Item> {
    let mut q = query.clone().limit(limit);
    let mut out: Vec<Item> = Vec::new();
    let mut seen = HashSet::new();
    for round in 0.. {
        assert!(round < 1000, "endless pagination");
        let page = store.query(&q).await.unwrap();
        // The same page with its bodies unparsed: the same items, cursor and read count, and
        // every body decodes to the parsed one.
        let lazy = store.query_lazy(&q).await.unwrap();
        assert_eq!((&lazy.next, lazy.read), (&page.next, page.read));
        for item in &lazy.items {
            assert_eq!(item.decode::<serde_json::Value>().unwrap(), {
                let parsed = item.clone().into_item().unwrap();
                parsed.body
            });
        }
        let lazy: Vec<Item> = lazy
            .items
            .into_iter()
            .map(|i| i.into_item().unwrap())
            .collect();
        assert_eq!(lazy, page.items, "query_lazy returns query's items");
        assert!(
            page.read >= page.items.len() && page.read <= limit + 1,
            "read {} for {} items at limit {limit}",
            page.read,
            page.items.len()
        );
        for item in &page.items {
            assert!(seen.insert(item.key()), "{:?} returned twice", item.key());
        }
        out.extend(page.items.iter().cloned());
        match page.next {
            Some(next) => {
                assert_eq!(page.items.len(), limit, "a page with a next cursor is full");
                let last = page.items.last().unwrap();
                assert_eq!(next, Cursor::after(last, q.index));
                // The cursor survives its text form.
                q.after = Some(Cursor::decode(&next.encode()).unwrap());
            }
            None => {
                assert!(
                    !page.items.is_empty() || round == 0,
                    "an empty last page after a next cursor"
                );
                break;
            }
        }
    }
    out
}

fn keys(items: &[Item]) -> Vec<Key> {
    items.iter().map(Item::key).collect()
}

async fn pagination_at_every_page_size(store: &dyn Store) {
    let items = seed_pagination(store).await;
    let n = items.len();
    let all = Query::partition(Index::Primary, "P#1");

    let whole = store.query(&all).await.unwrap();
    assert_eq!(whole.items, items, "no limit: the whole partition in order");
    assert_eq!(whole.next, None);
    assert!(whole.read >= n);

    let mut reversed = items.clone();
    reversed.reverse();
    for limit in [1, 2, 3, 5, 7, n - 1, n, n + 1, 1000] {
        assert_eq!(
            pages(store, &all, limit).await,
            items,
            "forward, limit {limit}"
        );
        assert_eq!(
            pages(store, &all.clone().backward(), limit).await,
            reversed,
            "backward, limit {limit}"
        );
    }

    // Exactly one full page: no next cursor, no empty page after it.
    let one = store.query(&all.clone().limit(n)).await.unwrap();
    assert_eq!((one.items.len(), one.next), (n, None));

    // A cursor still resumes when its item was deleted in between.
    let first = store.query(&all.clone().limit(3)).await.unwrap();
    let cut = first.items[2].key();
    store.delete(&cut, Condition::None).await.unwrap();
    let second = store
        .query(&all.clone().limit(3).after(first.next.clone()))
        .await
        .unwrap();
    assert_eq!(keys(&second.items), keys(&items[3..6]));

    // Empty partition.
    let none = store
        .query(&Query::partition(Index::Primary, "P#2").limit(5))
        .await
        .unwrap();
    assert_eq!((none.items, none.next), (vec![], None));
}

async fn sort_key_ranges(store: &dyn Store) {
    let items = seed_pagination(store).await;
    let base = Query::partition(Index::Primary, "P#1");
    let s = String::from;
    let ranges = [
        SkRange::BeginsWith(s("S#")),
        SkRange::BeginsWith(s("S#1")),
        SkRange::BeginsWith(s("S#é")),
        SkRange::BeginsWith(s("S")),
        SkRange::BeginsWith(s("S#\u{E000}")),
        SkRange::BeginsWith(s("Q")),
        SkRange::BeginsWith(s("")),
        SkRange::Between(s("S#05"), s("S#12")),
        SkRange::Between(s("S#05"), s("S#05")),
        SkRange::Between(s("S#051"), s("S#059")),
        SkRange::Between(s("A"), s("S#00")),
        SkRange::Between(s("S#12"), s("S#05")),
        SkRange::Between(s(""), s("S#01")),
        SkRange::AtLeast(s("S#20")),
        SkRange::AtLeast(s("S#z")),
        SkRange::AtLeast(s("")),
        SkRange::AtMost(s("S#03")),
        SkRange::AtMost(s("S")),
        SkRange::AtMost(s("")),
        SkRange::All,
    ];
    for range in ranges {
        let want: Vec<Item> = items
            .iter()
            .filter(|i| range.contains(&i.sk))
            .cloned()
            .collect();
        let q = base.clone().range(range.clone());
        assert_eq!(
            store.query(&q).await.unwrap().items,
            want,
            "{range:?}, whole"
        );
        let mut reversed = want.clone();
        reversed.reverse();
        for limit in [1, 4] {
            assert_eq!(
                pages(store, &q, limit).await,
                want,
                "{range:?}, limit {limit}"
            );
            assert_eq!(
                pages(store, &q.clone().backward(), limit).await,
                reversed,
                "{range:?} backward, limit {limit}"
            );
        }
    }
}

async fn secondary_indexes(store: &dyn Store) {
    // 30 items: gsi1 on two thirds (two partitions), gsi2 on every other one.
    let mut items = Vec::new();
    for i in 0..30 {
        let mut item = Item::new("DOC", format!("D#{i:02}"), json!({"i": i}));
        if i % 3 != 0 {
            let user = if i % 3 == 1 { "USER#a" } else { "USER#b" };
            // Index sort keys deliberately not in primary-key order.
            item = item.with_gsi1(user, format!("T#{:02}#{i:02}", (i * 7) % 30));
        }
        if i % 2 == 0 {
            item = item.with_gsi2("OPEN", format!("{:02}", 29 - i));
        }
        items.push(item);
    }
    store.put_many(items.clone()).await.unwrap();
    store
        .put(
            Item::new("OTHER", "x", json!(0)).with_gsi1("USER#aa", "T#00"),
            Condition::None,
        )
        .await
        .unwrap();

    let expect = |index: Index, pk: &str, range: &SkRange| -> Vec<Item> {
        let mut v: Vec<Item> = items
            .iter()
            .filter(|i| {
                i.index_key(index)
                    .is_some_and(|k| k.pk == pk && range.contains(&k.sk))
            })
            .cloned()
            .collect();
        v.sort_by_key(|i| i.index_key(index).map(|k| k.sk));
        v
    };
    let cases = [
        (Index::Gsi1, "USER#a", SkRange::All),
        (Index::Gsi1, "USER#b", SkRange::All),
        (Index::Gsi1, "USER#a", SkRange::BeginsWith("T#1".into())),
        (
            Index::Gsi1,
            "USER#b",
            SkRange::Between("T#05".into(), "T#20#99".into()),
        ),
        (Index::Gsi1, "USER#a", SkRange::AtLeast("T#21".into())),
        (Index::Gsi1, "USER#a", SkRange::AtMost("T#10#10".into())),
        (Index::Gsi1, "USER#c", SkRange::All),
        (Index::Gsi2, "OPEN", SkRange::All),
        (
            Index::Gsi2,
            "OPEN",
            SkRange::Between("03".into(), "11".into()),
        ),
    ];
    for (index, pk, range) in cases {
        let want = expect(index, pk, &range);
        if pk != "USER#c" {
            assert!(
                !want.is_empty(),
                "{index:?} {pk} {range:?} matches something"
            );
        }
        let q = Query::partition(index, pk).range(range.clone());
        assert_eq!(
            store.query(&q).await.unwrap().items,
            want,
            "{index:?} {pk} {range:?}"
        );
        let mut reversed = want.clone();
        reversed.reverse();
        for limit in [1, 3, 10] {
            assert_eq!(
                pages(store, &q, limit).await,
                want,
                "{index:?} {pk} {range:?} {limit}"
            );
            assert_eq!(
                pages(store, &q.clone().backward(), limit).await,
                reversed,
                "{index:?} {pk} {range:?} backward {limit}"
            );
        }
    }
    // Items without the index key are not in the index at all.
    let in_gsi1 = query_all(store, &Query::partition(Index::Gsi1, "USER#a"))
        .await
        .unwrap()
        .len()
        + query_all(store, &Query::partition(Index::Gsi1, "USER#b"))
            .await
            .unwrap()
            .len();
    assert_eq!(in_gsi1, 20);

    // Moving an item in the index (and out of it) moves it in queries.
    let moved = items[1].clone().with_gsi1("USER#b", "T#99");
    store.put(moved.clone(), Condition::None).await.unwrap();
    let b = query_all(store, &Query::partition(Index::Gsi1, "USER#b"))
        .await
        .unwrap();
    assert_eq!(b.last(), Some(&moved));
    let a = query_all(store, &Query::partition(Index::Gsi1, "USER#a"))
        .await
        .unwrap();
    assert!(!a.iter().any(|i| i.key() == moved.key()));
    let mut out = moved.clone();
    out.gsi1 = None;
    store.put(out, Condition::None).await.unwrap();
    let b2 = query_all(store, &Query::partition(Index::Gsi1, "USER#b"))
        .await
        .unwrap();
    assert_eq!(b2.len(), b.len() - 1);
    store
        .delete(&items[2].key(), Condition::None)
        .await
        .unwrap();
    let b3 = query_all(store, &Query::partition(Index::Gsi1, "USER#b"))
        .await
        .unwrap();
    assert_eq!(b3.len(), b.len() - 2);
}

async fn cursors_are_checked(store: &dyn Store) {
    seed_pagination(store).await;
    // Cursor text that is not a cursor.
    for text in ["", "!!!", "bm90IGpzb24", "e30"] {
        assert_eq!(
            Cursor::decode(text),
            Err(StoreError::InvalidCursor),
            "{text:?}"
        );
    }
    let q = Query::partition(Index::Primary, "P#1").limit(2);
    let page = store.query(&q).await.unwrap();
    let next = page.next.clone().unwrap();

    // A cursor of another partition, outside the range, or of another index.
    let foreign = Cursor {
        pk: "P#2".into(),
        ..next.clone()
    };
    let outside = Cursor {
        sk: "A".into(),
        ..next.clone()
    };
    // Keys DynamoDB would refuse as a start key: over its sizes, or empty.
    let long_sk = Cursor {
        sk: format!("S#{}", "9".repeat(1100)),
        ..next.clone()
    };
    let empty_sk = Cursor {
        sk: String::new(),
        ..next.clone()
    };
    for sk in ["a", "b"] {
        let item = Item::new("G#1", sk, json!(1)).with_gsi1("CURSOR#g", format!("T#{sk}"));
        store.put(item, Condition::None).await.unwrap();
    }
    let gsi = Query::partition(Index::Gsi1, "CURSOR#g").limit(1);
    let gsi_next = store.query(&gsi).await.unwrap().next.unwrap();
    let long_table_pk = Cursor {
        pk: "P".repeat(2100),
        ..gsi_next.clone()
    };
    let half_index_keys = Cursor {
        isk: None,
        ..gsi_next.clone()
    };
    let bad = [
        (q.clone().after(Some(long_sk)), "a sort key over 1024 bytes"),
        (q.clone().after(Some(empty_sk)), "an empty sort key"),
        (
            gsi.clone().after(Some(long_table_pk)),
            "a gsi1 cursor whose table key is over 2048 bytes",
        ),
        (
            gsi.clone().after(Some(half_index_keys)),
            "a gsi1 cursor without its index sort key",
        ),
        (q.clone().after(Some(foreign)), "another partition"),
        (
            q.clone()
                .range(SkRange::BeginsWith("S#".into()))
                .after(Some(outside)),
            "outside the range",
        ),
        (
            Query::partition(Index::Gsi1, "P#1").after(Some(next.clone())),
            "a primary cursor on gsi1",
        ),
    ];
    for (query, what) in bad {
        assert_eq!(
            store.query(&query).await,
            Err(StoreError::InvalidCursor),
            "{what}"
        );
    }
    // A page size of 0 and an empty partition key are refused.
    assert!(matches!(
        store.query(&q.clone().limit(0)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.query(&Query::partition(Index::Primary, "")).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn expiry_round_trips(store: &dyn Store) {
    let past = Item::new("X", "past", json!(1)).with_expiry(1_000_000_000);
    let future = Item::new("X", "future", json!(2))
        .with_expiry(FAR_FUTURE)
        .with_gsi2("EXP", "1");
    store.put(past.clone(), Condition::None).await.unwrap();
    store.put(future.clone(), Condition::None).await.unwrap();
    // TTL deletes lazily: an item past its expiry still reads back, expiry included.
    assert_eq!(store.get(&past.key()).await, Ok(Some(past.clone())));
    assert_eq!(store.get(&future.key()).await, Ok(Some(future.clone())));
    assert_eq!(
        store
            .query(&Query::partition(Index::Primary, "X"))
            .await
            .unwrap()
            .items,
        vec![future.clone(), past]
    );
    assert_eq!(
        store
            .query(&Query::partition(Index::Gsi2, "EXP"))
            .await
            .unwrap()
            .items,
        vec![future]
    );
}

async fn get_many_reads_in_order(store: &dyn Store) {
    assert_eq!(store.get_many(&[]).await, Ok(vec![]));
    // 230 stored items (more than one BatchGetItem of 100), every third key asked for missing,
    // and some keys twice.
    let items: Vec<Item> = (0..230)
        .map(|i| {
            let mut item = Item::new(
                format!("MANY#{}", i % 7),
                format!("K#{i:04}"),
                json!({"i": i, "pad": "x".repeat(i * 3)}),
            )
            .with_version(i as u64 % 5 + 1);
            if i % 11 == 0 {
                item = item.with_gsi1("MANYIDX", format!("{i:04}"));
            }
            item
        })
        .collect();
    store.put_many(items.clone()).await.unwrap();
    let mut keys = Vec::new();
    let mut expected = Vec::new();
    for (i, item) in items.iter().enumerate().rev() {
        keys.push(item.key());
        expected.push(Some(item.clone()));
        if i % 3 == 0 {
            keys.push(key(&item.pk, &format!("K#{i:04}#missing")));
            expected.push(None);
        }
        if i % 50 == 0 {
            keys.push(items[0].key());
            expected.push(Some(items[0].clone()));
        }
    }
    assert!(keys.len() > 300);
    let got = store.get_many(&keys).await.unwrap();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    // Each answer is what `get` answers.
    for (k, g) in keys.iter().zip(&got).step_by(37) {
        assert_eq!(&store.get(k).await.unwrap(), g);
    }
    // A bad key fails the whole read, naming the problem.
    assert!(matches!(
        store.get_many(&[items[1].key(), key("", "x")]).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn put_many_writes_everything(store: &dyn Store) {
    // 130 items over several batches of 25, two partitions, one key written twice (the
    // last write wins), overwriting an existing item.
    store
        .put(Item::new("M#a", "i#000", json!("old")), Condition::None)
        .await
        .unwrap();
    let mut items: Vec<Item> = (0..130)
        .map(|i| {
            let pk = if i % 2 == 0 { "M#a" } else { "M#b" };
            Item::new(
                pk,
                format!("i#{i:03}"),
                json!({"i": i, "pad": "x".repeat(300)}),
            )
            .with_gsi1("M", format!("{i:03}"))
        })
        .collect();
    let again = Item::new("M#b", "i#001", json!("second write")).with_version(7);
    items.push(again.clone());
    store.put_many(items.clone()).await.unwrap();

    let mut want_a: Vec<Item> = items.iter().filter(|i| i.pk == "M#a").cloned().collect();
    want_a.sort_by(|x, y| x.sk.cmp(&y.sk));
    let mut want_b: Vec<Item> = items[..130]
        .iter()
        .filter(|i| i.pk == "M#b")
        .cloned()
        .collect();
    want_b[0] = again;
    assert_eq!(dump(store, &["M#a"]).await, want_a);
    assert_eq!(dump(store, &["M#b"]).await, want_b);
    let in_gsi1 = query_all(store, &Query::partition(Index::Gsi1, "M"))
        .await
        .unwrap();
    assert_eq!(
        in_gsi1.len(),
        129,
        "the second write of i#001 has no gsi1 key"
    );
    store.put_many(vec![]).await.unwrap();
}

async fn keys_are_checked(store: &dyn Store) {
    let invalid = |r: Result<(), StoreError>, what: &str| {
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{what}: {r:?}");
    };
    invalid(
        store
            .put(Item::new("K", "", json!(1)), Condition::None)
            .await,
        "empty sort key",
    );
    invalid(
        store
            .put(Item::new("", "s", json!(1)), Condition::None)
            .await,
        "empty partition key",
    );
    invalid(
        store
            .put(
                Item::new("K", "s", json!(1)).with_gsi1("", "x"),
                Condition::None,
            )
            .await,
        "empty gsi1 key",
    );
    invalid(
        store
            .put(Item::new("K", "x".repeat(1025), json!(1)), Condition::None)
            .await,
        "sort key over 1024 bytes",
    );
    invalid(
        store
            .put_many(vec![
                Item::new("K", "ok", json!(1)),
                Item::new("K", "", json!(1)),
            ])
            .await,
        "put_many with an empty sort key",
    );
    invalid(
        store
            .transact(vec![
                TxOp::put(Item::new("K", "ok", json!(1)), Condition::None),
                TxOp::add(key("K", ""), 1),
            ])
            .await,
        "transaction with an empty sort key",
    );
    assert!(matches!(
        store.add(&key("", "s"), 1).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.get(&key("K", "")).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(dump(store, &["K"]).await, vec![]);
    // The longest keys are fine.
    let long = Item::new("K".repeat(2048), "s".repeat(1024), json!(1));
    store.put(long.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&long.key()).await, Ok(Some(long)));
}

// ---- The embedded store's own promise: persistence. ----

fn log_lines(dir: &TempDir) -> usize {
    std::fs::read_to_string(dir.path().join(LOG_FILE))
        .unwrap()
        .lines()
        .count()
}

/// Everything a query can see in the partitions and indexes the persistence tests use.
async fn state(store: &dyn Store) -> Vec<Vec<Item>> {
    let mut out = Vec::new();
    for pk in ["A", "B", "C", "M"] {
        out.push(
            query_all(store, &Query::partition(Index::Primary, pk))
                .await
                .unwrap(),
        );
    }
    for (index, pk) in [(Index::Gsi1, "G"), (Index::Gsi2, "H")] {
        out.push(
            query_all(store, &Query::partition(index, pk))
                .await
                .unwrap(),
        );
    }
    out
}

async fn write_everything(store: &dyn Store) {
    store.put(full_item(), Condition::None).await.unwrap();
    for i in 0..20 {
        let item = Item::new("A", format!("{i:02}"), json!({"i": i}))
            .with_gsi1("G", format!("{:02}", 19 - i))
            .with_gsi2("H", format!("{i:02}"))
            .with_version(i);
        store.put(item, Condition::None).await.unwrap();
    }
    store
        .delete(&key("A", "05"), Condition::None)
        .await
        .unwrap();
    store
        .transact(vec![
            TxOp::put(Item::new("B", "1", json!("tx")), Condition::NotExists),
            TxOp::Delete {
                key: key("A", "06"),
                condition: Condition::Exists,
            },
            TxOp::Add {
                key: key("C", "n"),
                delta: 9,
                gsi1: Some(IndexKey::new("G", "zz")),
                expires_at: Some(FAR_FUTURE),
            },
        ])
        .await
        .unwrap();
    // A failed transaction leaves no trace, on disk either.
    assert!(store
        .transact(vec![
            TxOp::put(Item::new("B", "2", json!("no")), Condition::None),
            TxOp::put(Item::new("B", "1", json!("no")), Condition::NotExists),
        ])
        .await
        .is_err());
    store.add(&key("C", "n"), -4).await.unwrap();
    store
        .put_many(
            (0..50)
                .map(|i| Item::new("M", format!("{i:02}"), json!(i)))
                .collect(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn embedded_store_survives_a_restart() {
    let dir = TempDir::new("persist");
    let before = {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        write_everything(&store).await;
        let s = state(&store).await;
        assert_eq!(s[1], vec![Item::new("B", "1", json!("tx"))]);
        assert_eq!(s[2][0].count, Some(5));
        s
    };
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(state(&store).await, before);
    assert_eq!(store.get(&full_item().key()).await, Ok(Some(full_item())));

    // Writes after the reopen land after the replayed ones.
    store
        .put(Item::new("B", "3", json!(3)), Condition::NotExists)
        .await
        .unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(
        store.get(&key("B", "3")).await.unwrap().unwrap().body,
        json!(3)
    );
    assert_eq!(store.len(), 1 + 18 + 2 + 1 + 50);
}

#[tokio::test]
async fn embedded_store_compacts_its_log_on_open() {
    let dir = TempDir::new("compact");
    let before = {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        write_everything(&store).await;
        // Many more records than live items: 3000 overwrites of 10 counters.
        for round in 0..300 {
            for c in 0..10 {
                store.add(&key("C", &format!("c{c}")), round).await.unwrap();
            }
        }
        state(&store).await
    };
    let lines = log_lines(&dir);
    assert!(lines > 3000, "{lines} log lines before compaction");
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let live = store.len();
    assert_eq!(log_lines(&dir), live, "the log is one put per live item");
    assert_eq!(state(&store).await, before);
    assert_eq!(
        store.add(&key("C", "c3"), 0).await,
        Ok((0..300).sum::<i64>())
    );
    store
        .delete(&key("M", "00"), Condition::None)
        .await
        .unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(log_lines(&dir), live + 2, "a small log is not compacted");
    assert_eq!(store.len(), live - 1);
    assert_eq!(store.get(&key("M", "00")).await, Ok(None));
    let mut want = before;
    want[3].remove(0);
    assert_eq!(state(&store).await, want);
}

#[tokio::test]
async fn embedded_store_drops_a_torn_last_line() {
    use std::io::Write;
    let dir = TempDir::new("torn");
    let before = {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        write_everything(&store).await;
        state(&store).await
    };
    let path = dir.path().join(LOG_FILE);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    log.write_all(br#"{"put":{"pk":"B","sk":"9","bo"#).unwrap();
    drop(log);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(state(&store).await, before);
    store
        .put(Item::new("B", "4", json!(4)), Condition::None)
        .await
        .unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(
        store.get(&key("B", "4")).await.unwrap().unwrap().body,
        json!(4)
    );
    assert_eq!(store.get(&key("B", "9")).await, Ok(None));

    // Damage in the middle of the log is not a torn write: opening refuses.
    drop(store);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("not json\n{text}")).unwrap();
    assert!(matches!(
        EmbeddedStore::open(dir.path()),
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn embedded_store_in_memory_writes_no_file() {
    let store = EmbeddedStore::in_memory();
    write_everything(&store).await;
    assert_eq!(store.len(), 1 + 18 + 1 + 1 + 50);
    assert!(!store.is_empty());
}
