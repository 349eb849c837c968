//! `_text` (the narrative), `_content` (all the text) and `near` (Location.position)
//! through HTTP on every backend: every word must appear, case and accents folded, OR with
//! commas; the index follows updates and deletes; a very long narrative is indexed; `near`
//! by distance and unit (km by default), across the antimeridian, with totals and paging;
//! bad values are 400s naming the parameter; `reindex` rebuilds both indexes; the
//! CapabilityStatement lists them.

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use carnet::interaction::reindex;
use carnet::storage::StorageError;
use carnet::storage::index;

use crate::common::{
    assert_found, each_backend, entry_ids, fhir_request, get, put_all, send, typed_ids as ids,
};

fn patient(id: &str, family: &str, narrative: Option<&str>) -> Value {
    let mut p = json!({"resourceType": "Patient", "id": id, "name": [{"family": family}]});
    if let Some(div) = narrative {
        p["text"] = json!({"status": "generated",
            "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{div}</div>")});
    }
    p
}

fn location(id: &str, position: Option<(f64, f64)>) -> Value {
    let mut l = json!({"resourceType": "Location", "id": id, "name": id});
    if let Some((latitude, longitude)) = position {
        l["position"] = json!({"latitude": latitude, "longitude": longitude});
    }
    l
}

#[actix_rt::test]
async fn text_and_content_match_every_word() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        // A narrative of 30,000 distinct words (far beyond a btree row).
        let long: String = (0..30_000).map(|i| format!("mot{i} ")).collect();
        let world = [
            patient(
                "pa",
                "Martin",
                Some("<p>H&#233;l&#232;ne <b>DUPONT</b>, suivie pour diabète de type 2</p>"),
            ),
            patient("pb", "Durand", Some("<p>Patient with asthma</p>")),
            patient("pc", "Dupont", None),
            patient("long", "Long", Some(&long)),
        ];
        put_all(&app, &token, &world).await;
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("_text=helene", vec!["pa"]),
            ("_text=H%C3%A9l%C3%A8ne", vec!["pa"]),
            ("_text=DIABETE%20type", vec!["pa"]),
            ("_text=dupont", vec!["pa"]),
            ("_text=martin", vec![]),
            ("_text=diab", vec![]),
            ("_text=helene%20asthma", vec![]),
            ("_text=asthma,helene", vec!["pa", "pb"]),
            ("_text=asthma&_text=patient", vec!["pb"]),
            ("_text=mot29999", vec!["long"]),
            ("_content=dupont", vec!["pa", "pc"]),
            ("_content=martin", vec!["pa"]),
            ("_content=durand%20asthma", vec!["pb"]),
            ("_content=patient", vec!["long", "pa", "pb", "pc"]),
        ];
        for (query, expected) in cases {
            let reply = get(&app, &format!("/fhir/Patient?{query}"), &token).await;
            assert_found(&reply, &ids("Patient", &expected), query);
        }
        // System-level search with `_content`.
        let reply = get(&app, "/fhir?_content=durand", &token).await;
        assert_eq!(entry_ids(&reply.json()), ["Patient/pb"]);
        // The index follows the current version.
        let changed = patient("pa", "Martin", Some("<p>Autre texte</p>"));
        let reply = send(
            &app,
            fhir_request(Method::PUT, "/fhir/Patient/pa", &token, Some(&changed)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        let reply = get(&app, "/fhir/Patient?_text=helene", &token).await;
        assert!(entry_ids(&reply.json()).is_empty());
        let reply = get(&app, "/fhir/Patient?_text=autre", &token).await;
        assert_eq!(entry_ids(&reply.json()), ["Patient/pa"]);
        let reply = send(
            &app,
            fhir_request(Method::DELETE, "/fhir/Patient/pb", &token, None),
        )
        .await;
        assert!(reply.status.is_success());
        let reply = get(&app, "/fhir/Patient?_content=durand", &token).await;
        assert!(entry_ids(&reply.json()).is_empty());
        // A value without any word is a 400 naming the parameter.
        for query in ["_text=%21%21", "_content=", "_text=a,"] {
            let reply = get(&app, &format!("/fhir/Patient?{query}"), &token).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
            let name = query.split('=').next().unwrap();
            assert!(
                reply
                    .issues()
                    .iter()
                    .any(|(_, text)| text.contains(&format!("`{name}`"))),
                "{query}"
            );
        }
    })
    .await;
}

