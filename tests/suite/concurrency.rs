//! Concurrent writers to one resource never lose an update: without If-Match every update
//! becomes its own version (or a 409 to retry); with the same If-Match exactly one wins.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;

use crate::common::databases;
use carnet::auth::{Principal, PurposeOfUse, Subject};
use carnet::interaction::{InteractionError, RequestContext, update};

pub fn context() -> RequestContext {
    RequestContext {
        principal: Principal {
            subject: Subject::System("writer".into()),
            issuer: "test".into(),
            token_id: None,
            scopes: vec!["system/*.cruds".into()],
            purposes: vec![PurposeOfUse::Treat],
            profession: None,
            organization: None,
            patient: None,
            expires_at: i64::MAX,
        },
        request_id: "concurrency".into(),
        now_millis: chrono::Utc::now().timestamp_millis(),
        audit: carnet::audit::AuditSink::default(),
    }
}

#[test]
fn concurrent_updates_are_serialised_or_refused_never_lost() {
    for database in databases() {
        let app = Arc::new(crate::common::TestApp::new(database));
        let services = app.services.clone();
        let seed = json!({"resourceType": "Patient", "id": "race", "active": true});
        update::update(&services, &context(), "Patient", "race", seed, None).unwrap();

        let writers: Vec<_> = (0..8)
            .map(|i| {
                let services = services.clone();
                std::thread::spawn(move || {
                    let mut conflicts = 0;
                    loop {
                        let body = json!({"resourceType": "Patient", "id": "race", "name": [{"text": format!("writer {i}")}]});
                        match update::update(&services, &context(), "Patient", "race", body, None) {
                            Ok(outcome) => return (outcome.resource.version_id, conflicts),
                            Err(InteractionError::Storage(e)) if e.to_string().contains("changed by another") => conflicts += 1,
                            Err(other) => panic!("unexpected error: {other}"),
                        }
                    }
                })
            })
            .collect();
        let versions: BTreeSet<i64> = writers.into_iter().map(|w| w.join().unwrap().0).collect();
        assert_eq!(
            versions,
            (2..=9).collect::<BTreeSet<i64>>(),
            "every update got its own version"
        );

        let racers: Vec<_> = (0..6)
            .map(|_| {
                let services = services.clone();
                std::thread::spawn(move || {
                    let body = json!({"resourceType": "Patient", "id": "race", "active": false});
                    update::update(&services, &context(), "Patient", "race", body, Some(9)).is_ok()
                })
            })
            .collect();
        let winners = racers
            .into_iter()
            .map(|r| r.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(winners, 1, "exactly one If-Match writer wins");
    }
}

#[test]
fn concurrent_creates_are_all_committed_and_readable() {
    for database in databases() {
        let app = crate::common::TestApp::new(database);
        let services = app.services.clone();
        let writers: Vec<_> = (0..16)
            .map(|w| {
                let services = services.clone();
                std::thread::spawn(move || {
                    (0..10)
                        .map(|i| {
                            let body = json!({"resourceType": "Patient", "identifier": [{"value": format!("{w}-{i}")}]});
                            carnet::interaction::create::create(&services, &context(), "Patient", body, None)
                                .map(|outcome| outcome.resource().id.clone())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let ids: Vec<String> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 160);
        for id in &ids {
            let read = carnet::interaction::read::read(&services, &context(), "Patient", id);
            assert!(read.is_ok(), "{id} was acknowledged but is not readable");
        }
        // A failing writer in the middle of a burst does not take the others down.
        let mixed: Vec<_> = (0..8)
            .map(|i| {
                let services = services.clone();
                std::thread::spawn(move || {
                    let body = json!({"resourceType": "Patient", "id": format!("m{i}")});
                    // Odd writers name a version that does not exist: they fail alone.
                    let expected = if i % 2 == 0 { None } else { Some(7) };
                    update::update(
                        &services,
                        &context(),
                        "Patient",
                        &format!("m{i}"),
                        body,
                        expected,
                    )
                    .is_ok()
                })
            })
            .collect();
        let outcomes: Vec<bool> = mixed.into_iter().map(|m| m.join().unwrap()).collect();
        assert_eq!(
            outcomes,
            [true, false, true, false, true, false, true, false]
        );
    }
}
