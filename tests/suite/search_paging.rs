//! Sorted searches page by keyset: following `next` (and `previous`) links while
//! resources are created and deleted never repeats or skips a match that did not change,
//! whatever the sort (text with resources lacking a value, decimal, date, descending or
//! not); a page token from another sort order is a 400 naming `_page`.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::common::{each_backend, fhir_request, link, send};

/// The ids of a page's matches, in the page's order.
fn page_ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn patient(id: &str, family: Option<&str>) -> Value {
    let mut patient = json!({"resourceType": "Patient", "id": id, "active": true});
    if let Some(family) = family {
        patient["name"] = json!([{"family": family}]);
    }
    patient
}

fn observation(id: &str, value: Option<f64>, day: u32) -> Value {
    let mut observation = json!({"resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "effectiveDateTime": format!("2024-03-{day:02}")});
    if let Some(value) = value {
        observation["valueQuantity"] =
            json!({"value": value, "system": "http://unitsofmeasure.org", "code": "kg"});
    }
    observation
}

#[actix_rt::test]
async fn sorted_paging_is_stable_while_resources_change() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let put = |resource: Value| {
            let url = format!(
                "/fhir/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            fhir_request(Method::PUT, &url, &token, Some(&resource))
        };
        let get = |url: &str| fhir_request(Method::GET, url, &token, None);
        let families = [
            ("thomas", Some("Thomas")),
            ("robert", Some("Robert")),
            ("martin", Some("Martin")),
            ("dubois", Some("Dubois")),
            ("bernard", Some("Bernard")),
            ("n1", None),
            ("n2", None),
            ("n3", None),
        ];
        for (id, family) in families {
            assert!(
                send(&app, put(patient(id, family)))
                    .await
                    .status
                    .is_success()
            );
        }
        // Descending on a text, resources without a name last.
        let first = send(&app, get("/fhir/Patient?_sort=-family&_count=3"))
            .await
            .json();
        assert_eq!(page_ids(&first), ["thomas", "robert", "martin"]);
        assert!(link(&first, "previous").is_none());
        // A seen match deleted (an offset would now skip `dubois`), a match created
        // beyond the cursor (it must be found) and one before it (it must not repeat
        // anything).
        let deleted = send(
            &app,
            fhir_request(Method::DELETE, "/fhir/Patient/thomas", &token, None),
        )
        .await;
        assert!(deleted.status.is_success());
        assert!(
            send(&app, put(patient("carpentier", Some("Carpentier"))))
                .await
                .status
                .is_success()
        );
        let mut seen = page_ids(&first);
        let mut next = link(&first, "next");
        let mut pages = vec![first];
        while let Some(url) = next {
            let page = send(&app, get(&url)).await;
            assert_eq!(page.status, StatusCode::OK, "{url}");
            let page = page.json();
            assert!(
                send(&app, put(patient("zola", Some("Zola"))))
                    .await
                    .status
                    .is_success()
            );
            seen.extend(page_ids(&page));
            next = link(&page, "next");
            pages.push(page);
        }
        assert_eq!(
            seen,
            [
                "thomas",
                "robert",
                "martin",
                "dubois",
                "carpentier",
                "bernard",
                "n1",
                "n2",
                "n3"
            ],
            "every match once, in order, none skipped or repeated"
        );
        // Back from the last page: the page before it, as it is now.
        let last = pages.last().cloned().unwrap_or_default();
        let previous = link(&last, "previous").expect("a previous link");
        let back = send(&app, get(&previous)).await.json();
        assert_eq!(page_ids(&back), ["dubois", "carpentier", "bernard"]);
        assert!(link(&back, "next").is_some());

        // A decimal and a date, ascending and descending.
        let values = [
            ("o1", Some(3.0), 4),
            ("o2", Some(1.5), 2),
            ("o3", None, 5),
            ("o4", Some(10.0), 1),
            ("o5", Some(2.25), 3),
        ];
        for (id, value, day) in values {
            assert!(
                send(&app, put(observation(id, value, day)))
                    .await
                    .status
                    .is_success()
            );
        }
        for (query, expected) in [
            ("_sort=value-quantity", ["o2", "o5", "o1", "o4", "o3"]),
            ("_sort=-date", ["o3", "o1", "o5", "o2", "o4"]),
        ] {
            let mut url = Some(format!("/fhir/Observation?{query}&_count=2"));
            let mut seen = Vec::new();
            let mut created = false;
            while let Some(current) = url {
                let page = send(&app, get(&current)).await.json();
                seen.extend(page_ids(&page));
                if !created {
                    // Before the cursor in both orders: never returned by later pages.
                    let early = observation(&format!("early-{}", seen.len()), Some(0.5), 6);
                    assert!(send(&app, put(early)).await.status.is_success());
                    created = true;
                }
                url = link(&page, "next");
            }
            assert_eq!(seen, expected, "{query}");
            let del = send(
                &app,
                fhir_request(Method::DELETE, "/fhir/Observation/early-2", &token, None),
            )
            .await;
            assert!(del.status.is_success());
        }

        // A token of another sort order, or altered: 400 naming `_page`.
        let text_token = send(&app, get("/fhir/Patient?_sort=-family&_count=2"))
            .await
            .json();
        let next = link(&text_token, "next").expect("a next link");
        let token_part = next
            .split('&')
            .chain(next.split('?'))
            .find_map(|p| p.strip_prefix("_page="))
            .expect("a _page parameter")
            .to_owned();
        for url in [
            format!("/fhir/Patient?_sort=birthdate&_count=2&_page={token_part}"),
            format!("/fhir/Patient?_sort=family,birthdate&_count=2&_page={token_part}"),
            "/fhir/Patient?_sort=family&_page=a.0:Patient/x:bm90LWpzb24".to_owned(),
        ] {
            let refused = send(&app, get(&url)).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{url}");
            assert!(
                refused
                    .issues()
                    .iter()
                    .any(|(_, text)| text.contains("_page") || text.contains("page")),
                "{url}: {:?}",
                refused.issues()
            );
        }
    })
    .await;
}
