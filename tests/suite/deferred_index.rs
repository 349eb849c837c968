//! Deferred search rows (`interaction::deferred_index`): the AuditEvents of reads and
//! searches are stored before the answer without their search rows, which the indexer
//! thread writes later; a search that may read them writes them first, a resource still
//! waiting is no match of any search, and a change, a deletion or `carnet reindex` takes it
//! out of the backlog, so its rows are never written twice.

use std::time::{Duration, Instant};

use serde_json::json;

use carnet::audit::{AccessAction, AccessEvent, AccessOutcome};
use carnet::interaction::audit_trail::flush;
use carnet::interaction::create::{CreateOutcome, create};
use carnet::interaction::search::{SearchScope, search};
use carnet::interaction::{deferred_index, reindex, update};
use carnet::search::query::{Handling, parse_search};
use carnet::search::query_string::parse_pairs;
use carnet::storage::index::row_counts;
use carnet::storage::index_backlog;
use carnet::storage::search::{AccessFilter, PagePosition, PageRequest};

use crate::common::{TestApp, each_backend};
use crate::concurrency::context;

/// Stores, as the audit of a read, one AuditEvent naming `patient`; returns nothing: its
/// id is found through the backlog.
fn audit_read_of(t: &TestApp, patient: &str) {
    audit_reads_of(t, patient, 1);
}

/// `audit_read_of`, `count` times, in one flush.
fn audit_reads_of(t: &TestApp, patient: &str, count: usize) {
    let ctx = context();
    for _ in 0..count {
        ctx.audit.push(AccessEvent {
            action: AccessAction::Read,
            outcome: AccessOutcome::Granted,
            patients: vec![patient.into()],
            resources: vec![format!("Patient/{patient}")],
            query: None,
            reasons: Vec::new(),
            break_glass: false,
        });
    }
    flush(&t.services, &ctx).unwrap();
}

fn put_patient(t: &TestApp, id: &str) {
    update::update(
        &t.services,
        &context(),
        "Patient",
        id,
        json!({"resourceType": "Patient", "id": id}),
        None,
    )
    .unwrap();
}

/// The ids of the AuditEvents waiting for their search rows.
fn backlog(t: &TestApp) -> Vec<String> {
    t.services
        .store
        .read(|conn| index_backlog::pending(conn, 1000))
        .unwrap()
        .into_iter()
        .map(|row| {
            assert_eq!(row.res_type, "AuditEvent");
            row.res_id
        })
        .collect()
}

/// `[string, token, reference, date]` search rows of `AuditEvent/id`.
fn rows_of(t: &TestApp, id: &str) -> [i64; 4] {
    t.services
        .store
        .read(|conn| row_counts(conn, "AuditEvent", id))
        .unwrap()
}

/// The ids of the AuditEvents an interaction search of `query` finds.
fn searched(t: &TestApp, query: &str) -> Vec<String> {
    search_audit_events(t, None, query)
}

/// The ids the search SQL alone (no catch-up before it) finds for `AuditEvent?query`.
fn found_by_sql(t: &TestApp, query: &str) -> Vec<String> {
    let parsed = parse_search(
        &t.services.registry,
        Some("AuditEvent"),
        &parse_pairs(query),
        Handling::Strict,
    )
    .unwrap();
    let page = PageRequest {
        position: PagePosition::Offset(0),
        count: 1000,
        with_total: true,
        first_read: None,
    };
    let now = chrono::Utc::now().timestamp_millis();
    t.services
        .store
        .read(|conn| {
            carnet::storage::search::search(conn, &parsed, &AccessFilter::default(), page, now)
        })
        .unwrap()
        .rows
        .into_iter()
        .map(|row| row.res_id)
        .collect()
}

