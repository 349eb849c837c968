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
        // (Without `_type`, each page read would add its AuditEvent to the record, and so a
        // page to the answer.)
        let first = everything("start=2024-01-01&_count=1&_type=Patient,Observation,Condition").await.json();
        let links: Vec<(String, String)> = first["link"].as_array().unwrap().iter()
            .map(|l| (l["relation"].as_str().unwrap().to_owned(), l["url"].as_str().unwrap().to_owned()))
            .collect();
        let self_link = &links.iter().find(|(r, _)| r == "self").unwrap().1;
        assert!(self_link.contains("start=2024-01-01"), "{self_link}");
        let mut seen = ids(&first);
        let mut next = links.iter().find(|(r, _)| r == "next").map(|(_, url)| url.clone());
        while let Some(url) = next {
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
