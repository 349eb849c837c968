//! read, vread, create, update, delete through HTTP on every backend: versions, ETag,
//! Last-Modified, Location, conditional headers, Prefer, errors as OperationOutcomes.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::common::{Reply, each_backend, fhir_request, send};

fn patient() -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "1234567890123"}],
        "name": [{"family": "Durand", "given": ["Hélène"]}],
        "gender": "female",
        "birthDate": "1970-03-02"
    })
}

#[actix_rt::test]
async fn create_read_update_delete_round_trip() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();

        let created = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient())),
        )
        .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{:?}",
            String::from_utf8_lossy(&created.body)
        );
        let body = created.json();
        let id = body["id"].as_str().expect("server id").to_owned();
        assert_eq!(body["meta"]["versionId"], "1");
        assert_eq!(created.header("etag").as_deref(), Some("W/\"1\""));
        assert_eq!(
            created.header("location"),
            Some(format!("http://carnet.test/fhir/Patient/{id}/_history/1"))
        );
        assert!(created.header("last-modified").is_some());
        assert_eq!(body["name"][0]["given"][0], "Hélène");

        let read = send(
            &app,
            fhir_request(Method::GET, &format!("/fhir/Patient/{id}"), &token, None),
        )
        .await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.json(), body);
        assert_eq!(
            read.header("content-type").as_deref(),
            Some("application/fhir+json; charset=utf-8")
        );

        let mut changed = body.clone();
        changed["gender"] = json!("other");
        let updated = send(
            &app,
            fhir_request(
                Method::PUT,
                &format!("/fhir/Patient/{id}"),
                &token,
                Some(&changed),
            ),
        )
        .await;
        assert_eq!(updated.status, StatusCode::OK);
        assert_eq!(updated.json()["meta"]["versionId"], "2");
        assert_eq!(updated.json()["gender"], "other");

        let v1 = send(
            &app,
            fhir_request(
                Method::GET,
                &format!("/fhir/Patient/{id}/_history/1"),
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(v1.status, StatusCode::OK);
        assert_eq!(v1.json()["gender"], "female");

        let deleted = send(
            &app,
            fhir_request(Method::DELETE, &format!("/fhir/Patient/{id}"), &token, None),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert_eq!(deleted.header("etag").as_deref(), Some("W/\"3\""));

        let gone = send(
            &app,
            fhir_request(Method::GET, &format!("/fhir/Patient/{id}"), &token, None),
        )
        .await;
        assert_eq!(gone.status, StatusCode::GONE);
        assert!(!gone.issues().is_empty());

        let gone_version = send(
            &app,
            fhir_request(
                Method::GET,
                &format!("/fhir/Patient/{id}/_history/3"),
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(gone_version.status, StatusCode::GONE);

        let history = send(
            &app,
            fhir_request(
                Method::GET,
                &format!("/fhir/Patient/{id}/_history"),
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(history.status, StatusCode::OK);
        let bundle = history.json();
        assert_eq!(bundle["type"], "history");
        assert_eq!(bundle["total"], 3);
        let methods: Vec<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["request"]["method"].as_str().unwrap())
            .collect();
        assert_eq!(methods, ["DELETE", "PUT", "POST"]);
        assert!(bundle["entry"][0].get("resource").is_none());

        let again = send(
            &app,
            fhir_request(Method::DELETE, &format!("/fhir/Patient/{id}"), &token, None),
        )
        .await;
        assert_eq!(again.status, StatusCode::NO_CONTENT);

        // Update after delete recreates the resource as a new version.
        let mut revived = patient();
        revived["id"] = json!(id);
        let recreated = send(
            &app,
            fhir_request(
                Method::PUT,
                &format!("/fhir/Patient/{id}"),
                &token,
                Some(&revived),
            ),
        )
        .await;
        assert_eq!(recreated.status, StatusCode::CREATED);
        assert_eq!(recreated.json()["meta"]["versionId"], "4");
    })
    .await;
}

#[actix_rt::test]
async fn stored_json_keeps_decimals_and_key_order() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let text = r#"{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":1.50,"unit":"kg"},"note":[{"text":"z"}],"category":[{"text":"a"}]}"#;
        let request = test::TestRequest::post()
            .uri("/fhir/Observation")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "application/fhir+json"))
            .set_payload(text);
        let created = send(&app, request).await;
        assert_eq!(created.status, StatusCode::CREATED);
        let raw = String::from_utf8(created.body.clone()).unwrap();
        assert!(raw.contains(r#""value":1.50"#), "{raw}");
        let note = raw.find("\"note\"").unwrap();
        let category = raw.find("\"category\"").unwrap();
        assert!(note < category, "key order kept: {raw}");
        let id = created.json()["id"].as_str().unwrap().to_owned();
        let read = send(&app, fhir_request(Method::GET, &format!("/fhir/Observation/{id}"), &token, None)).await;
        assert_eq!(String::from_utf8(read.body).unwrap(), raw);
    })
    .await;
}

