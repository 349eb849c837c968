//! `carnet import` of many files on both backends: files are prepared several at a time but
//! written in the order given, so a file may depend on an earlier one (a conditional
//! reference to a patient it created, a new version of a resource it wrote), and a bad
//! file in the middle is skipped without touching the others.

use serde_json::{Value, json};

use crate::common::{each_backend, fhir_request, send};

/// File `n`: creates Patient `imp-{n}` (identifier `imp-{n}`) and an Observation whose
/// subject is the patient of file `previous`, found by its identifier (a conditional
/// reference that only resolves if that file was written first), and writes a new version
/// of Patient `shared` whose name tells which file wrote it last.
fn file(n: usize, previous: Option<usize>) -> Value {
    let mut entries = vec![
        json!({"resource": {"resourceType": "Patient", "id": format!("imp-{n}"),
            "identifier": [{"system": "urn:test:imp", "value": format!("imp-{n}")}]},
            "request": {"method": "PUT", "url": format!("Patient/imp-{n}")}}),
        json!({"resource": {"resourceType": "Patient", "id": "shared",
            "name": [{"family": format!("written-by-{n}")}]},
            "request": {"method": "PUT", "url": "Patient/shared"}}),
    ];
    if let Some(previous) = previous {
        entries.push(
            json!({"resource": {"resourceType": "Observation", "status": "final",
            "code": {"text": format!("from file {n}")},
            "subject": {"reference": format!("Patient?identifier=urn:test:imp|imp-{previous}")}},
            "request": {"method": "POST", "url": "Observation"}}),
        );
    }
    // Every fourth file is long to read and validate, so that the files after it are ready
    // to write first: only the order of the writes keeps them from overtaking it.
    if n.is_multiple_of(4) {
        for _ in 0..FILLERS {
            entries.push(
                json!({"resource": {"resourceType": "Observation", "status": "final",
                "code": {"text": "filler"}}, "request": {"method": "POST", "url": "Observation"}}),
            );
        }
    }
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

/// Observations that slow down every fourth file.
const FILLERS: usize = 300;

#[actix_rt::test]
async fn files_are_written_in_order_and_a_bad_one_is_skipped() {
    each_backend(|t| async move {
        let dir = tempfile::tempdir().unwrap();
        let files = 24;
        let bad = 11;
        for n in 0..files {
            let body = if n == bad {
                // Valid JSON, invalid resource: the whole file is refused.
                json!({"resourceType": "Bundle", "type": "transaction", "entry": [
                    {"resource": {"resourceType": "Patient", "id": "never", "birthDate": "1990-02-31"},
                     "request": {"method": "PUT", "url": "Patient/never"}}]})
            } else {
                // The file before the bad one stands in for it.
                let previous = (n > 0).then(|| if n - 1 == bad { n - 2 } else { n - 1 });
                file(n, previous)
            };
            std::fs::write(
                dir.path().join(format!("f{n:03}.json")),
                body.to_string(),
            )
            .unwrap();
        }
        let summary =
            carnet::import::import_paths(&t.services, &[dir.path().to_owned()], false);
        let failed: Vec<String> = summary
            .failed_files
            .iter()
            .map(|(path, _)| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(failed, vec![format!("f{bad:03}.json")], "{summary}");
        assert_eq!(summary.files_imported, files - 1, "{summary}");
        let waiting = t
            .services
            .store
            .read(carnet::storage::index_backlog::size)
            .unwrap();
        assert_eq!(waiting, 0, "the import's AuditEvents are indexed when it ends");
        let app = actix_web::test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let shared = send(
            &app,
            fhir_request(actix_web::http::Method::GET, "/fhir/Patient/shared", &token, None),
        )
        .await
        .json();
        assert_eq!(shared["name"][0]["family"], format!("written-by-{}", files - 1));
        assert_eq!(shared["meta"]["versionId"], (files - 1).to_string());
        let observations = send(
            &app,
            fhir_request(
                actix_web::http::Method::GET,
                "/fhir/Observation?code:text=from&_count=100",
                &token,
                None,
            ),
        )
        .await
        .json();
        // Files 1.. each add one, but for the refused one.
        assert_eq!(observations["total"], files - 2);
        for entry in observations["entry"].as_array().unwrap() {
            let text = entry["resource"]["code"]["text"].as_str().unwrap();
            let n: usize = text.trim_start_matches("from file ").parse().unwrap();
            let previous = if n - 1 == bad { n - 2 } else { n - 1 };
            assert_eq!(
                entry["resource"]["subject"]["reference"],
                format!("Patient/imp-{previous}"),
                "{text}"
            );
        }
    })
    .await;
}