#[actix_rt::test]
async fn near_finds_locations_within_the_distance() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let world = [
            location("paris", Some((48.8566, 2.3522))),
            // 17.9 km from Paris.
            location("versailles", Some((48.8049, 2.1204))),
            // About 390 km from Paris.
            location("lyon", Some((45.764, 4.8357))),
            location("nowhere", None),
            // 16 km apart across the antimeridian.
            location("east", Some((-17.7, 179.93))),
            location("west", Some((-17.7, -179.93))),
        ];
        put_all(&app, &token, &world).await;
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("near=48.8566|2.3522|10|km", vec!["paris"]),
            ("near=48.8566|2.3522|17", vec!["paris"]),
            ("near=48.8566|2.3522|19", vec!["paris", "versailles"]),
            ("near=48.8566|2.3522|19000|m", vec!["paris", "versailles"]),
            ("near=48.8566|2.3522|10|[mi_i]", vec!["paris"]),
            ("near=48.8566|2.3522|12|[mi_i]", vec!["paris", "versailles"]),
            ("near=48.8566|2.3522|380", vec!["paris", "versailles"]),
            ("near=48.8566|2.3522|400", vec!["lyon", "paris", "versailles"]),
            // No distance: 10 km.
            ("near=48.8566|2.3522", vec!["paris"]),
            ("near=45.764|4.8357|1,48.8049|2.1204|1", vec!["lyon", "versailles"]),
            ("near=-17.7|179.93|20", vec!["east", "west"]),
            ("near=-17.7|-179.93|5", vec!["west"]),
            ("near:missing=true", vec!["nowhere"]),
            ("near=0|0|100", vec![]),
        ];
        for (query, expected) in cases {
            let url = format!("/fhir/Location?{}", query.replace('|', "%7C").replace('[', "%5B").replace(']', "%5D"));
            let reply = get(&app, &url, &token).await;
            assert_found(&reply, &ids("Location", &expected), query);
        }
        // Paging keeps the total and reaches every match once.
        let first = get(&app, "/fhir/Location?near=48.8566%7C2.3522%7C400&_count=2", &token).await.json();
        assert_eq!(first["total"], json!(3));
        assert_eq!(first["entry"].as_array().unwrap().len(), 2);
        let next = first["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"].as_str().unwrap().replace("http://carnet.test", "");
        let second = get(&app, &next, &token).await.json();
        let mut all = entry_ids(&first);
        all.extend(entry_ids(&second));
        all.sort();
        assert_eq!(all, ids("Location", &["lyon", "paris", "versailles"]));
        // Bad values are 400s naming the parameter.
        for value in ["abc|2", "95|2", "48|200", "48", "48|2|-1", "48|2|10|furlong", "48|2|10|km|x"] {
            let url = format!("/fhir/Location?near={}", value.replace('|', "%7C"));
            let reply = get(&app, &url, &token).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{value}");
            assert!(reply.issues().iter().any(|(_, text)| text.contains("`near`")), "{value}");
        }
        // A position out of range is not indexed (the rest of the Location is).
        let bad = json!({"resourceType": "Location", "id": "bad", "position": {"latitude": 120, "longitude": 0}});
        let reply = send(&app, fhir_request(Method::PUT, "/fhir/Location/bad", &token, Some(&bad))).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let reply = get(&app, "/fhir/Location?near:missing=true", &token).await;
        assert_eq!(entry_ids(&reply.json()), ids("Location", &["bad", "nowhere"]));
    })
    .await;
}

#[actix_rt::test]
async fn capability_statement_lists_the_new_parameters() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let statement = send(&app, test::TestRequest::get().uri("/fhir/metadata"))
            .await
            .json();
        let params = |ty: &str| -> Vec<Value> {
            statement["rest"][0]["resource"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["type"] == ty)
                .unwrap()["searchParam"]
                .as_array()
                .unwrap()
                .clone()
        };
        let find = |ty: &str, name: &str| params(ty).into_iter().find(|p| p["name"] == name);
        assert_eq!(find("Location", "near").unwrap()["type"], "special");
        assert!(find("Patient", "_text").is_some());
        assert!(find("Patient", "_content").is_some());
        assert!(find("Bundle", "_content").is_some());
        assert!(find("Bundle", "_text").is_none());
        assert!(find("Patient", "_query").is_none());
        let code = find("Condition", "code").unwrap();
        let documentation = code["documentation"].as_str().unwrap();
        for modifier in [
            ":in", ":not-in", ":above", ":below", ":not", ":text", ":missing",
        ] {
            assert!(documentation.contains(modifier), "{documentation}");
        }
    })
    .await;
}

#[actix_rt::test]
async fn reindex_rebuilds_words_and_positions() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        let resources = [
            patient("pa", "Martin", Some("<p>Hélène</p>")),
            location("paris", Some((48.8566, 2.3522))),
        ];
        put_all(&app, &token, &resources).await;
        let queries = [
            ("/fhir/Patient?_text=helene", "Patient/pa"),
            ("/fhir/Patient?_content=martin", "Patient/pa"),
            ("/fhir/Location?near=48.85%7C2.35%7C5", "Location/paris"),
        ];
        let found = |app_reply: Value| entry_ids(&app_reply);
        for (url, expected) in queries {
            let reply = get(&app, url, &token).await;
            assert_eq!(found(reply.json()), [expected], "{url}");
        }
        let store = t.services.store.clone();
        for (ty, id) in [("Patient", "pa"), ("Location", "paris")] {
            store
                .write(|c| index::clear(c, ty, id))
                .map_err(|e: StorageError| e)
                .unwrap();
        }
        for (url, _) in queries {
            let reply = get(&app, url, &token).await;
            assert!(found(reply.json()).is_empty(), "{url}: cleared");
        }
        reindex::reindex(&t.services, &|_, _| {}).unwrap();
        for (url, expected) in queries {
            let reply = get(&app, url, &token).await;
            assert_eq!(found(reply.json()), [expected], "{url}: rebuilt");
        }
    })
    .await;
}
