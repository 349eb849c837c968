//! The common searches (TARGETS.md W4: a name search; a patient's documents of one type)
//! are driven by indexes on every backend, for a system client and for a professional
//! under the DMP rules alike: the database's plan (`interaction::search::explain`, the SQL
//! the search really runs) starts from an index of the searched values, never from a scan
//! of every resource. The benchmark prints the same plans at 100k patients.

use carnet::auth::{Principal, PurposeOfUse, Subject};
use carnet::interaction::RequestContext;
use carnet::interaction::search::{SearchScope, explain};
use serde_json::json;

use crate::common::{each_backend, fhir_request, send};

/// A search: its type, its parameters, the index table its plan must start from, and
/// whether a client without access filter has its total counted from that index alone (a
/// search by one indexed value).
type CommonSearch = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    bool,
);

fn practitioner() -> Principal {
    Principal {
        subject: Subject::Practitioner("gp".to_owned()),
        issuer: "test".to_owned(),
        token_id: None,
        scopes: vec!["user/*.cruds".to_owned()],
        purposes: vec![PurposeOfUse::Treat],
        profession: Some("10".to_owned()),
        organization: None,
        patient: None,
        expires_at: i64::MAX,
    }
}

#[actix_rt::test]
async fn common_searches_use_indexes() {
    each_backend(|t| async move {
        let app = actix_web::test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        for i in 0..40 {
            let patient = json!({"resourceType": "Patient", "id": format!("p{i}"),
                "name": [{"family": format!("Family{}", i % 7)}],
                "generalPractitioner": [{"reference": "Practitioner/gp"}]});
            let document = json!({"resourceType": "DocumentReference", "id": format!("d{i}"),
                "status": "current", "subject": {"reference": format!("Patient/p{i}")},
                "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
                "content": [{"attachment": {"contentType": "text/plain", "data": "Ym9uam91cg=="}}]});
            for resource in [patient, document] {
                let url = format!("/fhir/{}/{}", resource["resourceType"].as_str().unwrap_or(""), resource["id"].as_str().unwrap_or(""));
                let reply = send(&app, fhir_request(actix_web::http::Method::PUT, &url, &token, Some(&resource))).await;
                assert!(reply.status.is_success());
            }
        }
        let system = t.services.clone();
        let searches: [CommonSearch; 2] = [
            ("Patient", &[("name", "family3"), ("_count", "20")], "search_string", true),
            (
                "DocumentReference",
                &[("patient", "p3"), ("type", "http://loinc.org|11488-4"), ("_count", "20")],
                "search_reference",
                false,
            ),
        ];
        let principals = [
            carnet::import::load_context(&system, "plans").principal,
            practitioner(),
        ];
        for principal in principals {
            for (res_type, pairs, table, counted_from_index) in searches {
                let pairs: Vec<(String, String)> = pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                let context = RequestContext::new(principal.clone(), "plan".to_owned(), 0);
                let scope = SearchScope {
                    type_name: Some(res_type),
                    patient_compartment: None,
                    everything: false,
                };
                let plan = explain(&system, &context, scope, &pairs).expect("a plan");
                let text = plan.join("\n");
                println!("{} {res_type} as {:?}:\n{text}\n", t.database.label, principal.subject);
                assert!(
                    plan.iter().any(|line| line.contains(table) && (line.contains("INDEX") || line.contains("Index"))),
                    "the plan of {res_type} does not use an index of {table}:\n{text}"
                );
                let scans_everything = plan.iter().any(|line| {
                    let line = line.trim_start();
                    line.starts_with("SCAN r") || line.contains("Seq Scan on current_resources")
                });
                assert!(!scans_everything, "the plan of {res_type} scans every resource:\n{text}");
                // SQLite plans by rules (no statistics): no step may read every row of a
                // type through an index constrained by the type alone.
                let type_wide = plan.iter().any(|line| line.trim_end().ends_with("(res_type=?)"));
                assert!(!type_wide, "the plan of {res_type} reads a whole type:\n{text}");
                // The total of a search by one indexed value, for a client no access filter
                // narrows, counts the distinct keys of the lookup index: no resource row read
                // per match. A professional's count goes through the resource rows (the
                // consent filter is on them).
                let count_plan: Vec<&String> = plan
                    .iter()
                    .skip_while(|line| line.as_str() != carnet::storage::search::COUNT_PLAN)
                    .collect();
                assert!(count_plan.len() > 1, "no plan of the count:\n{text}");
                let reads_resources = count_plan.iter().any(|line| {
                    line.contains("current_resources") || line.trim_start().starts_with("SEARCH r ")
                });
                let narrowed = matches!(principal.subject, Subject::Practitioner(_));
                assert_eq!(
                    reads_resources,
                    narrowed || !counted_from_index,
                    "the count of {res_type} as {:?} reads the resource rows: {reads_resources}\n{text}",
                    principal.subject
                );
            }
        }
    })
    .await;
}
