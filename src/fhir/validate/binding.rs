//! Required bindings: a `code` must be in the bound value set; a `Coding` (alone or in a
//! `CodeableConcept`) whose `system` is one of the value set's code systems must use one
//! of its codes. Codings of other systems are not checked. Depends on `schema` and
//! `serde_json`.

use serde_json::{Map, Value};

use super::Validator;
use super::issue::{IssueType, quote};
use crate::fhir::schema::StructId;

impl Validator<'_> {
    /// Check a `code` value at the current location against value set `vs`.
    pub(super) fn check_code(&mut self, vs: usize, code: &str) {
        let value_set = &self.schema.value_sets[vs];
        if !value_set.all_codes.contains(code) {
            self.report(
                IssueType::CodeInvalid,
                format!(
                    "{} is not a code of the required value set `{}`",
                    quote(code),
                    value_set.url
                ),
            );
        }
    }

    /// Check a `Coding` or `CodeableConcept` object at the current location.
    pub(super) fn check_codings(&mut self, sid: StructId, obj: &Map<String, Value>, vs: usize) {
        if sid == self.schema.coding {
            self.check_coding(obj, vs);
        } else if sid == self.schema.codeable_concept
            && let Some(Value::Array(codings)) = obj.get("coding")
        {
            let mark = self.push_key("coding");
            for (index, coding) in codings.iter().enumerate() {
                if let Value::Object(coding) = coding {
                    let item = self.push_index(index);
                    self.check_coding(coding, vs);
                    self.path.truncate(item);
                }
            }
            self.path.truncate(mark);
        }
    }

    fn check_coding(&mut self, obj: &Map<String, Value>, vs: usize) {
        let (Some(Value::String(system)), Some(Value::String(code))) =
            (obj.get("system"), obj.get("code"))
        else {
            return;
        };
        let value_set = &self.schema.value_sets[vs];
        if let Some(codes) = value_set.by_system.get(system.as_str())
            && !codes.contains(code.as_str())
        {
            self.report_at(
                IssueType::CodeInvalid,
                "code",
                format!(
                    "{} is not a code of system {} in the required value set `{}`",
                    quote(code),
                    quote(system),
                    value_set.url
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::super::Validator;
    use super::super::issue::IssueType;
    use super::super::tests::schema;

    fn coding_issues(json: &str) -> Vec<(IssueType, String)> {
        let schema = schema();
        let vs = schema
            .value_sets
            .iter()
            .position(|v| v.url == "http://hl7.org/fhir/ValueSet/administrative-gender")
            .expect("administrative-gender is expanded");
        let obj: Map<String, Value> = serde_json::from_str(json).expect("test json");
        let mut validator = Validator {
            schema,
            issues: Vec::new(),
            path: "X.coding".to_owned(),
            scratch: String::new(),
        };
        validator.check_codings(schema.coding, &obj, vs);
        validator
            .issues
            .into_iter()
            .map(|i| (i.code, i.expression))
            .collect()
    }

    #[test]
    fn a_coding_of_the_bound_system_must_use_its_codes() {
        let system = "http://hl7.org/fhir/administrative-gender";
        assert_eq!(
            coding_issues(&format!(r#"{{"system": "{system}", "code": "male"}}"#)),
            vec![]
        );
        assert_eq!(
            coding_issues(&format!(r#"{{"system": "{system}", "code": "man"}}"#)),
            vec![(IssueType::CodeInvalid, "X.coding.code".to_owned())]
        );
    }

    #[test]
    fn codings_of_other_systems_or_without_system_are_not_checked() {
        assert_eq!(
            coding_issues(r#"{"system": "http://example.org", "code": "man"}"#),
            vec![]
        );
        assert_eq!(coding_issues(r#"{"code": "man"}"#), vec![]);
    }
}