#[actix_rt::test]
async fn update_as_create_and_id_rules() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let mut body = patient();
        body["id"] = json!("client-chosen-1");
        let created = send(
            &app,
            fhir_request(
                Method::PUT,
                "/fhir/Patient/client-chosen-1",
                &token,
                Some(&body),
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.json()["id"], "client-chosen-1");

        let mismatch = send(
            &app,
            fhir_request(Method::PUT, "/fhir/Patient/other", &token, Some(&body)),
        )
        .await;
        assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
        assert_eq!(mismatch.issues()[0].0, "Patient.id");

        let no_id = send(
            &app,
            fhir_request(Method::PUT, "/fhir/Patient/x1", &token, Some(&patient())),
        )
        .await;
        assert_eq!(no_id.status, StatusCode::BAD_REQUEST);

        let wrong_type = send(
            &app,
            fhir_request(Method::POST, "/fhir/Observation", &token, Some(&patient())),
        )
        .await;
        assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);

        let r4b_only = send(
            &app,
            fhir_request(Method::GET, "/fhir/SubscriptionTopic/1", &token, None),
        )
        .await;
        assert_eq!(r4b_only.status, StatusCode::BAD_REQUEST);
        let unknown = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/unknown-id", &token, None),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.json()["resourceType"], "OperationOutcome");
        let bad_id = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/bad$id", &token, None),
        )
        .await;
        assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[actix_rt::test]
async fn version_preconditions() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let created = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient())),
        )
        .await;
        let body = created.json();
        let id = body["id"].as_str().unwrap().to_owned();
        let url = format!("/fhir/Patient/{id}");

        let stale = send(
            &app,
            fhir_request(Method::PUT, &url, &token, Some(&body))
                .insert_header(("If-Match", "W/\"7\"")),
        )
        .await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
        let fresh = send(
            &app,
            fhir_request(Method::PUT, &url, &token, Some(&body))
                .insert_header(("If-Match", "W/\"1\"")),
        )
        .await;
        assert_eq!(fresh.status, StatusCode::OK);
        let garbage = send(
            &app,
            fhir_request(Method::PUT, &url, &token, Some(&body))
                .insert_header(("If-Match", "soon")),
        )
        .await;
        assert_eq!(garbage.status, StatusCode::BAD_REQUEST);

        let not_modified = send(
            &app,
            fhir_request(Method::GET, &url, &token, None)
                .insert_header(("If-None-Match", "W/\"2\"")),
        )
        .await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
        assert!(not_modified.body.is_empty());
        let modified = send(
            &app,
            fhir_request(Method::GET, &url, &token, None)
                .insert_header(("If-None-Match", "W/\"1\"")),
        )
        .await;
        assert_eq!(modified.status, StatusCode::OK);
        let since = modified.header("last-modified").unwrap();
        let unchanged = send(
            &app,
            fhir_request(Method::GET, &url, &token, None)
                .insert_header(("If-Modified-Since", since.as_str())),
        )
        .await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        let old = send(
            &app,
            fhir_request(Method::GET, &url, &token, None)
                .insert_header(("If-Modified-Since", "Thu, 01 Jan 2000 00:00:00 GMT")),
        )
        .await;
        assert_eq!(old.status, StatusCode::OK);

        let stale_delete = send(
            &app,
            fhir_request(Method::DELETE, &url, &token, None).insert_header(("If-Match", "W/\"1\"")),
        )
        .await;
        assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    })
    .await;
}

#[actix_rt::test]
async fn conditional_create_update_delete() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let condition = "identifier=urn:oid:1.2.250.1.213.1.4.8|1234567890123";
        let first = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("If-None-Exist", condition)),
        )
        .await;
        assert_eq!(first.status, StatusCode::CREATED);
        let second = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("If-None-Exist", condition)),
        )
        .await;
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(second.json()["id"], first.json()["id"]);

        // A second patient with the same identifier makes the criteria ambiguous.
        send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient())),
        )
        .await;
        let ambiguous = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("If-None-Exist", condition)),
        )
        .await;
        assert_eq!(ambiguous.status, StatusCode::PRECONDITION_FAILED);
        let ambiguous_delete = send(
            &app,
            fhir_request(
                Method::DELETE,
                &format!("/fhir/Patient?{condition}"),
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(ambiguous_delete.status, StatusCode::PRECONDITION_FAILED);

        let unsupported = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("If-None-Exist", "colour=x")),
        )
        .await;
        assert_eq!(unsupported.status, StatusCode::BAD_REQUEST);
        assert!(unsupported.issues()[0].1.contains("`colour`"));
        // Any search parameter works as a condition: family + birthdate find the first patient.
        let by_search = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient())).insert_header((
                "If-None-Exist",
                "family=durand&birthdate=1970-03-02&_id=nobody",
            )),
        )
        .await;
        assert_eq!(
            by_search.status,
            StatusCode::CREATED,
            "no patient has that id"
        );

        let mut other = patient();
        other["identifier"][0]["value"] = json!("999");
        let created = send(
            &app,
            fhir_request(
                Method::PUT,
                "/fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|999",
                &token,
                Some(&other),
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.json()["id"].as_str().unwrap().to_owned();
        other["gender"] = json!("male");
        let updated = send(
            &app,
            fhir_request(
                Method::PUT,
                "/fhir/Patient?identifier=999",
                &token,
                Some(&other),
            ),
        )
        .await;
        assert_eq!(updated.status, StatusCode::OK);
        assert_eq!(updated.json()["id"], id.as_str());
        let deleted = send(
            &app,
            fhir_request(Method::DELETE, "/fhir/Patient?identifier=999", &token, None),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let gone = send(
            &app,
            fhir_request(Method::GET, &format!("/fhir/Patient/{id}"), &token, None),
        )
        .await;
        assert_eq!(gone.status, StatusCode::GONE);
    })
    .await;
}

