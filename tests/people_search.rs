//! Search that finds people (SPEC A12), on both store adapters: practitioners and specialists
//! found by any word of the name, by prefix, case- and accent-insensitively, and by a word of
//! the specialty; in the referral specialist search and in every admin tab that searches a
//! name. The word index ingest keeps is asserted item by item (a renamed practitioner loses
//! the old words), and a search reads a bounded number of items per result, however many
//! practitioners the platform has.

#![allow(clippy::unwrap_used)]

use crate::admin::{fixture, principal, world_with, World};
use crate::support::events::practitioner;
use domain::auth::{Principal, Role};
use domain::events::ingest::ingest_batch;
use domain::ports::store::query_all;
use domain::ports::{Index, Query, Store};
use domain::readmodels::lists;
use serde_json::{json, Value};
use std::sync::Arc;

/// The admin fixture and a few more practitioners: Lucía Moreau (dermatology, approved), a
/// pending dermatologist with two names beginning with "p", and `filler` approved general practitioners named so that no search
/// of the scenarios finds them.
fn events(filler: usize) -> Vec<Value> {
    let at = crate::admin::at(-1000);
    let mut events = fixture();
    events.push(
        practitioner(
            "prac_lm",
            "Lucía Moreau",
            &["Dermatology", "Sexual health"],
            "approved",
            4000,
            false,
        )
        .event("s01", at.clone()),
    );
    events.push(
        practitioner(
            "prac_pd",
            "Paul Pierre Derrien",
            &["Dermatology"],
            "pending",
            4000,
            false,
        )
        .event("s02", at.clone()),
    );
    for i in 0..filler {
        events.push(
            practitioner(
                &format!("prac_f{i:04}"),
                &format!("Filler Person{i:04}"),
                &["General practice"],
                "approved",
                3000,
                false,
            )
            .event(&format!("sf{i:04}"), at.clone()),
        );
    }
    events
}

fn referrer() -> Principal {
    Principal {
        sub: "prac_b".into(),
        role: Role::Practitioner,
        orgs: vec![],
        clinics: vec![],
    }
}

/// The ids a list answers, in order (`practitioner_id`, or the row's practitioner).
fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.get("practitioner_id")
                .or_else(|| r.get("practitioner").and_then(|p| p.get("id")))
                .or_else(|| r.get("thread_id"))
                .and_then(Value::as_str)
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The specialists `GET /referrals/specialists` answers for this query string.
async fn specialists(w: &World, query: &[(&str, &str)]) -> Vec<String> {
    let a = w
        .call_as(
            Some(referrer()),
            "GET",
            "/referrals/specialists",
            query,
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    ids(&a.body["items"])
}

/// The word index as stored: `(partition, sort key)` of every item, in key order.
async fn index(store: &dyn Store, list: &str) -> Vec<String> {
    query_all(store, &Query::partition(Index::Gsi1, list))
        .await
        .unwrap()
        .iter()
        .map(|i| i.gsi1.as_ref().unwrap().sk.clone())
        .filter(|sk| !sk.contains("#prac_f"))
        .collect()
}

async fn specialists_by_any_word_and_specialty(store: Arc<dyn Store>) {
    let w = world_with(store, &events(0)).await;
    // Any word of the name, by prefix, case and accents ignored; approved only, never the
    // caller (prac_b, Bob Stone).
    assert_eq!(specialists(&w, &[("q", "moreau")]).await, ["prac_lm"]);
    assert_eq!(specialists(&w, &[("q", "LUCIA")]).await, ["prac_lm"]);
    assert_eq!(specialists(&w, &[("q", "muller")]).await, ["prac_a"]);
    assert_eq!(specialists(&w, &[("q", "ang")]).await, ["prac_a"]);
    assert_eq!(specialists(&w, &[("q", "Müll ÁNG")]).await, ["prac_a"]);
    assert_eq!(specialists(&w, &[("q", "dr. mu")]).await, ["prac_a"]);
    assert!(specialists(&w, &[("q", "ller")]).await.is_empty());
    assert!(specialists(&w, &[("q", "angela moreau")]).await.is_empty());
    assert!(specialists(&w, &[("q", "stone")]).await.is_empty());
    // The specialty by any word, by prefix; the pending dermatologist is left out.
    assert_eq!(
        specialists(&w, &[("specialty", "derm")]).await,
        ["prac_a", "prac_lm"]
    );
    assert_eq!(
        specialists(&w, &[("specialty", "HEALTH")]).await,
        ["prac_lm"]
    );
    assert_eq!(
        specialists(&w, &[("q", "luc"), ("specialty", "dermatology")]).await,
        ["prac_lm"]
    );
    assert!(specialists(&w, &[("q", "ang"), ("specialty", "sexual")])
        .await
        .is_empty());
    // Pages of a search follow each other without repeating anyone.
    let a = w
        .call_as(
            Some(referrer()),
            "GET",
            "/referrals/specialists",
            &[("specialty", "derm"), ("limit", "1")],
            None,
        )
        .await;
    assert_eq!(ids(&a.body["items"]), ["prac_a"]);
    let cursor = a.body["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        specialists(
            &w,
            &[("specialty", "derm"), ("limit", "1"), ("cursor", &cursor)]
        )
        .await,
        ["prac_lm"]
    );
}

