//! History at every level with `_since`, `_at`, `_count` and paging that stays stable while
//! new versions are written.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::common::{each_backend, fhir_request, send};

fn ids_of(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    format!(
                        "{}@{}",
                        e["fullUrl"].as_str().unwrap_or(""),
                        e["response"]["etag"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .map(|u| u.replace("http://carnet.test", ""))
}

#[actix_rt::test]
async fn paging_is_stable_under_concurrent_writes() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        for i in 0..7 {
            let body = json!({"resourceType": "Patient", "id": format!("h{i}"), "active": true});
            send(&app, fhir_request(Method::PUT, &format!("/fhir/Patient/h{i}"), &token, Some(&body))).await;
        }
        send(&app, fhir_request(Method::POST, "/fhir/Observation", &token, Some(&json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}})))).await;

        let first = send(&app, fhir_request(Method::GET, "/fhir/Patient/_history?_count=3", &token, None)).await;
        assert_eq!(first.status, StatusCode::OK);
        let first = first.json();
        assert_eq!(first["total"], 7);
        assert_eq!(ids_of(&first).len(), 3);
        assert!(ids_of(&first)[0].contains("Patient/h6"));

        // A write between pages does not shift the next page.
        send(&app, fhir_request(Method::PUT, "/fhir/Patient/h9", &token, Some(&json!({"resourceType": "Patient", "id": "h9"})))).await;
        let mut seen = ids_of(&first);
        let mut next = next_link(&first);
        while let Some(url) = next {
            let page = send(&app, fhir_request(Method::GET, &url, &token, None)).await.json();
            seen.extend(ids_of(&page));
            next = next_link(&page);
        }
        let expected: Vec<String> = (0..7).rev().map(|i| format!("http://carnet.test/fhir/Patient/h{i}@W/\"1\"")).collect();
        assert_eq!(seen, expected);

        // Every request is audited: the system history holds the AuditEvents counted here
        // (and the one of this count) besides the 9 versions written.
        let audit = send(&app, fhir_request(Method::GET, "/fhir/AuditEvent/_history?_count=0", &token, None)).await.json();
        let audited = audit["total"].as_i64().unwrap();
        let system = send(&app, fhir_request(Method::GET, "/fhir/_history", &token, None)).await.json();
        assert_eq!(system["total"], 9 + audited + 1);

        let none = send(&app, fhir_request(Method::GET, "/fhir/Patient/_history?_count=0", &token, None)).await.json();
        assert_eq!(none["total"], 8);
        assert!(none.get("entry").is_none());

        let missing = send(&app, fhir_request(Method::GET, "/fhir/Patient/nobody/_history", &token, None)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let bad = send(&app, fhir_request(Method::GET, "/fhir/Patient/_history?_since=yesterday", &token, None)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.issues()[0].1.contains("_since"));
    })
    .await;
}

#[actix_rt::test]
async fn since_and_at_select_versions_by_time() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let put =
            |active: bool| json!({"resourceType": "Patient", "id": "timed", "active": active});
        let v1 = send(
            &app,
            fhir_request(Method::PUT, "/fhir/Patient/timed", &token, Some(&put(true))),
        )
        .await
        .json();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let v2 = send(
            &app,
            fhir_request(
                Method::PUT,
                "/fhir/Patient/timed",
                &token,
                Some(&put(false)),
            ),
        )
        .await
        .json();
        let t1 = v1["meta"]["lastUpdated"].as_str().unwrap().to_owned();
        let t2 = v2["meta"]["lastUpdated"].as_str().unwrap().to_owned();
        assert!(t1 < t2);

        let since = send(
            &app,
            fhir_request(
                Method::GET,
                &format!(
                    "/fhir/Patient/timed/_history?_since={}",
                    t2.replace('+', "%2B")
                ),
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(since["total"], 1);
        assert_eq!(since["entry"][0]["resource"]["meta"]["versionId"], "2");

        // At v1's instant only v1 was current; at v2's instant only v2.
        let at1 = send(
            &app,
            fhir_request(
                Method::GET,
                &format!("/fhir/Patient/timed/_history?_at={t1}"),
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(at1["total"], 1);
        assert_eq!(at1["entry"][0]["resource"]["meta"]["versionId"], "1");
        let at2 = send(
            &app,
            fhir_request(
                Method::GET,
                &format!("/fhir/Patient/timed/_history?_at={t2}"),
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(at2["total"], 1);
        assert_eq!(at2["entry"][0]["resource"]["meta"]["versionId"], "2");
        // A whole day covers both.
        let day = &t1[..10];
        let at_day = send(
            &app,
            fhir_request(
                Method::GET,
                &format!("/fhir/Patient/timed/_history?_at={day}"),
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(at_day["total"], 2);
    })
    .await;
}
