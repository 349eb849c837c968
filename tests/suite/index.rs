//! Index rows follow the current version: written with each version in the same
//! transaction, replaced on update, cleared on delete, rebuilt by reindex; the patient
//! compartment and the security labels (canonical systems) are indexed for consent.

use serde_json::json;

use carnet::interaction::{create, delete, reindex, update};
use carnet::storage::StorageError;
use carnet::storage::index;

use crate::common::databases;
use crate::concurrency::context;

#[test]
fn index_rows_follow_the_current_version() {
    for database in databases() {
        let app = crate::common::TestApp::new(database);
        let services = app.services.clone();
        let store = services.store.clone();
        let compartment = |id: &str| {
            store
                .read(|c| index::compartment_of(c, "Observation", id))
                .unwrap()
        };
        let counts = |id: &str| {
            store
                .read(|c| index::row_counts(c, "Observation", id))
                .unwrap()
        };

        let observation = json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}], "text": "Poids"},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-01-02",
            "valueQuantity": {"value": 70.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}});
        let created = create::create(
            &services,
            &context(),
            "Observation",
            observation.clone(),
            None,
        )
        .unwrap();
        let id = created.resource().id.clone();
        assert_eq!(compartment(&id), vec!["p1"]);
        let [strings, tokens, references, dates] = counts(&id);
        assert!(tokens >= 2, "code and status tokens: {tokens}");
        assert!(
            references >= 1 && dates >= 1,
            "subject and date: {references} {dates}"
        );
        assert_eq!(strings, 0);

        let mut moved = observation.clone();
        moved["id"] = json!(id);
        moved["subject"] = json!({"reference": "Patient/p2"});
        update::update(&services, &context(), "Observation", &id, moved, None).unwrap();
        assert_eq!(compartment(&id), vec!["p2"], "the old compartment is gone");
        assert_eq!(counts(&id)[2], references, "references replaced, not added");

        // Reindex rebuilds what was lost.
        store
            .write(|c| index::clear(c, "Observation", &id))
            .map_err(|e: StorageError| e)
            .unwrap();
        assert!(compartment(&id).is_empty());
        // The Observation and the AuditEvents of the writes so far.
        let count = reindex::reindex(&services, &|_, _| {}).unwrap();
        assert!(count >= 1);
        assert_eq!(compartment(&id), vec!["p2"]);

        delete::delete(&services, &context(), "Observation", &id, None).unwrap();
        assert!(compartment(&id).is_empty());
        assert_eq!(counts(&id), [0, 0, 0, 0]);

        let typo = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument";
        let document = json!({"resourceType": "DocumentReference", "status": "current",
            "subject": {"reference": "Patient/p1"},
            "securityLabel": [{"coding": [{"system": typo, "code": "MASQUE_PS"}]}],
            "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]});
        let created =
            create::create(&services, &context(), "DocumentReference", document, None).unwrap();
        let id = created.resource().id.clone();
        let labels = store
            .read(|c| index::labels_of(c, "DocumentReference", &id))
            .unwrap();
        assert_eq!(
            labels,
            vec![(
                carnet::fhir::labels::TRE_A07.to_owned(),
                "MASQUE_PS".to_owned()
            )]
        );
        let patients = store
            .read(|c| index::compartment_of(c, "DocumentReference", &id))
            .unwrap();
        assert_eq!(patients, vec!["p1"]);
    }
}

/// The context of a request made at `now_millis`.
fn context_at(now_millis: i64) -> carnet::interaction::RequestContext {
    let mut context = context();
    context.now_millis = now_millis;
    context
}

#[test]
fn labels_remember_when_they_were_set() {
    for database in databases() {
        let app = crate::common::TestApp::new(database);
        let services = app.services.clone();
        let store = services.store.clone();
        let tre_a07 = carnet::fhir::labels::TRE_A07;
        let document = |codes: &[&str]| {
            let coding: Vec<_> = codes
                .iter()
                .map(|code| json!({"system": tre_a07, "code": code}))
                .collect();
            json!({"resourceType": "DocumentReference", "id": "d1", "status": "current",
                "subject": {"reference": "Patient/p1"},
                "securityLabel": [{"coding": coding}],
                "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]})
        };
        let times = || {
            store
                .read(|c| index::label_times_of(c, "DocumentReference", "d1"))
                .unwrap()
                .into_iter()
                .map(|(_, code, set_at)| (code, set_at))
                .collect::<Vec<_>>()
        };
        let (t1, t2, t3, t4) = (
            1_800_000_000_000,
            1_800_000_100_000,
            1_800_000_200_000,
            1_800_000_300_000,
        );
        let put = |now: i64, codes: &[&str]| {
            update::update(
                &services,
                &context_at(now),
                "DocumentReference",
                "d1",
                document(codes),
                None,
            )
            .unwrap();
        };
        put(t1, &["INVISIBLE_PATIENT"]);
        assert_eq!(times(), [("INVISIBLE_PATIENT".to_owned(), t1)]);
        // A label kept keeps its time; a new one gets the time of its version.
        put(t2, &["INVISIBLE_PATIENT", "MASQUE_PS"]);
        assert_eq!(
            times(),
            [
                ("INVISIBLE_PATIENT".to_owned(), t1),
                ("MASQUE_PS".to_owned(), t2)
            ]
        );
        // Removed then set again: set anew.
        put(t3, &["MASQUE_PS"]);
        put(t4, &["INVISIBLE_PATIENT", "MASQUE_PS"]);
        assert_eq!(
            times(),
            [
                ("INVISIBLE_PATIENT".to_owned(), t4),
                ("MASQUE_PS".to_owned(), t2)
            ]
        );
        // Reindex keeps the times.
        reindex::reindex(&services, &|_, _| {}).unwrap();
        assert_eq!(
            times(),
            [
                ("INVISIBLE_PATIENT".to_owned(), t4),
                ("MASQUE_PS".to_owned(), t2)
            ]
        );
    }
}