async fn the_index_follows_renames(store: Arc<dyn Store>) {
    let w = world_with(store.clone(), &events(0)).await;
    assert_eq!(
        index(&*store, lists::PRACTITIONER_NAME_WORDS).await,
        [
            "angela#prac_a",
            "bob#prac_b",
            "derrien#prac_pd",
            "dr#prac_a",
            "lucia#prac_lm",
            "moreau#prac_lm",
            "muller#prac_a",
            "paul#prac_pd",
            "pierre#prac_pd",
            "stone#prac_b",
        ]
    );
    assert_eq!(
        index(&*store, lists::PRACTITIONER_SPECIALTY_WORDS).await,
        [
            "dermatology#prac_a",
            "dermatology#prac_lm",
            "dermatology#prac_pd",
            "general#prac_b",
            "health#prac_lm",
            "practice#prac_b",
            "sexual#prac_lm",
        ]
    );
    // Lucía marries: the new name replaces the old words, in the profile's transaction.
    let renamed = practitioner(
        "prac_lm",
        "Lucía Moreau-Ibáñez",
        &["Dermatology"],
        "approved",
        4000,
        false,
    )
    .event("s03", crate::admin::at(-10));
    let report = ingest_batch(&*store, crate::admin::t(0), &[renamed])
        .await
        .unwrap();
    assert_eq!(report.accepted, 1, "{:?}", report.results);
    let lucia: Vec<String> = index(&*store, lists::PRACTITIONER_NAME_WORDS)
        .await
        .into_iter()
        .filter(|k| k.ends_with("#prac_lm"))
        .collect();
    assert_eq!(lucia, ["ibanez#prac_lm", "lucia#prac_lm", "moreau#prac_lm"]);
    let specialty: Vec<String> = index(&*store, lists::PRACTITIONER_SPECIALTY_WORDS)
        .await
        .into_iter()
        .filter(|k| k.ends_with("#prac_lm"))
        .collect();
    assert_eq!(specialty, ["dermatology#prac_lm"]);
    assert_eq!(specialists(&w, &[("q", "ibanez")]).await, ["prac_lm"]);
    assert!(specialists(&w, &[("specialty", "sexual")]).await.is_empty());
    // An older profile arriving late changes neither the profile nor its words.
    let late = practitioner(
        "prac_lm",
        "Old Name",
        &["Nutrition"],
        "approved",
        4000,
        false,
    )
    .event("s04", crate::admin::at(-20));
    ingest_batch(&*store, crate::admin::t(0), &[late])
        .await
        .unwrap();
    assert!(specialists(&w, &[("q", "old")]).await.is_empty());
    assert_eq!(specialists(&w, &[("q", "ibáñez")]).await, ["prac_lm"]);
}

async fn admin_tabs_search_by_word(store: Arc<dyn Store>) {
    let w = world_with(store, &events(0)).await;
    // Practitioners: by a word of the name, and by specialty (with the approval filter).
    assert_eq!(
        ids(&w.rows("/admin/practitioners", &[("q", "MULL")]).await),
        ["prac_a"]
    );
    assert_eq!(
        ids(&w
            .rows("/admin/practitioners", &[("specialty", "derm")])
            .await),
        ["prac_a", "prac_lm", "prac_pd"]
    );
    assert_eq!(
        ids(&w
            .rows(
                "/admin/practitioners",
                &[("specialty", "derm"), ("approval", "pending")]
            )
            .await),
        ["prac_pd"]
    );
    assert_eq!(
        ids(&w
            .rows("/admin/practitioners", &[("specialty", "gen"), ("q", "st")])
            .await),
        ["prac_b"]
    );
    // A practitioner with several words beginning with the search is one row.
    assert_eq!(
        ids(&w.rows("/admin/practitioners", &[("q", "p")]).await),
        ["prac_pd"]
    );
    assert!(w
        .rows("/admin/practitioners", &[("q", "ller")])
        .await
        .as_array()
        .unwrap()
        .is_empty());
    // Calls and Payments, all time and in a period.
    for q in ["ang", "muller"] {
        assert_eq!(ids(&w.rows("/admin/calls", &[("q", q)]).await), ["prac_a"]);
        assert_eq!(
            ids(&w
                .rows(
                    "/admin/calls",
                    &[("q", q), ("from", "2026-03-01"), ("to", "2026-03-31")]
                )
                .await),
            ["prac_a"]
        );
        assert_eq!(
            ids(&w.rows("/admin/payments", &[("q", q)]).await),
            ["prac_a"]
        );
        assert_eq!(
            ids(&w
                .rows(
                    "/admin/payments",
                    &[("q", q), ("from", "2026-03-01"), ("to", "2026-03-31")]
                )
                .await),
            ["prac_a"]
        );
    }
    // Moreau has neither calls nor payments: found, but no row.
    assert!(w
        .rows("/admin/calls", &[("q", "moreau")])
        .await
        .as_array()
        .unwrap()
        .is_empty());
    // Feed and Payment items: by word prefix of a name the row shows.
    assert_eq!(
        ids(&w.rows("/admin/feed", &[("q", "ang mul")]).await),
        ["thr_1"]
    );
    assert!(w
        .rows("/admin/feed", &[("q", "ller")])
        .await
        .as_array()
        .unwrap()
        .is_empty());
    // Zoë Nuñez's one payment, with Dr. Müller.
    assert_eq!(
        ids(&w.rows("/admin/payment-items", &[("q", "nun")]).await),
        ["prac_a"]
    );
    // `specialty` is bounded and given once.
    let long = "d".repeat(101);
    for query in [
        vec![("specialty", long.as_str())],
        vec![("specialty", "a"), ("specialty", "b")],
        vec![("specialty", "a\u{7}")],
    ] {
        let a = w.get("/admin/practitioners", &query).await;
        assert_eq!(
            (a.status, a.body["field"].clone()),
            (400, json!("specialty"))
        );
    }
    let a = w
        .call_as(
            Some(principal(Role::PlatformAdmin)),
            "GET",
            "/admin/calls",
            &[("specialty", "derm")],
            None,
        )
        .await;
    assert_eq!((a.status, a.body["field"].clone()), (400, json!("query")));
}

