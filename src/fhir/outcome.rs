//! OperationOutcome: the shape of every error and of validation reports.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    pub fn as_code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeIssue {
    pub severity: Severity,
    /// The FHIR `issue-type` code (`invalid`, `structure`, `not-found`, `conflict`, …).
    pub code: &'static str,
    /// Where the problem is, as a FHIRPath expression.
    pub expression: Option<String>,
    /// One lowercase sentence, user input in backticks.
    pub message: String,
}

impl OutcomeIssue {
    pub fn error(code: &'static str, message: impl Into<String>) -> OutcomeIssue {
        OutcomeIssue {
            severity: Severity::Error,
            code,
            expression: None,
            message: message.into(),
        }
    }

    pub fn information(message: impl Into<String>) -> OutcomeIssue {
        OutcomeIssue {
            severity: Severity::Information,
            code: "informational",
            expression: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, expression: impl Into<String>) -> OutcomeIssue {
        self.expression = Some(expression.into());
        self
    }
}

/// An OperationOutcome resource holding `issues` (an "all ok" information issue if empty).
pub fn operation_outcome(issues: &[OutcomeIssue]) -> Value {
    let ok = [OutcomeIssue::information("all ok")];
    let issues = if issues.is_empty() { &ok[..] } else { issues };
    let list: Vec<Value> = issues
        .iter()
        .map(|issue| {
            let mut entry = Map::new();
            entry.insert("severity".into(), Value::from(issue.severity.as_code()));
            entry.insert("code".into(), Value::from(issue.code));
            entry.insert("diagnostics".into(), Value::from(issue.message.clone()));
            if let Some(expression) = &issue.expression {
                entry.insert("expression".into(), json!([expression]));
            }
            Value::Object(entry)
        })
        .collect();
    json!({"resourceType": "OperationOutcome", "issue": list})
}
