//! The audit trail of access decisions (DMP-RULES.md §8): events pushed on a request's
//! sink are stored as AuditEvents by `audit_trail::flush` (durably, on their own) or
//! `record_in` (inside a write's transaction, atomically with it), found by
//! `AuditEvent?patient=`; the patient is notified of a professional's first access once
//! and of every break-glass access; AuditEvents cannot be changed or deleted through the
//! API, in any form.

use std::time::Instant;

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::audit::{AccessAction, AccessEvent, AccessOutcome};
use carnet::auth::{Principal, PurposeOfUse, Subject};
use carnet::consent::{Reason, RuleId};
use carnet::interaction::audit_trail::{flush, record_in};
use carnet::interaction::login::{self, Contact, NewAccount};
use carnet::interaction::outbox;
use carnet::interaction::{InteractionError, RequestContext};

use crate::common::{TestApp, each_backend, fhir_request, send};

fn practitioner_context(id: &str, request_id: &str) -> RequestContext {
    RequestContext::new(
        Principal {
            subject: Subject::Practitioner(id.into()),
            issuer: "test".into(),
            token_id: None,
            scopes: vec!["user/*.rs".into()],
            purposes: vec![PurposeOfUse::Treat],
            profession: Some("10".into()),
            organization: Some("Organization/org-1".into()),
            patient: None,
            expires_at: i64::MAX,
        },
        request_id.into(),
        chrono::Utc::now().timestamp_millis(),
    )
}

fn access(patient: &str, outcome: AccessOutcome, break_glass: bool) -> AccessEvent {
    AccessEvent {
        action: AccessAction::Read,
        outcome,
        patients: vec![patient.into()],
        resources: vec![format!("Patient/{patient}")],
        query: None,
        reasons: vec![Reason::by_consent(
            RuleId::RecordConsentPermit,
            "Consent/c-1#provision.provision[0]",
            "a permit provision of the patient names the professional",
        )],
        break_glass,
    }
}

/// Flushes one access of `practitioner` to `patient`.
fn flush_access(
    app: &TestApp,
    practitioner: &str,
    patient: &str,
    outcome: AccessOutcome,
    btg: bool,
) {
    let context = practitioner_context(practitioner, "req-flush");
    context.audit.push(access(patient, outcome, btg));
    flush(&app.services, &context).unwrap();
    assert!(context.audit.take().is_empty(), "flush takes the events");
}

fn put_patient(app: &TestApp, patient: Value) {
    put(app, "Patient", patient);
}

fn put(app: &TestApp, res_type: &str, resource: Value) {
    let id = resource["id"].as_str().unwrap().to_owned();
    carnet::interaction::update::update(
        &app.services,
        &crate::concurrency::context(),
        res_type,
        &id,
        resource,
        None,
    )
    .unwrap();
}

fn messages(app: &TestApp) -> Vec<outbox::OutboxMessage> {
    outbox::list(&app.services, true).unwrap()
}

async fn audit_search<S, B>(app: &S, token: &str, query: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let reply = send(
        app,
        fhir_request(
            Method::GET,
            // The events these tests record are reads; the harness's own writes and these
            // searches are audited too (as create and search), and left out here.
            &format!("/fhir/AuditEvent?{query}&subtype:not=create,search"),
            token,
            None,
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|entries| entries.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

#[actix_rt::test]
async fn flushed_events_are_stored_and_searchable_by_patient() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        put_patient(&t, json!({"resourceType": "Patient", "id": "p1"}));
        put_patient(&t, json!({"resourceType": "Patient", "id": "p2"}));
        flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, false);
        flush_access(&t, "dr-2", "p1", AccessOutcome::Denied, false);
        flush_access(&t, "dr-1", "p2", AccessOutcome::Granted, false);

        let found = entries(&audit_search(&app, &token, "patient=Patient/p1&_sort=date").await);
        assert_eq!(found.len(), 2, "{found:?}");
        let outcomes: Vec<&str> = found
            .iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect();
        assert!(
            outcomes.contains(&"0") && outcomes.contains(&"4"),
            "{outcomes:?}"
        );
        let granted = found.iter().find(|e| e["outcome"] == "0").unwrap();
        assert_eq!(granted["type"]["code"], "rest");
        assert_eq!(granted["subtype"][0]["code"], "read");
        assert_eq!(granted["agent"][0]["who"]["reference"], "Practitioner/dr-1");
        assert_eq!(granted["purposeOfEvent"][0]["coding"][0]["code"], "TREAT");
        assert!(granted["meta"]["versionId"] == "1");
        let request = granted["entity"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"]["code"] == "XrequestId")
            .unwrap();
        assert_eq!(request["what"]["identifier"]["value"], "req-flush");

        // Through the other parameters the index gives them.
        let by_agent = entries(&audit_search(&app, &token, "agent=Practitioner/dr-1").await);
        assert_eq!(by_agent.len(), 2);
        let by_consent = entries(&audit_search(&app, &token, "entity=Consent/c-1").await);
        assert_eq!(by_consent.len(), 3);
        let by_rule =
            entries(&audit_search(&app, &token, "entity-name=dmp.record.consent-permit").await);
        assert_eq!(by_rule.len(), 3);
        let p2 = entries(&audit_search(&app, &token, "patient=Patient/p2").await);
        assert_eq!(p2.len(), 1);

        // Nothing pending: nothing written.
        let empty = practitioner_context("dr-1", "req-empty");
        flush(&t.services, &empty).unwrap();
        let all = audit_search(&app, &token, "_summary=count").await;
        assert_eq!(all["total"], 3);
    })
    .await;
}

