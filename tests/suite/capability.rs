//! The CapabilityStatement tells the truth: valid R4, fhirVersion 4.0.1, every stored type
//! with the interactions the routes serve, open to anonymous clients.

use actix_web::test;

use crate::common::{TestApp, TestDatabase, send};
use carnet::fhir::validate::validate_resource;

#[actix_rt::test]
async fn capability_statement_is_valid_and_complete() {
    let t = TestApp::new(TestDatabase::sqlite());
    let app = test::init_service(carnet::build_app(t.state())).await;
    let reply = send(&app, test::TestRequest::get().uri("/fhir/metadata")).await;
    assert_eq!(reply.status, 200);
    let statement = reply.json();
    let issues = validate_resource(&t.services.schema, &statement);
    assert!(
        issues.is_empty(),
        "the CapabilityStatement is not valid R4: {issues:?}"
    );
    assert_eq!(statement["fhirVersion"], "4.0.1");
    let resources = statement["rest"][0]["resource"].as_array().unwrap();
    assert_eq!(resources.len(), t.services.schema.resource_types().count());
    assert_eq!(resources.len(), 146);
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    let interactions: Vec<&str> = patient["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    for expected in [
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history-instance",
        "history-type",
        "create",
    ] {
        assert!(interactions.contains(&expected), "{expected} missing");
    }
    assert!(interactions.contains(&"search-type"));
    let params: Vec<&str> = patient["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in [
        "name",
        "family",
        "birthdate",
        "identifier",
        "gender",
        "_id",
        "_lastUpdated",
    ] {
        assert!(
            params.contains(&expected),
            "{expected} missing from {params:?}"
        );
    }
    assert!(
        !resources.iter().any(|r| r["type"] == "SubscriptionTopic"),
        "R4B-only types are not R4"
    );
}