#[actix_rt::test]
async fn a_search_writes_the_deferred_rows_it_may_read_first() {
    each_backend(|t| async move {
        put_patient(&t, "p1");
        let before = backlog(&t);
        audit_read_of(&t, "p1");
        let waiting: Vec<String> = backlog(&t)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(waiting.len(), 1, "the read's AuditEvent waits for its rows");
        let event = waiting[0].clone();
        assert_eq!(rows_of(&t, &event), [0, 0, 0, 0], "no search rows yet");

        // Waiting, it is no match, even of a search its stored version alone would answer.
        assert!(!found_by_sql(&t, "_lastUpdated=gt2000").contains(&event));
        assert!(!found_by_sql(&t, "patient:missing=true").contains(&event));

        // A search of another type leaves the backlog alone.
        search(
            &t.services,
            &context(),
            SearchScope {
                type_name: Some("Patient"),
                patient_compartment: None,
                everything: false,
            },
            &parse_pairs("_id=p1"),
            Handling::Strict,
        )
        .unwrap();
        assert!(backlog(&t).contains(&event));

        // A search of AuditEvents writes them all first, and finds it by its values.
        let queued = backlog(&t);
        assert!(
            queued.len() >= 2,
            "the read and the Patient search: {queued:?}"
        );
        assert_eq!(
            searched(&t, "patient=Patient/p1&subtype=read"),
            vec![event.clone()]
        );
        let left = backlog(&t);
        assert!(queued.iter().all(|id| !left.contains(id)), "{left:?}");
        let [strings, tokens, references, dates] = rows_of(&t, &event);
        assert!(
            tokens > 0 && references > 0 && dates == 1,
            "{strings} {tokens} {references}"
        );
        assert!(found_by_sql(&t, "_lastUpdated=gt2000").contains(&event));
        assert!(!found_by_sql(&t, "patient:missing=true").contains(&event));
    })
    .await;
}

#[actix_rt::test]
async fn a_conditional_write_matches_audit_events_still_waiting() {
    each_backend(|t| async move {
        put_patient(&t, "p2");
        audit_read_of(&t, "p2");
        let event = backlog(&t).pop().expect("waiting");
        let outcome = create(
            &t.services,
            &context(),
            "AuditEvent",
            json!({
                "resourceType": "AuditEvent",
                "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110"},
                "recorded": "2026-01-01T00:00:00Z",
                "agent": [{"requestor": true, "who": {"display": "x"}}],
                "source": {"observer": {"display": "x"}}
            }),
            Some("patient=Patient/p2&subtype=read"),
        )
        .unwrap();
        match outcome {
            CreateOutcome::Existing(found) => assert_eq!(found.id, event),
            CreateOutcome::Created(created) => {
                panic!("the waiting event was not matched: created {}", created.id)
            }
        }
    })
    .await;
}

#[actix_rt::test]
async fn reindex_takes_resources_out_of_the_backlog_and_rows_are_written_once() {
    each_backend(|t| async move {
        put_patient(&t, "p3");
        audit_read_of(&t, "p3");
        let event = backlog(&t).pop().expect("waiting");
        reindex::reindex(&t.services, &|_, _| {}).unwrap();
        assert!(backlog(&t).is_empty());
        let reindexed = rows_of(&t, &event);
        assert!(reindexed[1] > 0, "{reindexed:?}");
        assert_eq!(deferred_index::catch_up(&t.services).unwrap(), 0);
        assert_eq!(rows_of(&t, &event), reindexed, "no row written twice");
    })
    .await;
}

#[actix_rt::test]
async fn the_indexer_writes_the_backlog_without_any_search() {
    each_backend(|t| async move {
        put_patient(&t, "p4");
        // The state starts the indexer thread (as serving does).
        let state = t.state();
        audit_read_of(&t, "p4");
        let started = Instant::now();
        while !backlog(&t).is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the indexer left {:?}",
                backlog(&t)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(state);
        let events = found_by_sql(&t, "patient=Patient/p4&subtype=read");
        assert_eq!(events.len(), 1, "{events:?}");
    })
    .await;
}

#[actix_rt::test]
async fn reindex_and_the_indexer_at_the_same_time_write_each_row_once() {
    each_backend(|t| async move {
        put_patient(&t, "p5");
        for _ in 0..3 {
            for _ in 0..60 {
                audit_read_of(&t, "p5");
            }
            let services = t.services.clone();
            let indexer = std::thread::spawn(move || deferred_index::catch_up(&services));
            reindex::reindex(&t.services, &|_, _| {}).expect("reindex");
            indexer.join().expect("indexer").expect("catch-up");
            assert!(backlog(&t).is_empty());
        }
        // Each event once: the same rows as any other read of p5.
        let counts: Vec<[i64; 4]> = found_by_sql(&t, "patient=Patient/p5&subtype=read")
            .iter()
            .map(|id| rows_of(&t, id))
            .collect();
        assert_eq!(counts.len(), 180);
        assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
    })
    .await;
}