#[actix_rt::test]
async fn record_in_commits_with_the_write_or_not_at_all() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let services = t.services.clone();
        let create_account = |id: &str, address: &str| {
            put_patient(&t, json!({"resourceType": "Patient", "id": id}));
            login::create_account(
                &services,
                &NewAccount {
                    patient: format!("Patient/{id}"),
                    representative: None,
                    contact: Contact::email(address).unwrap(),
                },
            )
            .unwrap();
        };
        create_account("p1", "p1@example.org");

        // A write that fails after recording: no audit, no first access, no message.
        let failing = practitioner_context("dr-1", "req-failing");
        failing
            .audit
            .push(access("p1", AccessOutcome::Granted, false));
        let outcome = services
            .store
            .write(|conn| -> Result<(), InteractionError> {
                record_in(conn, &services, &failing)?;
                Err(InteractionError::Conflict(
                    "the write fails after its audit".into(),
                ))
            });
        assert!(matches!(outcome, Err(InteractionError::Conflict(_))));
        assert_eq!(
            audit_search(&app, &token, "patient=Patient/p1&_summary=count").await["total"],
            0
        );
        assert!(messages(&t).is_empty());

        // The same write succeeding: its audit and the first-access message commit with it.
        let succeeding = practitioner_context("dr-1", "req-ok");
        succeeding
            .audit
            .push(access("p1", AccessOutcome::Granted, false));
        services
            .store
            .write(|conn| record_in(conn, &services, &succeeding))
            .unwrap();
        let found = entries(&audit_search(&app, &token, "patient=Patient/p1").await);
        assert_eq!(found.len(), 1);
        let sent = messages(&t);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].address, "p1@example.org");
    })
    .await;
}

