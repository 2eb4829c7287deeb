//! The admin area on the demo data (embedded store): the 14-day counts per consultation tag,
//! read from the per-day counts ingest keeps, equal a brute-force recomputation from the read
//! models (tags re-derived with the pure rule, not read back) at several "now" values, at a
//! number of store reads that does not depend on the data (17 without a zone, the same on an
//! empty store, at the demo volume and at a tenth of it); the tags ingest stored equal the rule's; the items each tab reads per row
//! (at most 1.05, SPEC Q4); and the practitioner's count and average every Ratings row shows
//! equal a brute-force recount of the ratings.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;
use domain::admin::consultations::{count_window, tag_counts, MAX_COUNT_READS};
use domain::admin::tags::{consultation_tags, ConsultationTag};
use domain::ports::store::{query_all, Index, Query, Store};
use domain::readmodels::{keys, lists, Consultation, ThreadSummary};
use local_adapters::demo::{load_demo, DemoConfig, Scale};
use local_adapters::embedded_store::EmbeddedStore;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

fn demo_now() -> DateTime<Utc> {
    "2026-05-15T10:30:00Z".parse().unwrap()
}

/// Every consultation with the tags the rule gives from its thread as stored.
async fn recomputed(store: &dyn Store) -> Vec<(Consultation, Vec<ConsultationTag>)> {
    let items = query_all(store, &Query::partition(Index::Gsi1, lists::CONSULTATIONS))
        .await
        .unwrap();
    let mut threads: HashMap<String, ThreadSummary> = HashMap::new();
    let mut out = Vec::new();
    for item in items {
        let c: Consultation = item.decode().unwrap();
        let thread = match &c.thread_id {
            Some(t) => {
                if !threads.contains_key(t) {
                    let s = match store.get(&keys::thread(t)).await.unwrap() {
                        Some(i) => i.decode().unwrap(),
                        None => ThreadSummary::default(),
                    };
                    threads.insert(t.clone(), s);
                }
                threads[t].clone()
            }
            None => ThreadSummary::default(),
        };
        let tags = consultation_tags(&c, &thread).into_iter().collect();
        out.push((c, tags));
    }
    out
}

