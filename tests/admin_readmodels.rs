//! The read models the admin tabs are served from (SPEC Q4, items read per row): names are
//! copied into the list items and kept current, totals are kept on the items that list them,
//! so a page is one Query of its rows. Checked here through the tabs themselves: the rows do
//! not depend on the order events arrive in (the admin fixture forwards and backwards), a new
//! name reaches every copy (an older one changes nothing), and a name arriving after more
//! items than one transaction holds still reaches all of them.

#![allow(clippy::unwrap_used)]

use crate::admin::{at, fixture, t, world, world_with, World};
use crate::support::events::{patient, payment, practitioner};
use domain::ports::Store;
use local_adapters::embedded_store::EmbeddedStore;
use serde_json::{json, Value};
use std::sync::Arc;

fn embedded() -> Arc<dyn Store> {
    Arc::new(EmbeddedStore::in_memory())
}

/// Every tab's rows (some with a filter), and the reads of each unfiltered page.
async fn every_tab(w: &World) -> Vec<(String, Value)> {
    let asks: &[(&str, &[(&str, &str)])] = &[
        ("/admin/feed", &[]),
        ("/admin/feed", &[("q", "muller")]),
        ("/admin/consultations", &[]),
        ("/admin/consultations", &[("q", "stone")]),
        ("/admin/ratings", &[]),
        ("/admin/payment-items", &[]),
        ("/admin/payment-items", &[("q", "zoe")]),
        ("/admin/vouchers", &[]),
        ("/admin/practitioners", &[]),
        ("/admin/calls", &[]),
        (
            "/admin/calls",
            &[("from", "2026-03-01"), ("to", "2026-03-03")],
        ),
        ("/admin/payments", &[]),
        (
            "/admin/payments",
            &[("from", "2026-03-01"), ("to", "2026-03-03")],
        ),
        ("/admin/threads/thr_1", &[]),
    ];
    let mut out = Vec::new();
    for (path, query) in asks {
        let a = w.get(path, query).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let label = format!("{path} {query:?}");
        if path.starts_with("/admin/threads/") {
            out.push((label, json!([a.body["thread"], a.body["messages"]])));
        } else {
            out.push((label, a.body["items"].clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_do_not_depend_on_arrival_order() {
    let forward = world(embedded()).await;
    let mut reversed = fixture();
    reversed.reverse();
    let backward = world_with(embedded(), &reversed).await;
    let a = every_tab(&forward).await;
    let b = every_tab(&backward).await;
    for ((label, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x, y, "{label}");
    }
    // The names and totals are there at all (not equally missing on both sides).
    let feed = &a[0].1;
    assert_eq!(feed[1]["practitioners"][0]["name"], "Dr. Ángela Müller");
    assert_eq!(feed[1]["patients"][0]["name"], "Zoë Nuñez");
    let calls = &a[9].1;
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    assert_eq!(
        calls, &a[10].1,
        "all time equals the period holding every call"
    );
    assert_eq!(
        &a[11].1, &a[12].1,
        "payments: all time equals the whole period"
    );
}

/// The names every tab shows for `prac_a` and `pat_1`.
async fn names_shown(w: &World) -> Vec<Value> {
    let feed = w.rows("/admin/feed", &[]).await;
    let thr_1 = feed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["thread_id"] == "thr_1")
        .unwrap()
        .clone();
    let cons = w.rows("/admin/consultations", &[]).await;
    let cons_1 = cons
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["consultation_id"] == "cons_1")
        .unwrap()
        .clone();
    let ratings = w.rows("/admin/ratings", &[]).await;
    let items = w.rows("/admin/payment-items", &[]).await;
    let pay_1 = items
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["payment_id"] == "pay_1")
        .unwrap()
        .clone();
    let calls = w.rows("/admin/calls", &[]).await;
    let payments = w.rows("/admin/payments", &[]).await;
    let thread = w.get("/admin/threads/thr_1", &[]).await.body;
    vec![
        thr_1["practitioners"][0]["name"].clone(),
        thr_1["patients"][0]["name"].clone(),
        cons_1["practitioner"]["name"].clone(),
        cons_1["patient"]["name"].clone(),
        ratings[1]["practitioner"]["name"].clone(),
        ratings[1]["patient"]["name"].clone(),
        pay_1["practitioner"]["name"].clone(),
        pay_1["patient"]["name"].clone(),
        calls[0]["practitioner"]["name"].clone(),
        payments
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["practitioner"]["id"] == "prac_a")
            .unwrap()["practitioner"]["name"]
            .clone(),
        thread["messages"][0]["sender"]["name"].clone(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_name_reaches_every_copy() {
    let w = world(embedded()).await;
    let old = names_shown(&w).await;
    let (a, z) = (json!("Dr. Ángela Müller"), json!("Zoë Nuñez"));
    assert_eq!(
        old,
        vec![
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            a.clone(),
            a.clone(),
            z.clone()
        ]
    );
    let prac = |id: &str, m: i64, name: &str| {
        practitioner("prac_a", name, &["Dermatology"], "approved", 4500, true).event(id, at(m))
    };
    let pat = |id: &str, m: i64, name: &str| patient("pat_1", name).event(id, at(m));
    let batch = [
        prac("r1", 500, "Dr. Ángela Roth"),
        pat("r2", 500, "Zoë Weiß"),
        // Older than what is known: changes nothing.
        prac("r3", 400, "Dr. Old Name"),
        pat("r4", -2000, "Old Patient"),
    ];
    let r = domain::events::ingest::ingest_batch(&*w.deps.store, t(600), &batch)
        .await
        .unwrap();
    assert_eq!(r.accepted, 4, "{:?}", r.results);
    let (a, z) = (json!("Dr. Ángela Roth"), json!("Zoë Weiß"));
    assert_eq!(
        names_shown(&w).await,
        vec![
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            a.clone(),
            z.clone(),
            a.clone(),
            a.clone(),
            z.clone()
        ]
    );
    // The search follows the new name; the practitioners' list is in the new order.
    assert_eq!(
        w.rows("/admin/calls", &[("q", "roth")]).await[0]["practitioner"]["id"],
        "prac_a"
    );
    assert_eq!(w.rows("/admin/feed", &[("q", "muller")]).await, json!([]));
    assert_eq!(
        w.rows("/admin/feed", &[("q", "roth")]).await[0]["thread_id"],
        "thr_1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_name_reaches_more_copies_than_one_transaction_holds() {
    // 130 payments (and as many consultations) of a patient whose profile comes last: the
    // name must reach 260 items, more than one transaction's 100 writes.
    const N: usize = 130;
    let mut events = Vec::new();
    for i in 0..N {
        events.push(
            payment(
                &format!("pay_{i}"),
                "booked_appointment",
                &format!("thr_{i}"),
                "pat_late",
                "prac_late",
                1000,
                100,
            )
            .with("consultation_id", format!("cons_{i}"))
            .event(&format!("p{i}"), at(i as i64)),
        );
    }
    events.push(patient("pat_late", "Late Lou").event("name", at(-10)));
    let w = world_with(embedded(), &events).await;
    let mut named = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "50".to_string())];
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = w.get("/admin/payment-items", &q).await;
        let items = a.body["items"].as_array().unwrap().clone();
        for r in &items {
            assert_eq!(r["patient"]["name"], "Late Lou", "{r}");
            named += 1;
        }
        // One Query page: the rows and the one item past them.
        let more = a.body["next_cursor"].as_str().map(str::to_string);
        assert_eq!(
            a.read,
            Some(items.len() + usize::from(more.is_some())),
            "{}",
            a.body["read"]
        );
        match more {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(named, N);
    let cons = w.rows("/admin/consultations", &[("limit", "200")]).await;
    assert_eq!(cons.as_array().unwrap().len(), N);
    assert!(cons
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["patient"]["name"] == "Late Lou"));
    // The totals of the practitioner (no profile): every payment counted once.
    let payments = w.rows("/admin/payments", &[]).await;
    assert_eq!(
        payments,
        json!([{"practitioner": {"id": "prac_late", "name": null}, "totals": [{"currency": "EUR", "consultations": N, "payments": N, "total_minor": 1000 * N, "specialist_minor": 900 * N, "commission_minor": 100 * N}]}])
    );
}