#[actix_rt::test]
async fn a_professionals_first_access_is_notified_once() {
    each_backend(|t| async move {
        put_patient(&t, json!({"resourceType": "Patient", "id": "p1"}));
        login::create_account(
            &t.services,
            &NewAccount {
                patient: "Patient/p1".into(),
                representative: None,
                contact: Contact::phone("+33 6 12 34 56 78").unwrap(),
            },
        )
        .unwrap();
        put_patient(&t, json!({"resourceType": "Patient", "id": "p2", "telecom": [
            {"system": "phone", "value": "0140000000"},
            {"system": "email", "value": "p2@example.org"}
        ]}));
        put_patient(&t, json!({"resourceType": "Patient", "id": "p3"}));
        carnet::interaction::update::update(
            &t.services,
            &crate::concurrency::context(),
            "Practitioner",
            "dr-1",
            json!({"resourceType": "Practitioner", "id": "dr-1", "name": [{"given": ["Anne"], "family": "Durand"}]}),
            None,
        )
        .unwrap();

        // A refused access is not an access.
        flush_access(&t, "dr-1", "p1", AccessOutcome::Denied, false);
        assert!(messages(&t).is_empty());
        flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, false);
        flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, false);
        let sent = messages(&t);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].channel, "sms");
        assert_eq!(sent[0].address, "+33612345678");
        assert!(sent[0].body.contains("Anne Durand (Practitioner/dr-1)"), "{}", sent[0].body);
        assert!(sent[0].body.contains("first time"), "{}", sent[0].body);

        // Another professional is another first access; several events of one request
        // make one message.
        let context = practitioner_context("dr-2", "req-two");
        context.audit.push(access("p1", AccessOutcome::Granted, false));
        context.audit.push(access("p1", AccessOutcome::Granted, false));
        flush(&t.services, &context).unwrap();
        assert_eq!(messages(&t).len(), 2);
        assert!(messages(&t)[1].body.contains("Practitioner/dr-2"));

        // Without an account, the telecom of the Patient (its email, not a landline).
        flush_access(&t, "dr-1", "p2", AccessOutcome::Granted, false);
        let sent = messages(&t);
        assert_eq!(sent.len(), 3);
        assert_eq!((sent[2].channel.as_str(), sent[2].address.as_str()), ("email", "p2@example.org"));

        // Without any contact: undeliverable, logged; the access is still audited.
        flush_access(&t, "dr-1", "p3", AccessOutcome::Granted, false);
        assert_eq!(messages(&t).len(), 3);

        // A patient or a system client reading is no professional's first access.
        for subject in [Subject::Patient("p2".into()), Subject::System("feed".into())] {
            let mut context = practitioner_context("unused", "req-other");
            context.principal.subject = subject;
            context.audit.push(access("p2", AccessOutcome::Granted, false));
            flush(&t.services, &context).unwrap();
        }
        assert_eq!(messages(&t).len(), 3);
    })
    .await;
}

#[actix_rt::test]
async fn every_break_glass_access_is_notified_and_audited_with_btg() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        put_patient(
            &t,
            json!({"resourceType": "Patient", "id": "p1",
            "telecom": [{"system": "sms", "value": "0611111111"}]}),
        );
        for _ in 0..3 {
            flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, true);
        }
        // A refused break-glass attempt (the patient opposed it) is audited, not notified.
        flush_access(&t, "dr-1", "p1", AccessOutcome::Denied, true);
        let sent = messages(&t);
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert!(
            sent.iter()
                .all(|m| m.body.contains("break-glass") && m.address == "0611111111")
        );
        // The first of them was also the first access: not told twice.
        flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, false);
        assert_eq!(messages(&t).len(), 3);

        let found = entries(&audit_search(&app, &t.token(), "patient=Patient/p1").await);
        assert_eq!(found.len(), 5);
        let btg = found
            .iter()
            .filter(|e| e["purposeOfEvent"].to_string().contains("\"BTG\""))
            .count();
        assert_eq!(btg, 4);
    })
    .await;
}