/// With 40 more practitioners, a search reads a few items per result: the index items of
/// the matching words and the profile (or totals) of each hit, never the whole list.
async fn a_search_reads_a_bounded_number_of_items(store: Arc<dyn Store>) {
    let w = world_with(store, &events(40)).await;
    let a = w.get("/admin/practitioners", &[("q", "moreau")]).await;
    assert_eq!(ids(&a.body["items"]), ["prac_lm"]);
    assert_eq!(a.read, Some(2));
    let a = w
        .get("/admin/practitioners", &[("specialty", "derm")])
        .await;
    assert_eq!(ids(&a.body["items"]), ["prac_a", "prac_lm", "prac_pd"]);
    assert_eq!(a.read, Some(6));
    let a = w.get("/admin/calls", &[("q", "muller")]).await;
    assert_eq!(ids(&a.body["items"]), ["prac_a"]);
    assert_eq!(a.read, Some(2));
    let a = w.get("/admin/practitioners", &[("q", "person0012")]).await;
    assert_eq!(ids(&a.body["items"]), ["prac_f0012"]);
    assert_eq!(a.read, Some(2));
    assert_eq!(specialists(&w, &[("q", "moreau")]).await, ["prac_lm"]);
}

/// A rename whose transaction fails changes neither the profile nor its words; the event,
/// delivered again, lands both.
async fn a_failed_rename_changes_nothing(store: Arc<dyn Store>) {
    let failing = crate::support::FailingWrites::new(store);
    let store: Arc<dyn Store> = failing.clone();
    let w = world_with(store.clone(), &events(0)).await;
    let renamed = practitioner(
        "prac_lm",
        "Lucía Ibáñez",
        &["Nutrition"],
        "approved",
        4000,
        false,
    )
    .event("s05", crate::admin::at(-10));
    failing.arm(true);
    assert!(
        ingest_batch(&*store, crate::admin::t(0), std::slice::from_ref(&renamed))
            .await
            .is_err()
    );
    failing.arm(false);
    let words = |list: &'static str| {
        let store = store.clone();
        async move {
            index(&*store, list)
                .await
                .into_iter()
                .filter(|k| k.ends_with("#prac_lm"))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        words(lists::PRACTITIONER_NAME_WORDS).await,
        ["lucia#prac_lm", "moreau#prac_lm"]
    );
    assert_eq!(
        words(lists::PRACTITIONER_SPECIALTY_WORDS).await,
        ["dermatology#prac_lm", "health#prac_lm", "sexual#prac_lm"]
    );
    assert_eq!(specialists(&w, &[("q", "moreau")]).await, ["prac_lm"]);
    let report = ingest_batch(&*store, crate::admin::t(0), &[renamed])
        .await
        .unwrap();
    assert_eq!(report.accepted, 1, "{:?}", report.results);
    assert_eq!(
        words(lists::PRACTITIONER_NAME_WORDS).await,
        ["ibanez#prac_lm", "lucia#prac_lm"]
    );
    assert_eq!(
        words(lists::PRACTITIONER_SPECIALTY_WORDS).await,
        ["nutrition#prac_lm"]
    );
    assert!(specialists(&w, &[("q", "moreau")]).await.is_empty());
}

crate::support::on_each_store!(
    specialists_by_any_word_and_specialty,
    the_index_follows_renames,
    admin_tabs_search_by_word,
    a_search_reads_a_bounded_number_of_items,
    a_failed_rename_changes_nothing,
);
