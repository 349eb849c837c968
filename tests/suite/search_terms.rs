//! The terminology modifiers of token search through HTTP on every backend: `:in` and
//! `:not-in` against ValueSets stored in Carnet (expansion, compose with concepts, filters
//! on a stored CodeSystem, whole systems, excludes, nested ValueSets, `ValueSet/id`),
//! `:above` and `:below` by a stored CodeSystem's hierarchy, inside `_has`, with totals and
//! paging, under a granular scope and a patient's token, and the 400s of what Carnet cannot resolve.

use actix_web::http::StatusCode;
use actix_web::test;
use serde_json::{Value, json};

use carnet::auth::Subject;

use crate::common::{assert_found, each_backend, entry_ids, get, put_all, typed_ids};

const CS: &str = "http://example.org/fhir/CodeSystem/conditions";
const LOCAL: &str = "http://example.org/fhir/CodeSystem/local";
const SNOMED: &str = "http://snomed.info/sct";
const VS: &str = "http://example.org/fhir/ValueSet/";

fn condition(id: &str, system: &str, code: &str, active: bool) -> Value {
    let status = if active { "active" } else { "resolved" };
    json!({"resourceType": "Condition", "id": id,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]},
        "subject": {"reference": format!("Patient/{}", if id == "inf" { "p1" } else { "p2" })},
        "code": {"coding": [{"system": system, "code": code}]}})
}

fn world() -> Vec<Value> {
    let value_set = |id: &str, body: Value| {
        let mut vs = json!({"resourceType": "ValueSet", "id": id, "url": format!("{VS}{id}"), "status": "active"});
        for (k, v) in body.as_object().unwrap() {
            vs[k] = v.clone();
        }
        vs
    };
    vec![
        json!({"resourceType": "Patient", "id": "p1", "gender": "female"}),
        json!({"resourceType": "Patient", "id": "p2", "gender": "male"}),
        json!({"resourceType": "CodeSystem", "id": "conditions", "url": CS, "status": "active", "content": "complete",
            "concept": [{"code": "disorder", "concept": [
                {"code": "heart", "concept": [{"code": "infarction"}, {"code": "failure"}]},
                {"code": "lung", "concept": [{"code": "asthma"}]}]},
                {"code": "angina", "property": [{"code": "parent", "valueCode": "heart"}]}]}),
        value_set(
            "heart",
            json!({"compose": {"include": [{"system": CS, "filter": [{"property": "concept", "op": "is-a", "value": "heart"}]}]}}),
        ),
        value_set(
            "expanded",
            json!({"expansion": {"timestamp": "2026-01-01T00:00:00Z", "contains": [
            {"system": SNOMED, "code": "44054006", "contains": [{"system": CS, "code": "asthma"}]}]}}),
        ),
        value_set(
            "mixed",
            json!({"compose": {
            "include": [{"system": SNOMED, "concept": [{"code": "44054006"}]}, {"system": LOCAL}],
            "exclude": [{"system": LOCAL, "concept": [{"code": "bad"}]}]}}),
        ),
        value_set(
            "nested",
            json!({"compose": {
            "include": [{"valueSet": [format!("{VS}heart")]}],
            "exclude": [{"system": CS, "concept": [{"code": "failure"}]}]}}),
        ),
        value_set(
            "genders",
            json!({"compose": {"include": [{"system": "http://hl7.org/fhir/administrative-gender", "concept": [{"code": "female"}]}]}}),
        ),
        value_set(
            "unexpandable",
            json!({"compose": {"include": [{"system": "urn:nowhere", "filter": [{"property": "concept", "op": "is-a", "value": "x"}]}]}}),
        ),
        condition("inf", CS, "infarction", true),
        condition("fail", CS, "failure", false),
        condition("angina", CS, "angina", true),
        condition("heart", CS, "heart", true),
        condition("asthma", CS, "asthma", true),
        condition("diabetes", SNOMED, "44054006", false),
        condition("local", LOCAL, "ok", true),
        condition("local-bad", LOCAL, "bad", true),
        json!({"resourceType": "Condition", "id": "none", "subject": {"reference": "Patient/p2"}}),
    ]
}

fn conditions(ids: &[&str]) -> Vec<String> {
    typed_ids("Condition", ids)
}