#[actix_rt::test]
async fn audit_events_cannot_be_changed_or_deleted_through_the_api() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        // The harness's system client has every system scope: `system/*.cruds`.
        let token = t.token();
        put_patient(&t, json!({"resourceType": "Patient", "id": "p1"}));
        flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, false);
        let stored = entries(&audit_search(&app, &token, "patient=Patient/p1").await).remove(0);
        let id = stored["id"].as_str().unwrap().to_owned();
        let uri = format!("/fhir/AuditEvent/{id}");
        let mut changed = stored.clone();
        changed["outcome"] = json!("4");

        let refused = |reply: &crate::common::Reply| {
            assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{}", String::from_utf8_lossy(&reply.body));
            assert!(reply.issues()[0].1.contains("append-only"), "{:?}", reply.issues());
        };
        refused(&send(&app, fhir_request(Method::PUT, &uri, &token, Some(&changed))).await);
        refused(&send(&app, fhir_request(Method::DELETE, &uri, &token, None)).await);
        refused(&send(&app, fhir_request(Method::DELETE, "/fhir/AuditEvent/never-was", &token, None)).await);
        let patch = fhir_request(Method::PATCH, &uri, &token, None)
            .insert_header(("Content-Type", "application/json-patch+json"))
            .set_payload(serde_json::to_vec(&json!([{"op": "replace", "path": "/outcome", "value": "4"}])).unwrap());
        refused(&send(&app, patch).await);
        let conditional = format!("/fhir/AuditEvent?_id={id}");
        refused(&send(&app, fhir_request(Method::DELETE, &conditional, &token, None)).await);
        refused(&send(&app, fhir_request(Method::PUT, &conditional, &token, Some(&changed))).await);

        // In a transaction: the whole transaction fails.
        let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Patient", "id": "p9"}, "request": {"method": "PUT", "url": "Patient/p9"}},
            {"resource": changed, "request": {"method": "PUT", "url": format!("AuditEvent/{id}")}}
        ]});
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&transaction))).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{}", String::from_utf8_lossy(&reply.body));
        let p9 = send(&app, fhir_request(Method::GET, "/fhir/Patient/p9", &token, None)).await;
        assert_eq!(p9.status, StatusCode::NOT_FOUND);
        // In a batch: that entry fails alone.
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "DELETE", "url": format!("AuditEvent/{id}")}},
            {"request": {"method": "DELETE", "url": format!("AuditEvent?_id={id}")}},
            {"request": {"method": "PATCH", "url": format!("AuditEvent/{id}")},
             "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json",
                          "data": "W3sib3AiOiAicmVwbGFjZSIsICJwYXRoIjogIi9vdXRjb21lIiwgInZhbHVlIjogIjQifV0="}}
        ]});
        let reply = send(&app, fhir_request(Method::POST, "/fhir", &token, Some(&batch))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        for entry in reply.json()["entry"].as_array().unwrap() {
            assert!(entry["response"]["status"].as_str().unwrap().starts_with("405"), "{entry}");
        }

        let now = send(&app, fhir_request(Method::GET, &uri, &token, None)).await;
        assert_eq!(now.json()["meta"]["versionId"], "1");
        assert_eq!(now.json()["outcome"], "0");

        // Creating: system clients with an AuditEvent create scope only.
        let mut new_event = stored.clone();
        let new_event = new_event.as_object_mut().map(|o| {
            o.remove("id");
            o.remove("meta");
            Value::Object(o.clone())
        }).unwrap();
        let created = send(&app, fhir_request(Method::POST, "/fhir/AuditEvent", &token, Some(&new_event))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&created.body));
        let reader = t.token_for(Subject::System("reader".into()), "system/AuditEvent.rs");
        let no_scope = send(&app, fhir_request(Method::POST, "/fhir/AuditEvent", &reader, Some(&new_event))).await;
        assert_eq!(no_scope.status, StatusCode::FORBIDDEN);
        for subject in [Subject::Practitioner("dr-1".into()), Subject::Patient("p1".into())] {
            let scope = match subject {
                Subject::Patient(_) => "patient/*.cruds",
                _ => "user/*.cruds",
            };
            let user = t.token_for(subject, scope);
            let reply = send(&app, fhir_request(Method::POST, "/fhir/AuditEvent", &user, Some(&new_event))).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&reply.body));
        }
    })
    .await;
}

#[actix_rt::test]
async fn concurrent_flushes_all_commit_and_stay_cheap() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        put_patient(
            &t,
            json!({"resourceType": "Patient", "id": "p1",
            "telecom": [{"system": "email", "value": "p1@example.org"}]}),
        );
        const THREADS: usize = 8;
        const FLUSHES: usize = 25;
        let started = Instant::now();
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let services = t.services.clone();
                std::thread::spawn(move || {
                    for number in 0..FLUSHES {
                        let context = practitioner_context(
                            &format!("dr-{thread}"),
                            &format!("req-{thread}-{number}"),
                        );
                        context
                            .audit
                            .push(access("p1", AccessOutcome::Granted, false));
                        flush(&services, &context).unwrap();
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        let elapsed = started.elapsed();
        let total = THREADS * FLUSHES;
        eprintln!(
            "{}: {total} flushes from {THREADS} threads in {elapsed:?} ({:?} each)",
            t.database.label,
            elapsed / u32::try_from(total).unwrap()
        );
        let count = audit_search(&app, &t.token(), "patient=Patient/p1&_summary=count").await;
        assert_eq!(count["total"], total);
        // One first-access message per professional, whatever the interleaving.
        assert_eq!(messages(&t).len(), THREADS);
    })
    .await;
}