/// The counts by brute force: consultations started in the window of `now` (in `tz`).
fn brute_force(
    all: &[(Consultation, Vec<ConsultationTag>)],
    now: DateTime<Utc>,
    tz: Option<Tz>,
) -> (i64, BTreeMap<ConsultationTag, i64>) {
    let (from, to) = count_window(now, tz);
    let mut counts: BTreeMap<ConsultationTag, i64> =
        ConsultationTag::ALL.iter().map(|t| (*t, 0)).collect();
    let mut total = 0;
    for (c, tags) in all {
        let Some(start) = c.started_at else { continue };
        let minute = start.duration_trunc(Duration::minutes(1)).unwrap();
        if minute < from || minute >= to {
            continue;
        }
        total += 1;
        for t in tags {
            *counts.get_mut(t).unwrap() += 1;
        }
    }
    (total, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_counts_equal_a_brute_force_recount_and_reads_stay_flat() {
    let store = Arc::new(EmbeddedStore::in_memory());
    let empty = tag_counts(&*store, demo_now(), None).await.unwrap();
    load_demo(&*store, &DemoConfig::demo(demo_now()))
        .await
        .unwrap();
    let all = recomputed(&*store).await;
    assert!(all.len() > 100, "the demo has consultations: {}", all.len());
    // What ingest stored is what the rule says.
    for (c, tags) in &all {
        assert_eq!(
            &c.tags.iter().copied().collect::<Vec<_>>(),
            tags,
            "{}",
            c.consultation_id
        );
    }
    let mut nonzero = 0;
    for days_back in [0i64, 1, 6, 13, 14, 30, 45, 90, 200] {
        let now = demo_now() - Duration::days(days_back) + Duration::hours(days_back % 7);
        for tz in [None, Some(Tz::America__New_York), Some(Tz::Asia__Kolkata)] {
            let counted = tag_counts(&*store, now, tz).await.unwrap();
            let (total, counts) = brute_force(&all, now, tz);
            assert_eq!(
                (counted.total, &counted.counts),
                (total, &counts),
                "now = {now}, tz = {tz:?}"
            );
            if total > 0 {
                nonzero += 1;
            }
            // One GetItem per item of the window: flat whatever the data, like on an empty
            // store.
            let on_empty = tag_counts(&EmbeddedStore::in_memory(), now, tz)
                .await
                .unwrap();
            assert_eq!(counted.read, on_empty.read);
            assert!(counted.read <= MAX_COUNT_READS, "{}", counted.read);
        }
        assert_eq!(empty.read, 17);
    }
    assert!(nonzero >= 5, "the windows chosen hold consultations");
    // A tenth of the volume: the counts of the same window read as many items.
    let small = EmbeddedStore::in_memory();
    let mut config = DemoConfig::demo(demo_now());
    config.scale = Scale {
        practitioners: config.scale.practitioners / 10,
        patients: config.scale.patients / 10,
        threads: config.scale.threads / 10,
        vouchers: config.scale.vouchers / 10,
        room_calls: config.scale.room_calls / 10,
        consultation_rows: config.scale.consultation_rows / 10,
        ..config.scale
    };
    load_demo(&small, &config).await.unwrap();
    let big = tag_counts(&*store, demo_now(), None).await.unwrap();
    let little = tag_counts(&small, demo_now(), None).await.unwrap();
    eprintln!(
        "admin 14-day counts: {} items read at the demo volume ({} consultations), {} at a tenth ({})",
        big.read, big.total, little.read, little.total
    );
    assert!(
        big.total > little.total,
        "{} vs {}",
        big.total,
        little.total
    );
    assert_eq!((big.read, little.read), (17, 17));
    ratings_show_the_recounted_averages(&*store).await;
    items_read_per_row(store).await;
}

/// Every row of the Ratings tab (all pages) shows its practitioner's count and average as a
/// brute-force recount of every rating listed gives them (long division, half up), and the
/// Practitioners tab (totals on the profiles) shows the same; every page reads its Query
/// items and one more (the rating totals).
async fn ratings_show_the_recounted_averages(store: &dyn Store) {
    use domain::admin::params::{ListParams, MAX_LIMIT};
    use domain::admin::practitioners::PractitionersTab;
    use domain::admin::ratings::RatingsTab;
    use domain::admin::tab::list_page;
    use domain::readmodels::Rating;
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let listed = query_all(store, &Query::partition(Index::Gsi1, lists::RATINGS))
        .await
        .unwrap();
    for item in &listed {
        let r: Rating = item.decode().unwrap();
        let e = sums.entry(r.practitioner_id).or_default();
        e.0 += 1;
        e.1 += i64::from(r.stars);
    }
    let expected = |prac: &str| -> (i64, Option<String>) {
        let Some(&(count, stars)) = sums.get(prac) else {
            return (0, None);
        };
        let (q, r) = (stars * 100 / count, stars * 100 % count);
        let h = if 2 * r >= count { q + 1 } else { q };
        (count, Some(format!("{}.{:02}", h / 100, h % 100)))
    };
    assert!(
        listed.len() > 200 && sums.len() > 50,
        "the demo has ratings: {} of {} practitioners",
        listed.len(),
        sums.len()
    );
    assert!(
        sums.values().any(|(c, _)| *c > 1),
        "some practitioner has several ratings"
    );
    let mut params = ListParams {
        limit: MAX_LIMIT,
        ..ListParams::default()
    };
    let mut rows = 0;
    loop {
        let page = list_page(&RatingsTab, store, &params).await.unwrap();
        for row in &page.items {
            let shown = (
                row.practitioner_rating_count,
                row.practitioner_rating_average.clone(),
            );
            assert_eq!(shown, expected(&row.practitioner.id), "{}", row.rating_id);
        }
        rows += page.items.len();
        let query_items = page.items.len() + usize::from(page.next_cursor.is_some());
        assert_eq!(page.read, query_items + 1);
        match page.next_cursor {
            Some(c) => params.cursor = Some(domain::ports::Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    assert_eq!(rows, listed.len());
    // The Practitioners tab, from the totals on each profile, agrees.
    let mut params = ListParams {
        limit: MAX_LIMIT,
        ..ListParams::default()
    };
    let tab = PractitionersTab {
        search: None,
        now: demo_now(),
        approvals: vec![],
    };
    let mut practitioners = 0;
    loop {
        let page = list_page(&tab, store, &params).await.unwrap();
        for p in &page.items {
            assert_eq!(
                (p.rating_count, p.rating_average.clone()),
                expected(&p.practitioner_id),
                "{}",
                p.practitioner_id
            );
        }
        practitioners += page.items.len();
        match page.next_cursor {
            Some(c) => params.cursor = Some(domain::ports::Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    assert!(practitioners >= sums.len());
    // The rating totals item's size (DynamoDB items are at most 400 KB: docs/dynamodb.md).
    let item = store.get(&keys::rating_totals()).await.unwrap().unwrap();
    let bytes = serde_json::to_string(&item.body).unwrap().len();
    eprintln!(
        "admin ratings: {} ratings of {} practitioners; rating totals item body {bytes} bytes ({:.1} per practitioner)",
        listed.len(),
        sums.len(),
        bytes as f64 / sums.len() as f64
    );
}

/// Items read per row, per tab, for the unfiltered first page of 50 on the demo data (SPEC Q4:
/// at most 1.05, i.e. one Query of the rows plus the one item read past them). Ratings show
/// each practitioner's live average and count: one item more per page (the platform's rating
/// totals, whatever practitioners the page names).
async fn items_read_per_row(store: Arc<EmbeddedStore>) {
    use domain::admin::params::ListParams;
    use domain::admin::tab::{list_page, Tab};
    async fn measure<T: Tab>(tab: &T, store: &dyn Store, name: &str) -> f64 {
        let params = ListParams {
            limit: 50,
            ..ListParams::default()
        };
        let page = list_page(tab, store, &params).await.unwrap();
        assert!(!page.items.is_empty(), "{name} has rows on the demo data");
        let per_row = page.read as f64 / page.items.len() as f64;
        eprintln!(
            "admin {name}: {} rows, {} items read, {per_row:.2} per row",
            page.items.len(),
            page.read
        );
        per_row
    }
    let s: &dyn Store = &*store;
    use domain::admin::*;
    let one_query = [
        measure(&feed::FeedTab::default(), s, "feed").await,
        measure(
            &consultations::ConsultationsTab::default(),
            s,
            "consultations",
        )
        .await,
        measure(
            &payment_items::PaymentItemsTab::default(),
            s,
            "payment-items",
        )
        .await,
        measure(&vouchers::VouchersTab, s, "vouchers").await,
        measure(
            &practitioners::PractitionersTab {
                now: demo_now(),
                approvals: vec![],
                search: None,
            },
            s,
            "practitioners",
        )
        .await,
        measure(&calls::CallsTab, s, "calls").await,
        measure(&payments::PaymentsTab, s, "payments").await,
        measure(&ratings::RatingsTab, s, "ratings").await,
    ];
    for r in one_query {
        assert!(r <= 1.05, "{r} items read per row");
    }

    // Filtered first pages (printed for docs/admin.md): one approval state has its own index
    // partition; tags, types and the search filter the items the Query reads.
    async fn filtered<T: Tab>(tab: &T, store: &dyn Store, name: &str, q: Option<&str>) -> f64 {
        let params = ListParams {
            limit: 50,
            q: q.map(domain::readmodels::fold_name),
            ..ListParams::default()
        };
        let page = list_page(tab, store, &params).await.unwrap();
        let per_row = page.read as f64 / page.items.len().max(1) as f64;
        eprintln!(
            "admin {name} (filtered): {} rows, {} items read, {per_row:.2} per row",
            page.items.len(),
            page.read
        );
        per_row
    }
    use domain::admin::tags::{ConsultationTag, FeedTag};
    use domain::events::types::{Approval, PaymentType};
    for approval in [Approval::Approved, Approval::Pending, Approval::Rejected] {
        let tab = practitioners::PractitionersTab {
            now: demo_now(),
            approvals: vec![approval],
            search: None,
        };
        let r = filtered(
            &tab,
            s,
            &format!("practitioners approval={approval:?}"),
            None,
        )
        .await;
        assert!(r <= 1.05, "{r} items read per row");
    }
    let feed = feed::FeedTab {
        tags: [FeedTag::WaitingAnswer].into(),
        now: demo_now(),
        default_response_hours: 24,
        ..feed::FeedTab::default()
    };
    filtered(&feed, s, "feed tag=waiting_answer", None).await;
    // The waiting threads, longest waiting first: their own list, a row per item read, and
    // the commitments item; the overdue ones from the same list.
    let waiting = feed::FeedTab {
        sort: feed::FeedSort::Waiting,
        now: demo_now(),
        default_response_hours: 24,
        ..feed::FeedTab::default()
    };
    let r = filtered(&waiting, s, "feed sort=waiting", None).await;
    assert!(r <= 1.05, "{r} items read per row");
    let overdue = feed::FeedTab {
        overdue: true,
        ..waiting
    };
    filtered(&overdue, s, "feed overdue=true", None).await;
    let cons = consultations::ConsultationsTab {
        tags: [ConsultationTag::Cancelled].into(),
    };
    filtered(&cons, s, "consultations tag=cancelled", None).await;
    let items = payment_items::PaymentItemsTab {
        types: [PaymentType::Refund].into(),
    };
    filtered(&items, s, "payment-items type=refund", None).await;
    filtered(&feed::FeedTab::default(), s, "feed q=mar", Some("mar")).await;
}
