//! The demo data through THE ingest path: `Scale::demo()` loads into the embedded store with
//! no event refused, the read models show the generated cases (a session transferred across
//! three clinics, every thread in the Feed), and loading the same configuration again is a
//! no-op reported as duplicates.

#![allow(clippy::unwrap_used)]

use domain::ports::store::{query_all, Index, Key, Query, SkRange, Store};
use domain::readmodels::{self as rm, keys, lists};
use local_adapters::demo::{load_demo, DemoConfig};
use local_adapters::embedded_store::EmbeddedStore;
use std::collections::BTreeSet;
use std::time::Instant;

fn config() -> DemoConfig {
    DemoConfig::demo("2026-05-15T10:30:00Z".parse().unwrap())
}

#[tokio::test]
async fn demo_loads_through_ingest_and_reloads_as_duplicates() {
    let store = EmbeddedStore::in_memory();
    let config = config();

    let started = Instant::now();
    let summary = load_demo(&store, &config).await.unwrap();
    let took = started.elapsed();
    let loaded = summary.loaded.unwrap();
    eprintln!(
        "demo load: {} events ({} accepted) into {} items in {:.1} s ({:.0} events/s)",
        summary.events,
        loaded.accepted,
        store.len(),
        took.as_secs_f64(),
        summary.events as f64 / took.as_secs_f64()
    );
    eprintln!("demo summary: {}", serde_json::to_string(&summary).unwrap());
    assert_eq!(loaded.accepted, summary.events);
    assert_eq!(loaded.duplicates, 0);

    // The transferred session: one session id, three segments in three distinct clinics.
    let session = &summary.cases.transferred_session_id;
    let segments = query_all(
        &store,
        &Query::partition(Index::Primary, format!("SESSION#{session}"))
            .range(SkRange::BeginsWith("SEG#".into())),
    )
    .await
    .unwrap();
    assert_eq!(segments.len(), 3, "{segments:?}");
    let segments: Vec<rm::Segment> = segments.iter().map(|i| i.decode().unwrap()).collect();
    let clinics: BTreeSet<String> = segments
        .iter()
        .filter_map(|s| s.clinic_id.clone())
        .collect();
    assert_eq!(clinics.len(), 3);
    assert_eq!(
        clinics,
        summary.cases.transfer_clinic_ids.iter().cloned().collect()
    );
    assert!(segments
        .iter()
        .all(|s| s.session_id == *session && s.ended_at.is_some()));
    assert_eq!(
        segments
            .iter()
            .filter(|s| s.transferred_at.is_some())
            .count(),
        2
    );

    // The abandoned session: an abandoned segment and no host.
    let abandoned = &summary.cases.abandoned_session_id;
    let items = query_all(
        &store,
        &Query::partition(Index::Primary, format!("SESSION#{abandoned}")),
    )
    .await
    .unwrap();
    let participants: Vec<rm::SegmentParticipant> = items
        .iter()
        .filter(|i| i.sk.starts_with("PART#"))
        .map(|i| i.decode().unwrap())
        .collect();
    assert_eq!(participants.len(), 1);
    assert!(participants
        .iter()
        .all(|p| p.participant_type == Some(domain::events::types::ParticipantType::Caller)));

    // Every generated thread is in the Feed, once.
    let feed = query_all(&store, &Query::partition(Index::Gsi1, lists::FEED))
        .await
        .unwrap();
    assert_eq!(feed.len() as u64, summary.threads);
    let distinct: BTreeSet<&str> = feed.iter().map(|i| i.pk.as_str()).collect();
    assert_eq!(distinct.len(), feed.len());

    // Loading the same configuration again changes nothing.
    let watched: Vec<Key> = vec![
        keys::thread("thread-1"),
        keys::thread(&summary.cases.dst_thread_id),
        keys::practitioner("prac-1"),
        keys::practitioner_rating_count("prac-1"),
        keys::segment(session, &segments[0].segment_id),
        keys::account("acc-1"),
        keys::clinic("clinic-1"),
        keys::call(&summary.cases.patient_first_call_id),
    ];
    let mut before = Vec::new();
    for key in &watched {
        before.push(
            store
                .get(key)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("no item {key:?}")),
        );
    }
    let items_before = store.len();
    let started = Instant::now();
    let again = load_demo(&store, &config).await.unwrap();
    eprintln!(
        "demo reload (all duplicates): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let reloaded = again.loaded.unwrap();
    assert_eq!(reloaded.accepted, 0);
    assert_eq!(reloaded.duplicates, summary.events);
    assert_eq!(store.len(), items_before);
    for (key, old) in watched.iter().zip(&before) {
        let new = store.get(key).await.unwrap().unwrap();
        assert_eq!(new.version, old.version, "{key:?}");
        assert_eq!(&new, old, "{key:?}");
    }
}