#[actix_rt::test]
async fn a_patient_reads_the_trail_of_their_record() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        put_patient(&t, json!({"resourceType": "Patient", "id": "p1"}));
        put_patient(&t, json!({"resourceType": "Patient", "id": "p2"}));
        flush_access(&t, "dr-1", "p1", AccessOutcome::Granted, false);
        flush_access(&t, "dr-1", "p2", AccessOutcome::Granted, false);
        let patient = t.token_for(Subject::Patient("p1".into()), "patient/*.rs");
        let own = entries(&audit_search(&app, &patient, "patient=Patient/p1").await);
        assert_eq!(own.len(), 1, "{own:?}");
        assert_eq!(own[0]["agent"][0]["who"]["reference"], "Practitioner/dr-1");
        // Another patient's trail stays hidden.
        let reply = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/AuditEvent?patient=Patient/p2",
                &patient,
                None,
            ),
        )
        .await;
        let leaked = reply.status == StatusCode::OK && !entries(&reply.json()).is_empty();
        assert!(!leaked, "{}", String::from_utf8_lossy(&reply.body));
    })
    .await;
}

/// The auditor's request for the test harness's search events of `patients`.
fn harness_searches(t: &TestApp, patients: &str) -> test::TestRequest {
    fhir_request(
        Method::GET,
        &format!("/fhir/AuditEvent?subtype=search&agent-name=test-harness&patient={patients}"),
        &t.token(),
        None,
    )
}

/// The request of `patient` for the search events of their trail.
fn trail_of_searches(t: &TestApp, patient: &str) -> test::TestRequest {
    let token = t.token_for(Subject::Patient(patient.into()), "patient/*.rs");
    fhir_request(
        Method::GET,
        &format!("/fhir/AuditEvent?patient=Patient/{patient}&subtype=search"),
        &token,
        None,
    )
}

#[actix_rt::test]
async fn a_search_is_audited_once_per_patient_it_returned() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        for id in ["pa", "pb"] {
            put_patient(
                &t,
                json!({"resourceType": "Patient", "id": id, "name": [{"family": "Leroux"}]}),
            );
        }
        put_patient(&t, json!({"resourceType": "Patient", "id": "pc"}));
        let reply = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?_id=pa,pb,pc&family=leroux",
                &t.token(),
                None,
            ),
        )
        .await;
        assert_eq!(reply.json()["total"], 2);

        // Each patient sees the search in their trail (BALP Query: one AuditEvent per
        // patient), and nothing of the other record it returned, nor the query, which
        // names it (kept for the auditors: the event is SUBSETTED).
        for (own, other) in [("pa", "pb"), ("pb", "pa")] {
            let seen = entries(&send(&app, trail_of_searches(&t, own)).await.json());
            assert_eq!(seen.len(), 1, "{own}: {seen:?}");
            let event = &seen[0];
            let whats: Vec<&str> = event["entity"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["what"]["reference"].as_str())
                .collect();
            assert_eq!(
                whats,
                [
                    format!("Patient/{own}"),
                    format!("Patient/{own}/_history/1")
                ],
                "{event}"
            );
            assert!(
                !event.to_string().contains(&format!("Patient/{other}")),
                "{event}"
            );
            let query = event["entity"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["role"]["code"] == "24")
                .unwrap();
            assert!(query.get("query").is_none(), "{event}");
            assert!(
                event["meta"]["tag"].to_string().contains("SUBSETTED"),
                "{event}"
            );
            assert_eq!(event["agent"][0]["who"]["display"], "test-harness");
        }
        // A record the search did not return has no event of it.
        let pc = entries(&send(&app, trail_of_searches(&t, "pc")).await.json());
        assert!(pc.is_empty(), "{pc:?}");
        // The auditor finds one event per patient of that search.
        let events = entries(
            &send(&app, harness_searches(&t, "Patient/pa,Patient/pb"))
                .await
                .json(),
        );
        assert_eq!(events.len(), 2, "{events:?}");
        for event in events {
            let patients = event["entity"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["role"]["code"] == "1")
                .count();
            assert_eq!(patients, 1, "{event}");
            let query = event["entity"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|e| e["query"].as_str())
                .unwrap();
            let query =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, query).unwrap();
            assert_eq!(query, b"_id=pa,pb,pc&family=leroux");
        }
    })
    .await;
}