#[actix_rt::test]
async fn in_not_in_above_below_resolve_stored_terminology() {
    each_backend(|t| async move {
        let app = test::init_service(carnet::build_app(t.state())).await;
        let token = t.token();
        put_all(&app, &token, &world()).await;
        let heart = ["angina", "fail", "heart", "inf"];
        let cases: Vec<(String, Vec<&str>)> = vec![
            (format!("code:in={VS}heart"), heart.to_vec()),
            ("code:in=ValueSet/heart".into(), heart.to_vec()),
            (
                format!("code:not-in={VS}heart"),
                vec!["asthma", "diabetes", "local", "local-bad", "none"],
            ),
            (format!("code:in={VS}expanded"), vec!["asthma", "diabetes"]),
            (format!("code:in={VS}mixed"), vec!["diabetes", "local"]),
            (
                format!("code:in={VS}nested"),
                vec!["angina", "heart", "inf"],
            ),
            (
                format!("code:in={VS}nested,{VS}expanded"),
                vec!["angina", "asthma", "diabetes", "heart", "inf"],
            ),
            (
                format!("code:in={VS}heart&code:not-in={VS}nested"),
                vec!["fail"],
            ),
            (format!("code:below={CS}|heart"), heart.to_vec()),
            (
                format!("code:below={CS}|disorder"),
                vec!["angina", "asthma", "fail", "heart", "inf"],
            ),
            (format!("code:below={CS}|asthma"), vec!["asthma"]),
            (format!("code:above={CS}|infarction"), vec!["heart", "inf"]),
            (format!("code:above={CS}|angina"), vec!["angina", "heart"]),
            (format!("code:below={CS}|unknown-code"), vec![]),
        ];
        for (query, expected) in &cases {
            let reply = get(&app, &format!("/fhir/Condition?{query}"), &token).await;
            assert_found(&reply, &conditions(expected), query);
        }
        // A `code` element (no system in the index) matches a member by its code.
        let reply = get(
            &app,
            &format!("/fhir/Patient?gender:in={VS}genders"),
            &token,
        )
        .await;
        assert_eq!(entry_ids(&reply.json()), ["Patient/p1"]);
        // Inside a reverse chain.
        let reply = get(
            &app,
            "/fhir/Patient?_has:Condition:subject:code:in=ValueSet/nested",
            &token,
        )
        .await;
        assert_eq!(entry_ids(&reply.json()), ["Patient/p1", "Patient/p2"]);
        let reply = get(
            &app,
            &format!("/fhir/Patient?_has:Condition:subject:code:below={CS}|infarction"),
            &token,
        )
        .await;
        assert_eq!(entry_ids(&reply.json()), ["Patient/p1"]);
        // Paging: the same expansion gives the total and every page.
        let mut seen = Vec::new();
        let mut next = Some(format!("/fhir/Condition?code:in={VS}heart&_count=3"));
        while let Some(url) = next.take() {
            let url = url.replace("http://carnet.test", "");
            let bundle = get(&app, &url, &token).await.json();
            assert_eq!(bundle["total"], json!(4), "{url}");
            seen.extend(entry_ids(&bundle));
            next = bundle["link"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["relation"] == "next")
                .map(|l| l["url"].as_str().unwrap().to_owned());
        }
        seen.sort();
        assert_eq!(seen, conditions(&heart));
        // Under a granular scope the scope's filter composes with the expansion.
        let scoped = t.token_for(
            Subject::System("app".into()),
            "system/Condition.rs?clinical-status=active",
        );
        let reply = get(&app, &format!("/fhir/Condition?code:in={VS}heart"), &scoped).await;
        let bundle = reply.json();
        assert_eq!(entry_ids(&bundle), conditions(&["angina", "heart", "inf"]));
        assert_eq!(bundle["total"], json!(3));
        let reply = get(
            &app,
            &format!("/fhir/Condition?code:not-in={VS}heart"),
            &scoped,
        )
        .await;
        assert_eq!(
            entry_ids(&reply.json()),
            conditions(&["asthma", "local", "local-bad"])
        );
        // A patient's token: the expansion composes with the patient's compartment.
        let patient = t.token_for(
            Subject::Patient("p1".into()),
            "patient/Condition.rs patient/Patient.rs",
        );
        let reply = get(
            &app,
            &format!("/fhir/Condition?code:in={VS}heart"),
            &patient,
        )
        .await;
        let bundle = reply.json();
        assert_eq!(entry_ids(&bundle), conditions(&["inf"]));
        assert_eq!(bundle["total"], json!(1));
        let reply = get(
            &app,
            &format!("/fhir/Condition?code:not-in={VS}heart"),
            &patient,
        )
        .await;
        assert!(entry_ids(&reply.json()).is_empty());
        // What cannot be resolved is a 400 naming the parameter and why.
        let refused = [
            (format!("code:in={VS}unknown"), "code:in", "no ValueSet"),
            (
                "code:not-in=ValueSet/missing".into(),
                "code:not-in",
                "no ValueSet",
            ),
            (format!("code:in={VS}heart|9"), "code:in", "no ValueSet"),
            (
                format!("code:in={VS}unexpandable"),
                "code:in",
                "no CodeSystem `urn:nowhere`",
            ),
            (
                format!("code:below={SNOMED}|22298006"),
                "code:below",
                "no CodeSystem",
            ),
            ("code:above=infarction".into(), "code:above", "system|code"),
            ("code:in=not-a-url".into(), "code:in", "canonical url"),
        ];
        for (query, name, why) in refused {
            let reply = get(&app, &format!("/fhir/Condition?{query}"), &token).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
            let issues = reply.issues();
            assert!(
                issues
                    .iter()
                    .any(|(_, text)| text.contains(&format!("`{name}`")) && text.contains(why)),
                "{query}: {issues:?}"
            );
        }
    })
    .await;
}
