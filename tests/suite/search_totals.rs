//! A search's `total` counts each live, current match once, however it is computed: from
//! the lookup index alone (one indexed criterion, no access filter), through the resource
//! rows (several criteria), or from the page itself (a page holding every match). A
//! resource with several matching values counts once; one deleted, or changed so that it
//! no longer matches, not at all; a resource of another type with the same value neither.

use actix_web::http::Method;
use actix_web::test;
use serde_json::json;

use crate::common::{each_backend, fhir_request, get, put_all, send};

#[actix_rt::test]
async fn totals_count_each_live_match_once() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let resources = [
            // Two names that both match: one match.
            json!({"resourceType": "Patient", "id": "twice", "gender": "female",
                "name": [{"family": "Totalier", "given": ["Totaline"]}, {"family": "Totalis"}]}),
            json!({"resourceType": "Patient", "id": "once", "gender": "male",
                "name": [{"family": "Totalement"}]}),
            json!({"resourceType": "Patient", "id": "deleted", "gender": "female",
                "name": [{"family": "Totalier"}]}),
            json!({"resourceType": "Patient", "id": "renamed", "gender": "female",
                "name": [{"family": "Totalier"}]}),
            json!({"resourceType": "Patient", "id": "other", "gender": "female",
                "name": [{"family": "Autre"}]}),
            // Another type with the same name: not a Patient match.
            json!({"resourceType": "Practitioner", "id": "namesake",
                "name": [{"family": "Totalier"}]}),
        ];
        put_all(&app, &token, &resources).await;
        let renamed = json!({"resourceType": "Patient", "id": "renamed", "gender": "female",
            "name": [{"family": "Renommé"}]});
        let update = fhir_request(Method::PUT, "/fhir/Patient/renamed", &token, Some(&renamed));
        assert!(send(&app, update).await.status.is_success());
        let deleted = send(
            &app,
            fhir_request(Method::DELETE, "/fhir/Patient/deleted", &token, None),
        )
        .await;
        assert!(deleted.status.is_success());

        // (query, expected total): pages of one, so the page never holds every match and
        // the total is counted.
        let cases = [
            ("/fhir/Patient?name=total&_count=1", 2),
            ("/fhir/Patient?name=total&_summary=count", 2),
            ("/fhir/Patient?name=total,autre&_count=1", 3),
            ("/fhir/Patient?name=totalier&_count=1", 1),
            ("/fhir/Patient?name=total&gender=female&_count=1", 1),
            ("/fhir/Patient?name=renomm&_count=1", 1),
            ("/fhir/Patient?name=nobody&_count=1", 0),
            ("/fhir/Practitioner?name=total&_count=1", 1),
        ];
        for (url, expected) in cases {
            let reply = get(&app, url, &token).await;
            assert!(reply.status.is_success(), "{url}: {}", reply.status);
            assert_eq!(
                reply.json()["total"],
                json!(expected),
                "{} {url}",
                t.database.label
            );
        }
    })
    .await;
}