#[actix_rt::test]
async fn the_event_of_a_document_hidden_from_the_patient_is_hidden_like_it() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        put_patient(&t, json!({"resourceType": "Patient", "id": "ph"}));
        put(
            &t,
            "DocumentReference",
            json!({"resourceType": "DocumentReference", "id": "dh", "status": "current",
                "meta": {"security": [{"system": carnet::fhir::labels::TRE_A07,
                    "code": "INVISIBLE_PATIENT"}]},
                "subject": {"reference": "Patient/ph"},
                "content": [{"attachment": {"contentType": "text/plain"}}]}),
        );
        put(
            &t,
            "DocumentReference",
            json!({"resourceType": "DocumentReference", "id": "dv", "status": "current",
                "subject": {"reference": "Patient/ph"},
                "content": [{"attachment": {"contentType": "text/plain"}}]}),
        );
        for query in ["_id=dh", "_id=dv"] {
            let uri = format!("/fhir/DocumentReference?{query}");
            let reply = send(&app, fhir_request(Method::GET, &uri, &t.token(), None)).await;
            assert_eq!(reply.json()["total"], 1);
        }
        // The patient sees the search of the visible document only.
        let seen = entries(&send(&app, trail_of_searches(&t, "ph")).await.json());
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].to_string().contains("DocumentReference/dv"));
        // The auditor sees both, the one naming the hidden document labelled like it.
        let events = entries(&send(&app, harness_searches(&t, "Patient/ph")).await.json());
        assert_eq!(events.len(), 2, "{events:?}");
        for event in events {
            let labelled = event["meta"]["security"]
                .to_string()
                .contains("INVISIBLE_PATIENT");
            let names_hidden = event.to_string().contains("DocumentReference/dh");
            assert_eq!(labelled, names_hidden, "{event}");
        }
    })
    .await;
}

#[actix_rt::test]
async fn a_history_is_audited_once_per_patient_it_showed() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        for id in ["ha", "hb"] {
            put_patient(&t, json!({"resourceType": "Patient", "id": id}));
        }
        let reply = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/_history", &t.token(), None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        for (own, other) in [("ha", "hb"), ("hb", "ha")] {
            let seen = entries(&send(&app, trail_of_searches(&t, own)).await.json());
            assert_eq!(seen.len(), 1, "{own}: {seen:?}");
            let event = seen[0].to_string();
            assert!(
                event.contains(&format!("Patient/{own}/_history/1")),
                "{event}"
            );
            assert!(!event.contains(&format!("Patient/{other}")), "{event}");
        }
    })
    .await;
}

#[actix_rt::test]
async fn paging_through_ones_own_trail_ends() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        put_patient(&t, json!({"resourceType": "Patient", "id": "pg-1"}));
        let harness = t.token();
        for _ in 0..3 {
            let read = send(
                &app,
                fhir_request(Method::GET, "/fhir/Patient/pg-1", &harness, None),
            )
            .await;
            assert_eq!(read.status, StatusCode::OK);
        }
        // Each page the patient reads adds an AuditEvent to the record it pages through;
        // those written after the first page are not part of the search.
        let token = t.token_for(Subject::Patient("pg-1".into()), "patient/*.rs");
        let first = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/AuditEvent?patient=Patient/pg-1&_count=1",
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(first.status, StatusCode::OK);
        let first = first.json();
        let total = first["total"].as_u64().unwrap() as usize;
        assert!(total >= 3, "{first}");
        let mut seen = crate::common::entry_ids(&first);
        let mut next = crate::common::link(&first, "next");
        let mut pages = 1;
        while let Some(url) = next {
            pages += 1;
            assert!(pages <= total + 1, "paging did not end after {pages} pages");
            let path = url
                .split_once("/fhir/")
                .map(|(_, rest)| format!("/fhir/{rest}"))
                .unwrap();
            let page = send(&app, fhir_request(Method::GET, &path, &token, None)).await;
            assert_eq!(page.status, StatusCode::OK);
            let page = page.json();
            assert_eq!(
                page["total"].as_u64(),
                Some(total as u64),
                "later pages count what the first did"
            );
            seen.extend(crate::common::entry_ids(&page));
            next = crate::common::link(&page, "next");
        }
        let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
        assert_eq!((seen.len(), distinct.len()), (total, total), "{seen:?}");
        // A new search finds the events the paging added.
        let again = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/AuditEvent?patient=Patient/pg-1&_summary=count",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert!(again["total"].as_u64().unwrap() as usize > total, "{again}");
    })
    .await;
}
