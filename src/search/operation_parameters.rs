//! The input of an operation invoked with `POST` and a `Parameters` body (FHIR R4
//! operations.html), as the name/value pairs the same operation takes in a `GET` URL:
//! `Patient/{id}/$everything` with `start`, `end`, `_since`, `_type`, `_count`. Only
//! primitive values can become URL parameters; a `resource` or `part` is refused.

use serde_json::Value;

/// The `value[x]` types whose JSON value is the text the URL form would carry.
const TEXT_VALUES: &[&str] = &[
    "valueString",
    "valueCode",
    "valueId",
    "valueUri",
    "valueUrl",
    "valueCanonical",
    "valueOid",
    "valueUuid",
    "valueMarkdown",
    "valueDate",
    "valueDateTime",
    "valueInstant",
    "valueTime",
];

/// The `value[x]` types written as JSON numbers or booleans.
const NUMBER_VALUES: &[&str] = &[
    "valueInteger",
    "valuePositiveInt",
    "valueUnsignedInt",
    "valueDecimal",
    "valueBoolean",
];

/// The `(name, value)` pairs of a `Parameters` resource, in order; `Err` says, for the
/// client, what is wrong with it.
pub fn pairs_of_parameters(body: &Value) -> Result<Vec<(String, String)>, String> {
    if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err("the body of this operation must be a `Parameters` resource".to_owned());
    }
    let Some(parameters) = body.get("parameter") else {
        return Ok(Vec::new());
    };
    let Some(parameters) = parameters.as_array() else {
        return Err("`Parameters.parameter` must be an array".to_owned());
    };
    parameters
        .iter()
        .enumerate()
        .map(|(i, parameter)| pair_of(i, parameter))
        .collect()
}

fn pair_of(i: usize, parameter: &Value) -> Result<(String, String), String> {
    let at = format!("Parameters.parameter[{i}]");
    let Some(fields) = parameter.as_object() else {
        return Err(format!("`{at}` must be an object"));
    };
    let name = match fields.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => name,
        _ => return Err(format!("`{at}` has no `name`")),
    };
    if fields.contains_key("resource") || fields.contains_key("part") {
        return Err(format!(
            "`{at}` (`{name}`) has a `resource` or `part`: this operation takes only primitive values"
        ));
    }
    let values: Vec<(&String, &Value)> = fields
        .iter()
        .filter(|(key, _)| key.starts_with("value"))
        .collect();
    let [(key, value)] = values.as_slice() else {
        return Err(format!(
            "`{at}` (`{name}`) must have exactly one `value[x]`"
        ));
    };
    let text = match value {
        Value::String(text) if TEXT_VALUES.contains(&key.as_str()) => text.clone(),
        Value::Number(number) if NUMBER_VALUES.contains(&key.as_str()) => number.to_string(),
        Value::Bool(flag) if *key == "valueBoolean" => flag.to_string(),
        _ => {
            return Err(format!(
                "`{at}.{key}` (`{name}`) is not a primitive value this operation can take"
            ));
        }
    };
    Ok((name.to_owned(), text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(body: Value) -> Result<Vec<(String, String)>, String> {
        pairs_of_parameters(&body)
    }

    #[test]
    fn primitive_values_become_url_pairs_in_order() {
        let body = json!({"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": "2024-01-01"},
            {"name": "_since", "valueInstant": "2024-01-01T00:00:00Z"},
            {"name": "_count", "valueInteger": 5},
            {"name": "_type", "valueString": "Observation,Condition"},
            {"name": "flag", "valueBoolean": true}
        ]});
        assert_eq!(
            pairs(body).unwrap(),
            vec![
                ("start".to_owned(), "2024-01-01".to_owned()),
                ("_since".to_owned(), "2024-01-01T00:00:00Z".to_owned()),
                ("_count".to_owned(), "5".to_owned()),
                ("_type".to_owned(), "Observation,Condition".to_owned()),
                ("flag".to_owned(), "true".to_owned()),
            ]
        );
        assert_eq!(
            pairs(json!({"resourceType": "Parameters"})).unwrap(),
            vec![]
        );
    }

    #[test]
    fn what_a_url_cannot_carry_is_refused_naming_the_parameter() {
        let refused = |body: Value, fragment: &str| {
            let message = pairs(body).unwrap_err();
            assert!(message.contains(fragment), "{message}");
        };
        refused(json!({"resourceType": "Patient"}), "`Parameters` resource");
        refused(
            json!({"resourceType": "Parameters", "parameter": {}}),
            "array",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [7]}),
            "parameter[0]",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [{"valueString": "x"}]}),
            "no `name`",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [
                {"name": "start", "valueDate": "2024"},
                {"name": "x", "resource": {"resourceType": "Patient"}}]}),
            "parameter[1]",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [{"name": "start"}]}),
            "exactly one",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [
                {"name": "start", "valueDate": "2024", "valueString": "2025"}]}),
            "exactly one",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [
                {"name": "start", "valueDate": 2024}]}),
            "valueDate",
        );
        refused(
            json!({"resourceType": "Parameters", "parameter": [
                {"name": "code", "valueCoding": {"code": "x"}}]}),
            "valueCoding",
        );
    }
}