#[actix_rt::test]
async fn prefer_return() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let minimal = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("Prefer", "return=minimal")),
        )
        .await;
        assert_eq!(minimal.status, StatusCode::CREATED);
        assert!(minimal.body.is_empty());
        assert!(minimal.header("location").is_some());
        let outcome = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("Prefer", "return=OperationOutcome")),
        )
        .await;
        assert_eq!(outcome.status, StatusCode::CREATED);
        assert_eq!(outcome.json()["resourceType"], "OperationOutcome");
        let representation = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, Some(&patient()))
                .insert_header(("Prefer", "return=representation")),
        )
        .await;
        assert_eq!(representation.json()["resourceType"], "Patient");
    })
    .await;
}

fn assert_outcome(reply: &Reply, status: StatusCode) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["resourceType"], "OperationOutcome");
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/fhir+json; charset=utf-8")
    );
}

#[actix_rt::test]
async fn http_errors_are_operation_outcomes() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();

        let anonymous = send(&app, test::TestRequest::get().uri("/fhir/Patient/1")).await;
        assert_outcome(&anonymous, StatusCode::UNAUTHORIZED);
        assert!(anonymous.header("www-authenticate").is_some());
        let forged = send(
            &app,
            test::TestRequest::get()
                .uri("/fhir/Patient/1")
                .insert_header(("Authorization", "Bearer abc.def.ghi")),
        )
        .await;
        assert_outcome(&forged, StatusCode::UNAUTHORIZED);

        let metadata = send(&app, test::TestRequest::get().uri("/fhir/metadata")).await;
        assert_eq!(metadata.status, StatusCode::OK);
        assert_eq!(metadata.json()["fhirVersion"], "4.0.1");

        let xml = send(
            &app,
            fhir_request(Method::GET, "/fhir/metadata", &token, None)
                .insert_header(("Accept", "application/fhir+xml")),
        )
        .await;
        assert_outcome(&xml, StatusCode::NOT_ACCEPTABLE);
        let xml_format = send(
            &app,
            fhir_request(Method::GET, "/fhir/metadata?_format=xml", &token, None),
        )
        .await;
        assert_outcome(&xml_format, StatusCode::NOT_ACCEPTABLE);
        let plain_json = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/metadata?_format=application/json",
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(
            plain_json.header("content-type").as_deref(),
            Some("application/json; charset=utf-8")
        );
        let pretty = send(
            &app,
            fhir_request(Method::GET, "/fhir/metadata?_pretty=true", &token, None),
        )
        .await;
        assert!(String::from_utf8_lossy(&pretty.body).contains("\n  \"resourceType\""));

        let form = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, None)
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("x"),
        )
        .await;
        assert_outcome(&form, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let plain = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, None)
                .insert_header(("Content-Type", "application/json"))
                .set_payload(serde_json::to_vec(&patient()).unwrap()),
        )
        .await;
        assert_eq!(plain.status, StatusCode::CREATED);
        let broken = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient", &token, None)
                .insert_header(("Content-Type", "application/fhir+json"))
                .set_payload("{\"resourceType\":"),
        )
        .await;
        assert_outcome(&broken, StatusCode::BAD_REQUEST);

        let not_allowed = send(
            &app,
            fhir_request(Method::POST, "/fhir/Patient/1", &token, Some(&patient())),
        )
        .await;
        assert_outcome(&not_allowed, StatusCode::METHOD_NOT_ALLOWED);
        let nowhere = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/1/nothing/here", &token, None),
        )
        .await;
        assert_outcome(&nowhere, StatusCode::NOT_FOUND);
        let outside = send(&app, fhir_request(Method::GET, "/elsewhere", &token, None)).await;
        assert_outcome(&outside, StatusCode::NOT_FOUND);
    })
    .await;
}

#[actix_rt::test]
async fn request_ids_are_echoed_or_generated() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let echoed = send(
            &app,
            test::TestRequest::get()
                .uri("/fhir/metadata")
                .insert_header(("X-Request-Id", "abc-123")),
        )
        .await;
        assert_eq!(echoed.header("x-request-id").as_deref(), Some("abc-123"));
        let generated = send(&app, test::TestRequest::get().uri("/fhir/Patient/1")).await;
        assert_eq!(generated.status, StatusCode::UNAUTHORIZED);
        assert_eq!(generated.header("x-request-id").map(|v| v.len()), Some(36));
    })
    .await;
}
