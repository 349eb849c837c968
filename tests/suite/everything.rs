//! `Patient/{id}/$everything` with the operation's own parameters (R4
//! OperationDefinition Patient-everything): `start` and `end` bound the care dates,
//! resources without a care date are always returned, `_since` keeps what changed since
//! an instant; bad values are 400 naming the parameter; links keep the parameters.

use std::collections::BTreeSet;

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::common::{each_backend, entry_ids, fhir_request, send};

/// The resources of `bundle` but its AuditEvents (every request adds one to the record).
fn ids(bundle: &Value) -> BTreeSet<String> {
    entry_ids(bundle)
        .into_iter()
        .filter(|id| !id.starts_with("AuditEvent/"))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[actix_rt::test]
async fn everything_takes_start_end_and_since() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let observation = |id: &str, effective: Option<&str>| {
            let mut o = json!({"resourceType": "Observation", "id": id, "status": "final",
                               "code": {"text": "weight"}, "subject": {"reference": "Patient/ev-1"}});
            if let Some(at) = effective {
                o["effectiveDateTime"] = json!(at);
            }
            o
        };
        let resources = [
            json!({"resourceType": "Patient", "id": "ev-1"}),
            observation("ev-2023", Some("2023-05-01T10:00:00Z")),
            observation("ev-2024", Some("2024-06-01")),
            observation("ev-undated", None),
            json!({"resourceType": "Condition", "id": "ev-cond", "subject": {"reference": "Patient/ev-1"}, "onsetDateTime": "2022-02-02"}),
        ];
        for resource in &resources {
            let url = format!("/fhir/{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
            let reply = send(&app, fhir_request(Method::PUT, &url, &token, Some(resource))).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{url}: {}", String::from_utf8_lossy(&reply.body));
        }
        let everything = |query: &str| {
            let url = format!("/fhir/Patient/ev-1/$everything?{query}");
            let token = token.clone();
            let app = &app;
            async move { send(app, fhir_request(Method::GET, &url, &token, None).insert_header(("Prefer", "handling=strict"))).await }
        };

        let all = everything("").await;
        assert_eq!(ids(&all.json()), set(&["Patient/ev-1", "Observation/ev-2023", "Observation/ev-2024", "Observation/ev-undated", "Condition/ev-cond"]));

        let since_2024 = everything("start=2024-01-01").await;
        assert_eq!(since_2024.status, StatusCode::OK, "{}", String::from_utf8_lossy(&since_2024.body));
        assert_eq!(ids(&since_2024.json()), set(&["Patient/ev-1", "Observation/ev-2024", "Observation/ev-undated"]));

        let until_2023 = everything("end=2023").await;
        assert_eq!(ids(&until_2023.json()), set(&["Patient/ev-1", "Observation/ev-2023", "Observation/ev-undated", "Condition/ev-cond"]));

        let in_2023 = everything("start=2023-01-01&end=2023-12-31&_type=Observation,Condition").await;
        assert_eq!(ids(&in_2023.json()), set(&["Observation/ev-2023", "Observation/ev-undated"]));

        // The links keep the parameters as written, and the next page applies them too.
        // The record holds the trail of these requests (undated, so kept): each page read
        // adds an AuditEvent to it, which the pages after the first leave out.
        let first = everything("start=2024-01-01&_count=1").await.json();
        let links: Vec<(String, String)> = first["link"].as_array().unwrap().iter()
            .map(|l| (l["relation"].as_str().unwrap().to_owned(), l["url"].as_str().unwrap().to_owned()))
            .collect();
        let self_link = &links.iter().find(|(r, _)| r == "self").unwrap().1;
        assert!(self_link.contains("start=2024-01-01"), "{self_link}");
        let mut seen = ids(&first);
        let mut next = links.iter().find(|(r, _)| r == "next").map(|(_, url)| url.clone());
        let mut pages = 1;
        while let Some(url) = next {
            pages += 1;
            assert!(pages < 100, "paging does not end");
            let path = url.split_once("/fhir/").map(|(_, rest)| format!("/fhir/{rest}")).unwrap();
            let page = send(&app, fhir_request(Method::GET, &path, &token, None)).await.json();
            seen.extend(ids(&page));
            next = page["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").map(|l| l["url"].as_str().unwrap().to_owned());
        }
        assert_eq!(seen, ids(&since_2024.json()));

        assert_eq!(ids(&everything("_since=2000-01-01T00:00:00Z").await.json()).len(), 5);
        assert!(ids(&everything("_since=2999-01-01T00:00:00%2B01:00").await.json()).is_empty());

        for (query, parameter) in [("start=ge2024", "start"), ("end=2024-13-01", "end"), ("_since=2024-01-01", "_since"), ("start=2023,2024", "start")] {
            let reply = everything(query).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
            assert!(reply.issues().iter().any(|(_, text)| text.contains(&format!("`{parameter}`"))), "{query}: {:?}", reply.issues());
        }

        // Not search parameters: a compartment search refuses them under strict handling.
        let search = send(&app, fhir_request(Method::GET, "/fhir/Patient/ev-1/*?start=2024", &token, None).insert_header(("Prefer", "handling=strict"))).await;
        assert_eq!(search.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[actix_rt::test]
async fn everything_is_posted_with_parameters_and_compartments_with_forms() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let resources = [
            json!({"resourceType": "Patient", "id": "evp-1"}),
            json!({"resourceType": "Observation", "id": "evp-old", "status": "final", "code": {"text": "weight"},
                   "subject": {"reference": "Patient/evp-1"}, "effectiveDateTime": "2020-01-01"}),
            json!({"resourceType": "Observation", "id": "evp-new", "status": "final", "code": {"text": "weight"},
                   "subject": {"reference": "Patient/evp-1"}, "effectiveDateTime": "2024-01-01"}),
        ];
        for resource in &resources {
            let url = format!("/fhir/{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
            let reply = send(&app, fhir_request(Method::PUT, &url, &token, Some(resource))).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{url}");
        }
        let post = |url: &str, body: &Value| {
            let request = fhir_request(Method::POST, url, &token, Some(body)).insert_header(("Prefer", "handling=strict"));
            let app = &app;
            async move { send(app, request).await }
        };

        // The operation's parameters in a Parameters body, with those of the URL.
        let parameters = json!({"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": "2023-01-01"}]});
        let posted = post("/fhir/Patient/evp-1/$everything?_type=Patient,Observation", &parameters).await;
        assert_eq!(posted.status, StatusCode::OK, "{}", String::from_utf8_lossy(&posted.body));
        assert_eq!(ids(&posted.json()), set(&["Patient/evp-1", "Observation/evp-new"]));

        // What the GET form refuses, the POST form refuses, naming the parameter.
        let bad_date = json!({"resourceType": "Parameters", "parameter": [{"name": "end", "valueDate": "2024-13-01"}]});
        let reply = post("/fhir/Patient/evp-1/$everything", &bad_date).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.issues().iter().any(|(_, text)| text.contains("`end`")), "{:?}", reply.issues());
        let with_resource = json!({"resourceType": "Parameters", "parameter": [{"name": "start", "resource": {"resourceType": "Patient"}}]});
        let reply = post("/fhir/Patient/evp-1/$everything", &with_resource).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.issues().iter().any(|(_, text)| text.contains("parameter[0]")), "{:?}", reply.issues());
        let not_parameters = post("/fhir/Patient/evp-1/$everything", &resources[0]).await;
        assert_eq!(not_parameters.status, StatusCode::BAD_REQUEST);

        // The same operation with a form body.
        let form = fhir_request(Method::POST, "/fhir/Patient/evp-1/$everything", &token, None)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("end=2021&_type=Observation");
        let reply = send(&app, form).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(ids(&reply.json()), set(&["Observation/evp-old"]));

        // A compartment search POSTed to `…/_search`, form-encoded; plain POST is not one.
        let form = fhir_request(Method::POST, "/fhir/Patient/evp-1/Observation/_search", &token, None)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("date=lt2021");
        let reply = send(&app, form).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        assert_eq!(ids(&reply.json()), set(&["Observation/evp-old"]));
        let json_search = post("/fhir/Patient/evp-1/Observation/_search", &parameters).await;
        assert_eq!(json_search.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let plain = post("/fhir/Patient/evp-1/Observation", &parameters).await;
        assert_eq!(plain.status, StatusCode::METHOD_NOT_ALLOWED);
    })
    .await;
}