/// The ids of the AuditEvents a search of `query` in the compartment of `patient` finds.
fn searched_in(t: &TestApp, patient: &str, query: &str) -> Vec<String> {
    search_audit_events(t, Some(patient), query)
}

/// The ids of the AuditEvents an interaction search of `query` finds, in the compartment
/// of `patient` when given.
fn search_audit_events(t: &TestApp, patient: Option<&str>, query: &str) -> Vec<String> {
    let found = search(
        &t.services,
        &context(),
        SearchScope {
            type_name: Some("AuditEvent"),
            patient_compartment: patient,
            everything: false,
        },
        &parse_pairs(query),
        Handling::Strict,
    )
    .unwrap();
    found.matches.into_iter().map(|m| m.id).collect()
}

#[actix_rt::test]
async fn a_search_bound_to_patients_writes_only_their_deferred_rows() {
    each_backend(|t| async move {
        put_patient(&t, "p6");
        put_patient(&t, "p7");
        deferred_index::catch_up(&t.services).unwrap();
        audit_read_of(&t, "p6");
        let of_p6 = backlog(&t);
        audit_read_of(&t, "p7");
        let of_p7: Vec<String> = backlog(&t)
            .into_iter()
            .filter(|id| !of_p6.contains(id))
            .collect();
        assert_eq!((of_p6.len(), of_p7.len()), (1, 1));

        // p6's trail: its event is written and found; p7's still waits.
        assert_eq!(searched(&t, "patient=Patient/p6&subtype=read"), of_p6);
        let left = backlog(&t);
        assert!(
            !left.contains(&of_p6[0]) && left.contains(&of_p7[0]),
            "{left:?}"
        );
        assert_eq!(rows_of(&t, &of_p7[0]), [0, 0, 0, 0]);

        // A search in p7's compartment writes p7's and finds it; a later read of p6 waits.
        audit_read_of(&t, "p6");
        let later_p6 = backlog(&t)
            .into_iter()
            .find(|id| *id != of_p7[0])
            .expect("the later read of p6");
        assert_eq!(searched_in(&t, "p7", "subtype=read"), of_p7);
        let left = backlog(&t);
        assert!(
            !left.contains(&of_p7[0]) && left.contains(&later_p6),
            "{left:?}"
        );

        // In a compartment too, a search that reads other AuditEvents' rows (here, those
        // that name its matches) writes everything first.
        assert_eq!(
            searched_in(&t, "p7", "subtype=read&_revinclude=AuditEvent:entity"),
            of_p7
        );
        assert!(!backlog(&t).contains(&later_p6));

        // A search bound to no patient writes everything stored before it.
        audit_read_of(&t, "p6");
        let last_p6 = backlog(&t).pop().expect("the last read of p6");
        assert_eq!(searched(&t, "subtype=read").len(), 4);
        assert!(!backlog(&t).contains(&last_p6));
    })
    .await;
}

#[actix_rt::test]
async fn catch_ups_write_backlogs_larger_than_their_batches() {
    each_backend(|t| async move {
        put_patient(&t, "p8");
        put_patient(&t, "p9");
        deferred_index::catch_up(&t.services).unwrap();
        // More than one batch of 500 for p8, a few for p9 among them.
        audit_reads_of(&t, "p8", 300);
        audit_reads_of(&t, "p9", 3);
        audit_reads_of(&t, "p8", 300);
        assert_eq!(backlog(&t).len(), 603);
        assert_eq!(
            deferred_index::catch_up_within(&t.services, &["p9".to_owned()]).unwrap(),
            3
        );
        assert_eq!(backlog(&t).len(), 600);
        assert_eq!(
            deferred_index::catch_up_within(&t.services, &["p8".to_owned(), "p9".to_owned()])
                .unwrap(),
            600
        );
        assert!(backlog(&t).is_empty());
        audit_reads_of(&t, "p9", 700);
        assert_eq!(deferred_index::catch_up(&t.services).unwrap(), 700);
        assert!(backlog(&t).is_empty());
        let events = found_by_sql(&t, "patient=Patient/p9&subtype=read");
        assert_eq!(events.len(), 703);
    })
    .await;
}
