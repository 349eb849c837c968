//! Search through HTTP on every backend, against data whose answers are known: each
//! parameter type with its modifiers and prefixes, chains, `_has`, includes, sort, paging,
//! totals, `_summary=count`, `_elements`, POST `_search`, errors naming the parameter.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::common::{each_backend, fhir_request, link, send};

fn ids(bundle: &Value, mode: &str) -> Vec<String> {
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["search"]["mode"] == mode)
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["resource"]["resourceType"].as_str().unwrap(),
                        e["resource"]["id"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn world() -> Vec<Value> {
    vec![
        json!({"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-03-02",
            "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "270037512345678"}],
            "name": [{"family": "Durand", "given": ["Hélène"]}]}),
        json!({"resourceType": "Patient", "id": "p2", "gender": "male", "birthDate": "1985-11-20",
            "name": [{"family": "Martin", "given": ["Jean"]}]}),
        json!({"resourceType": "Patient", "id": "p3", "name": [{"family": "Durandet"}]}),
        json!({"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-01-02T10:00:00Z",
            "valueQuantity": {"value": 70.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}),
        json!({"resourceType": "Observation", "id": "o2", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": "Patient/p2"}, "effectiveDateTime": "2024-03-05",
            "valueQuantity": {"value": 82, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}),
        json!({"resourceType": "Observation", "id": "o3", "status": "preliminary",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Fréquence cardiaque"},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2023-12-31"}),
    ]
}

/// Stores the world through HTTP (PUT with its ids).
async fn load_world<S, B>(app: &S, token: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    for resource in world() {
        let url = format!(
            "/fhir/{}/{}",
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        let reply = send(app, fhir_request(Method::PUT, &url, token, Some(&resource))).await;
        assert!(
            reply.status.is_success(),
            "{url}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[actix_rt::test]
async fn parameters_of_every_type() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        load_world(&app, &token).await;
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("/fhir/Patient?name=helene", vec!["Patient/p1"]),
            ("/fhir/Patient?name=H%C3%89L", vec!["Patient/p1"]),
            (
                "/fhir/Patient?family=durand",
                vec!["Patient/p1", "Patient/p3"],
            ),
            ("/fhir/Patient?family:exact=Durand", vec!["Patient/p1"]),
            (
                "/fhir/Patient?family:contains=rand",
                vec!["Patient/p1", "Patient/p3"],
            ),
            ("/fhir/Patient?gender=female", vec!["Patient/p1"]),
            (
                "/fhir/Patient?gender=female,male",
                vec!["Patient/p1", "Patient/p2"],
            ),
            (
                "/fhir/Patient?gender:not=female",
                vec!["Patient/p2", "Patient/p3"],
            ),
            ("/fhir/Patient?gender:missing=true", vec!["Patient/p3"]),
            (
                "/fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8%7C270037512345678",
                vec!["Patient/p1"],
            ),
            (
                "/fhir/Patient?identifier=270037512345678",
                vec!["Patient/p1"],
            ),
            (
                "/fhir/Patient?identifier=urn:oid:other%7C270037512345678",
                vec![],
            ),
            ("/fhir/Patient?birthdate=1970", vec!["Patient/p1"]),
            ("/fhir/Patient?birthdate=ge1980-01-01", vec!["Patient/p2"]),
            ("/fhir/Patient?birthdate=lt1980", vec!["Patient/p1"]),
            (
                "/fhir/Patient?birthdate=gt1970-01&birthdate=lt1990",
                vec!["Patient/p1", "Patient/p2"],
            ),
            ("/fhir/Patient?_id=p2,p3", vec!["Patient/p2", "Patient/p3"]),
            (
                "/fhir/Observation?subject=Patient/p1",
                vec!["Observation/o1", "Observation/o3"],
            ),
            ("/fhir/Observation?patient=p2", vec!["Observation/o2"]),
            (
                "/fhir/Observation?subject:Patient=p1&status=final",
                vec!["Observation/o1"],
            ),
            (
                "/fhir/Observation?code=http://loinc.org%7C29463-7",
                vec!["Observation/o1", "Observation/o2"],
            ),
            (
                "/fhir/Observation?code:text=frequence",
                vec!["Observation/o3"],
            ),
            (
                "/fhir/Observation?value-quantity=70.5%7Chttp://unitsofmeasure.org%7Ckg",
                vec!["Observation/o1"],
            ),
            (
                "/fhir/Observation?value-quantity=gt75",
                vec!["Observation/o2"],
            ),
            (
                "/fhir/Observation?date=2024",
                vec!["Observation/o1", "Observation/o2"],
            ),
            (
                "/fhir/Observation?date=lt2024-01-02T12:00:00Z",
                vec!["Observation/o1", "Observation/o3"],
            ),
            (
                "/fhir/Observation?patient.name=martin",
                vec!["Observation/o2"],
            ),
            (
                "/fhir/Observation?subject:Patient.name=martin",
                vec!["Observation/o2"],
            ),
            (
                "/fhir/Observation?subject:Patient.birthdate=1970",
                vec!["Observation/o1", "Observation/o3"],
            ),
            (
                "/fhir/Patient?_has:Observation:subject:value-quantity=gt80",
                vec!["Patient/p2"],
            ),
            (
                "/fhir/Patient?_has:Observation:subject:status=preliminary",
                vec!["Patient/p1"],
            ),
        ];
        for (url, expected) in cases {
            let reply = send(&app, fhir_request(Method::GET, url, &token, None)).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{url}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            let bundle = reply.json();
            assert_eq!(bundle["type"], "searchset");
            assert_eq!(ids(&bundle, "match"), expected, "{url}");
            assert_eq!(bundle["total"], expected.len(), "{url}");
        }

        // Deleted and changed resources leave the index.
        send(
            &app,
            fhir_request(Method::DELETE, "/fhir/Patient/p3", &token, None),
        )
        .await;
        let mut renamed = world()[1].clone();
        renamed["name"][0]["family"] = json!("Bernard");
        send(
            &app,
            fhir_request(Method::PUT, "/fhir/Patient/p2", &token, Some(&renamed)),
        )
        .await;
        let reply = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?family=durand,martin",
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(ids(&reply.json(), "match"), vec!["Patient/p1"]);
    })
    .await;
}

#[actix_rt::test]
async fn results_paging_includes_and_errors() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        load_world(&app, &token).await;
        // Paging through every page with next links, totals on each.
        let mut seen = Vec::new();
        let mut next = Some("/fhir/Observation?_count=2&_sort=date".to_owned());
        let mut pages = 0;
        while let Some(url) = next {
            let page = send(&app, fhir_request(Method::GET, &url, &token, None))
                .await
                .json();
            assert_eq!(page["total"], 3);
            for entry in page["entry"].as_array().into_iter().flatten() {
                seen.push(entry["resource"]["id"].as_str().unwrap().to_owned());
            }
            next = link(&page, "next");
            pages += 1;
        }
        assert_eq!(pages, 2);
        assert_eq!(seen, vec!["o3", "o1", "o2"], "sorted by date ascending");
        let descending = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient?_sort=-birthdate", &token, None),
        )
        .await
        .json();
        let order: Vec<&str> = descending["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            order,
            vec!["p2", "p1", "p3"],
            "descending, missing values last"
        );

        let count = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Observation?_summary=count",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(count["total"], 3);
        assert!(count.get("entry").is_none());
        let no_total = send(
            &app,
            fhir_request(Method::GET, "/fhir/Observation?_total=none", &token, None),
        )
        .await
        .json();
        assert!(no_total.get("total").is_none());

        let included = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Observation?code=29463-7&_include=Observation:subject",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(
            ids(&included, "match"),
            vec!["Observation/o1", "Observation/o2"]
        );
        assert_eq!(ids(&included, "include"), vec!["Patient/p1", "Patient/p2"]);
        assert_eq!(included["total"], 2, "includes do not count");
        let reverse = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?_id=p1&_revinclude=Observation:subject",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(
            ids(&reverse, "include"),
            vec!["Observation/o1", "Observation/o3"]
        );
        // Wildcards follow every reference parameter (of one source type, or of all): the
        // Observations of p1 by `subject` and `patient`, and (for `*`) the AuditEvents
        // naming p1, which this client may read.
        for wildcard in ["Observation:*", "*"] {
            let url = format!("/fhir/Patient?_id=p1&_revinclude={wildcard}");
            let reply = send(&app, fhir_request(Method::GET, &url, &token, None))
                .await
                .json();
            let included = ids(&reply, "include");
            let not_audit: Vec<&String> = included
                .iter()
                .filter(|id| !id.starts_with("AuditEvent/"))
                .collect();
            assert_eq!(not_audit, ["Observation/o1", "Observation/o3"], "{url}");
            let audits = included.len() - not_audit.len();
            assert_eq!(audits > 0, wildcard == "*", "{url}: {included:?}");
        }

        let elements = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?_id=p1&_elements=gender",
                &token,
                None,
            ),
        )
        .await
        .json();
        let patient = &elements["entry"][0]["resource"];
        assert_eq!(patient["gender"], "female");
        assert!(patient.get("name").is_none());
        assert_eq!(patient["meta"]["tag"][0]["code"], "SUBSETTED");

        let summary = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?_id=p1&_summary=true",
                &token,
                None,
            ),
        )
        .await
        .json();
        let patient = &summary["entry"][0]["resource"];
        assert_eq!(
            patient["name"][0]["family"], "Durand",
            "name is a summary element"
        );
        assert_eq!(patient["birthDate"], "1970-03-02");
        assert_eq!(patient["meta"]["tag"][0]["code"], "SUBSETTED");
        let observation = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Observation?_id=o3&_summary=text",
                &token,
                None,
            ),
        )
        .await
        .json();
        let o3 = &observation["entry"][0]["resource"];
        assert_eq!(o3["status"], "preliminary", "status is mandatory");
        assert!(
            o3.get("effectiveDateTime").is_none(),
            "optional elements go"
        );
        let data = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Observation?_id=o3&_summary=data",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(
            data["entry"][0]["resource"]["effectiveDateTime"],
            "2023-12-31"
        );
        let form = fhir_request(Method::POST, "/fhir/Patient/_search", &token, None)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("gender=male");
        let posted = send(&app, form).await;
        assert_eq!(posted.status, StatusCode::OK);
        assert_eq!(ids(&posted.json(), "match"), vec!["Patient/p2"]);

        let system = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir?_type=Patient,Observation&_id=p1,o2",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(ids(&system, "match"), vec!["Observation/o2", "Patient/p1"]);

        let bad_date = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient?birthdate=xx2013", &token, None),
        )
        .await;
        assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
        assert!(
            bad_date.issues()[0].1.contains("`birthdate`"),
            "{:?}",
            bad_date.issues()
        );
        let strict = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient?colour=blue", &token, None)
                .insert_header(("Prefer", "handling=strict")),
        )
        .await;
        assert_eq!(strict.status, StatusCode::BAD_REQUEST);
        assert!(strict.issues()[0].1.contains("`colour`"));
        let lenient = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?colour=blue&gender=male",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(ids(&lenient, "match"), vec!["Patient/p2"]);
        let self_link = link(&lenient, "self").unwrap();
        assert!(
            !self_link.contains("colour") && self_link.contains("gender=male"),
            "{self_link}"
        );
        let modifier = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient?gender:fuzzy=x", &token, None)
                .insert_header(("Prefer", "handling=strict")),
        )
        .await;
        assert_eq!(modifier.status, StatusCode::BAD_REQUEST);
        let compartment = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/p1/Observation", &token, None),
        )
        .await
        .json();
        assert_eq!(
            ids(&compartment, "match"),
            vec!["Observation/o1", "Observation/o3"]
        );
        let narrowed = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient/p1/Observation?status=final",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(ids(&narrowed, "match"), vec!["Observation/o1"]);
        let everything = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient/p1/*?_type=Observation,Patient",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert_eq!(
            ids(&everything, "match"),
            vec!["Observation/o1", "Observation/o3", "Patient/p1"]
        );
        assert_eq!(everything["total"], 3);
        let outside = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient/p1/Practitioner", &token, None),
        )
        .await;
        assert_eq!(outside.status, StatusCode::BAD_REQUEST);
        let other = send(
            &app,
            fhir_request(Method::GET, "/fhir/Encounter/e1/Observation", &token, None),
        )
        .await;
        assert_eq!(other.status, StatusCode::BAD_REQUEST);
        let ambiguous = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Observation?subject.name=martin",
                &token,
                None,
            ),
        )
        .await;
        assert_eq!(ambiguous.status, StatusCode::BAD_REQUEST);
        assert!(
            ambiguous.issues()[0].1.contains("`Patient`"),
            "{:?}",
            ambiguous.issues()
        );
        let unknown_type = send(
            &app,
            fhir_request(Method::GET, "/fhir/Nothing?x=1", &token, None),
        )
        .await;
        assert_eq!(unknown_type.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[actix_rt::test]
async fn paging_is_stable_while_resources_are_created() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let put = |id: &str| json!({"resourceType": "Patient", "id": id, "active": true});
        for id in ["a1", "a2", "a3", "a4", "a5", "a6", "a7"] {
            send(
                &app,
                fhir_request(
                    Method::PUT,
                    &format!("/fhir/Patient/{id}"),
                    &token,
                    Some(&put(id)),
                ),
            )
            .await;
        }
        let first = send(
            &app,
            fhir_request(
                Method::GET,
                "/fhir/Patient?active=true&_count=3",
                &token,
                None,
            ),
        )
        .await
        .json();
        assert!(link(&first, "previous").is_none());
        let mut seen = ids(&first, "match");
        assert_eq!(seen, vec!["Patient/a1", "Patient/a2", "Patient/a3"]);
        // A resource created before the cursor must not shift the following pages.
        send(
            &app,
            fhir_request(Method::PUT, "/fhir/Patient/a0", &token, Some(&put("a0"))),
        )
        .await;
        let mut next = link(&first, "next");
        let mut last_page = first.clone();
        while let Some(url) = next {
            let page = send(&app, fhir_request(Method::GET, &url, &token, None))
                .await
                .json();
            seen.extend(ids(&page, "match"));
            next = link(&page, "next");
            last_page = page;
        }
        let expected: Vec<String> = (1..=7).map(|i| format!("Patient/a{i}")).collect();
        assert_eq!(seen, expected, "every match once, none repeated");
        let previous = link(&last_page, "previous").expect("a previous link");
        let back = send(&app, fhir_request(Method::GET, &previous, &token, None))
            .await
            .json();
        assert_eq!(
            ids(&back, "match"),
            vec!["Patient/a4", "Patient/a5", "Patient/a6"]
        );
        let garbage = send(
            &app,
            fhir_request(Method::GET, "/fhir/Patient?_page=zz", &token, None),
        )
        .await;
        assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
        assert!(garbage.issues()[0].1.contains("`_page`"));
    })
    .await;
}
