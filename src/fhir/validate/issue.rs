//! What the validator reports: one `ValidationIssue` per problem, with the FHIR issue type
//! code, a FHIRPath-like location and a one-sentence message. Depends only on `std`.

use std::fmt;

/// The FHIR `IssueType` codes the validator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueType {
    /// The JSON shape is wrong: unknown element, `null`, empty object or array, an array
    /// where a single value is expected (or the reverse), too many values.
    Structure,
    /// A required element is missing.
    Required,
    /// A primitive value has the wrong JSON type or format.
    Value,
    /// A code is not in the required value set.
    CodeInvalid,
    /// Anything else that breaks a FHIR rule (unknown resource type, extension rules).
    Invalid,
}

impl IssueType {
    /// The code of the FHIR `issue-type` value set.
    pub fn as_code(&self) -> &'static str {
        match self {
            IssueType::Structure => "structure",
            IssueType::Required => "required",
            IssueType::Value => "value",
            IssueType::CodeInvalid => "code-invalid",
            IssueType::Invalid => "invalid",
        }
    }
}

impl fmt::Display for IssueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_code())
    }
}

/// One problem found in a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    pub code: IssueType,
    /// Where: `Patient.name[1].given[0]`, `Bundle.entry[2].resource.birthDate`.
    pub expression: String,
    /// One lowercase sentence, user input in backticks, no line breaks.
    pub message: String,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.code, self.expression, self.message)
    }
}

/// Quote user input for a message: in backticks, cut to a readable length, with line
/// breaks and backticks replaced so the message stays one line.
pub(crate) fn quote(input: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out = String::with_capacity(input.len().min(MAX_CHARS * 4) + 2);
    out.push('`');
    for (i, c) in input.chars().enumerate() {
        if i == MAX_CHARS {
            out.push('…');
            break;
        }
        out.push(match c {
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        });
    }
    out.push('`');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_type_codes() {
        assert_eq!(IssueType::Structure.as_code(), "structure");
        assert_eq!(IssueType::Required.as_code(), "required");
        assert_eq!(IssueType::Value.as_code(), "value");
        assert_eq!(IssueType::CodeInvalid.as_code(), "code-invalid");
        assert_eq!(IssueType::Invalid.as_code(), "invalid");
    }

    #[test]
    fn quote_keeps_messages_on_one_line() {
        assert_eq!(quote("abc"), "`abc`");
        assert_eq!(quote("a\nb`c"), "`a b'c`");
        let long = "x".repeat(100);
        assert_eq!(quote(&long).chars().count(), 64 + 3);
    }
}
