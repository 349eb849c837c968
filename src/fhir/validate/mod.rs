//! Strict validation of incoming FHIR R4 JSON against the official structure
//! (`crate::fhir::schema`): known resource type, no unknown elements, no `null` or empty
//! values, primitive formats, choice types, cardinality, required bindings, extensions,
//! and nested resources. Reports every problem with its location; FHIRPath invariants are
//! out of scope. Pure: no I/O, no globals. Depends only on `schema`, `serde_json` and
//! `std`.

mod binding;
mod element;
mod issue;
mod primitive;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_elements;

use serde_json::Value;

pub use issue::{IssueType, ValidationIssue};

use crate::fhir::schema::Schema;
use issue::quote;

/// Validate one resource as received; an empty result means it is valid.
pub fn validate_resource(schema: &Schema, resource: &Value) -> Vec<ValidationIssue> {
    let mut validator = Validator {
        schema,
        issues: Vec::new(),
        path: String::with_capacity(128),
        scratch: String::with_capacity(32),
    };
    validator.path.push_str("Resource");
    validator.resource(resource, true);
    validator.issues
}

/// The state of one validation: the issues so far and the current location.
struct Validator<'s> {
    schema: &'s Schema,
    issues: Vec<ValidationIssue>,
    /// FHIRPath-like location of the value being checked.
    path: String,
    /// Reused buffer for `_name` look-ups.
    scratch: String,
}

impl Validator<'_> {
    fn report(&mut self, code: IssueType, message: String) {
        self.issues.push(ValidationIssue {
            code,
            expression: self.path.clone(),
            message,
        });
    }

    fn report_at(&mut self, code: IssueType, child: &str, message: String) {
        let mark = self.push_key(child);
        self.report(code, message);
        self.path.truncate(mark);
    }

    /// Append `.key` to the location; returns the length to truncate back to.
    fn push_key(&mut self, key: &str) -> usize {
        let mark = self.path.len();
        self.path.push('.');
        self.path.push_str(key);
        mark
    }

    /// Append `[index]` to the location; returns the length to truncate back to.
    fn push_index(&mut self, index: usize) -> usize {
        let mark = self.path.len();
        let mut digits = [0u8; 20];
        let mut n = index;
        let mut start = digits.len();
        loop {
            start -= 1;
            // `n % 10` is below 10, so the cast cannot truncate.
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.path.push('[');
        for &d in &digits[start..] {
            self.path.push(char::from(d));
        }
        self.path.push(']');
        mark
    }

    /// Validate a resource at the current location (the root, `contained[i]`,
    /// `Bundle.entry[i].resource`, ...).
    fn resource(&mut self, value: &Value, root: bool) {
        let Value::Object(obj) = value else {
            self.report(
                IssueType::Structure,
                format!(
                    "a resource must be a json object, found {}",
                    json_kind(value)
                ),
            );
            return;
        };
        let name = match obj.get("resourceType") {
            None => {
                self.report_at(
                    IssueType::Required,
                    "resourceType",
                    "a resource must have a `resourceType`".to_owned(),
                );
                return;
            }
            Some(Value::String(name)) => name,
            Some(other) => {
                self.report_at(
                    IssueType::Structure,
                    "resourceType",
                    format!(
                        "`resourceType` must be a string, found {}",
                        json_kind(other)
                    ),
                );
                return;
            }
        };
        let Some(sid) = self.schema.resource(name) else {
            self.report_at(
                IssueType::Invalid,
                "resourceType",
                format!("{} is not an r4 resource type", quote(name)),
            );
            return;
        };
        if root {
            self.path.clear();
            self.path.push_str(name);
        }
        self.object(sid, obj, element::ObjectKind::Resource);
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "`null`",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
