//! The demo's guide: who the subjects are (`SUBJECTS`, one token each, minted with the key
//! `carnet serve` trusts), the example requests that show the access model and what each
//! answers (`EXAMPLES`; the test suite runs them through HTTP), and the text `carnet demo`
//! prints (`render`): shell `export` lines for the tokens, then per subject what to try,
//! what to expect and the `curl` command.

use std::fmt::Write as _;

use crate::auth::{AuthError, SigningKey, Subject, TokenRequest, mint};

/// One subject of the demo, with the shell variable that holds their token.
#[derive(Debug)]
pub struct DemoSubject {
    /// The shell variable of the token (`LEA`, `DR_MARTIN`…).
    pub var: &'static str,
    /// `Patient/…`, `RelatedPerson/…` or `Practitioner/…`.
    pub reference: &'static str,
    /// The TRE_G15 profession code of a professional.
    pub profession: Option<&'static str>,
    /// v3-ActReason purposes of use of the token.
    pub purposes: &'static [&'static str],
    /// Who they are, in words.
    pub who: &'static str,
}

/// One example request and its answer.
#[derive(Debug)]
pub struct Example {
    /// The `var` of the subject who asks.
    pub subject: &'static str,
    /// What it shows.
    pub says: &'static str,
    /// The URL relative to the FHIR base (a GET).
    pub path: &'static str,
    /// The HTTP status it answers.
    pub status: u16,
    /// For a search: exactly the `Type/id` of the Bundle's entries.
    pub ids: Option<&'static [&'static str]>,
    /// For an operation answering `Parameters`: `valueCode`s the answer carries.
    pub codes: &'static [&'static str],
}

const TREAT: &[&str] = &["TREAT"];

/// The subjects, in the order they are printed.
pub const SUBJECTS: &[DemoSubject] = &[
    DemoSubject {
        var: "LEA",
        reference: "Patient/demo-lea",
        profession: None,
        purposes: TREAT,
        who: "Léa Moreau, the patient; Dr Martin is her médecin traitant",
    },
    DemoSubject {
        var: "SOPHIE",
        reference: "RelatedPerson/demo-rp-sophie",
        profession: None,
        purposes: TREAT,
        who: "Sophie Moreau, legal representative (CUR) of her son Hugo, a minor",
    },
    DemoSubject {
        var: "DR_MARTIN",
        reference: "Practitioner/demo-dr-martin",
        profession: Some("10"),
        purposes: TREAT,
        who: "Dr Claire Martin, médecin généraliste, médecin traitant of Léa and Hugo",
    },
    DemoSubject {
        var: "DR_DURAND",
        reference: "Practitioner/demo-dr-durand",
        profession: Some("10"),
        purposes: TREAT,
        who: "Dr Paul Durand, cardiologist, authorized by Léa's Consent, author of her reports",
    },
    DemoSubject {
        var: "PH_BERNARD",
        reference: "Practitioner/demo-ph-bernard",
        profession: Some("21"),
        purposes: TREAT,
        who: "Julie Bernard, pharmacist, authorized by Léa's Consent",
    },
    DemoSubject {
        var: "POD_LEROY",
        reference: "Practitioner/demo-pod-leroy",
        profession: Some("80"),
        purposes: TREAT,
        who: "Emma Leroy, pédicure-podologue, authorized by Léa's Consent",
    },
    DemoSubject {
        var: "INF_PETIT",
        reference: "Practitioner/demo-inf-petit",
        profession: Some("60"),
        purposes: TREAT,
        who: "Lucas Petit, nurse, authorized by the Consent Sophie gave for Hugo",
    },
    DemoSubject {
        var: "DR_ROUX",
        reference: "Practitioner/demo-dr-roux",
        profession: Some("10"),
        purposes: TREAT,
        who: "Dr Bernard Roux, médecin généraliste Léa blocked",
    },
    DemoSubject {
        var: "DR_LAMBERT",
        reference: "Practitioner/demo-dr-lambert",
        profession: Some("10"),
        purposes: TREAT,
        who: "Dr Nadia Lambert, emergency physician with no right to any record",
    },
    DemoSubject {
        var: "DR_LAMBERT_BTG",
        reference: "Practitioner/demo-dr-lambert",
        profession: Some("10"),
        purposes: &["BTG"],
        who: "Dr Lambert again, asking with break-glass (purpose BTG)",
    },
];

/// The examples, printed under their subject in the order of `SUBJECTS`.
pub const EXAMPLES: &[Example] = &[
    Example {
        subject: "LEA",
        says: "her documents: the consultation she masked from professionals, not the biology report hidden from her until her announcement consultation",
        path: "DocumentReference?patient=demo-lea",
        status: 200,
        ids: Some(&[
            "DocumentReference/demo-lea-consultation",
            "DocumentReference/demo-lea-hospital-report",
            "DocumentReference/demo-lea-prescription",
        ]),
        codes: &[],
    },
    Example {
        subject: "LEA",
        says: "who can see the masked consultation, and why? not her pharmacist ($explain)",
        path: "DocumentReference/demo-lea-consultation/$explain?subject=Practitioner/demo-ph-bernard",
        status: 200,
        ids: None,
        codes: &["deny", "dmp.resource.masque-ps"],
    },
    Example {
        subject: "LEA",
        says: "her audit trail: every access to her record, granted or denied, newest first",
        path: "AuditEvent?patient=Patient/demo-lea&_sort=-date",
        status: 200,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "SOPHIE",
        says: "she acts for her son Hugo",
        path: "DocumentReference?patient=demo-hugo",
        status: 200,
        ids: Some(&["DocumentReference/demo-hugo-vaccinations"]),
        codes: &[],
    },
    Example {
        subject: "SOPHIE",
        says: "and is nobody for Léa's record: 404, as if it did not exist",
        path: "Patient/demo-lea",
        status: 404,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "DR_MARTIN",
        says: "the médecin traitant sees all of Léa's documents, the masked one too",
        path: "DocumentReference?patient=demo-lea",
        status: 200,
        ids: Some(&[
            "DocumentReference/demo-lea-biology",
            "DocumentReference/demo-lea-consultation",
            "DocumentReference/demo-lea-hospital-report",
            "DocumentReference/demo-lea-prescription",
        ]),
        codes: &[],
    },
    Example {
        subject: "DR_MARTIN",
        says: "his status on Léa's record ($access)",
        path: "Patient/demo-lea/$access",
        status: 200,
        ids: None,
        codes: &["authorized", "dmp.record.general-practitioner"],
    },
    Example {
        subject: "DR_DURAND",
        says: "authorized by Léa's Consent; the masked consultation is his own, so he sees it",
        path: "DocumentReference/demo-lea-consultation",
        status: 200,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "PH_BERNARD",
        says: "the pharmacist sees Léa's documents but the masked consultation",
        path: "DocumentReference?patient=demo-lea",
        status: 200,
        ids: Some(&[
            "DocumentReference/demo-lea-biology",
            "DocumentReference/demo-lea-hospital-report",
            "DocumentReference/demo-lea-prescription",
        ]),
        codes: &[],
    },
    Example {
        subject: "PH_BERNARD",
        says: "reading the masked consultation: 404, exactly like a missing document",
        path: "DocumentReference/demo-lea-consultation",
        status: 404,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "PH_BERNARD",
        says: "the Binary attached to the hospital report follows its DocumentReference",
        path: "Binary/demo-lea-hospital-report-text",
        status: 200,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "POD_LEROY",
        says: "the access matrix: a pédicure-podologue sees no hospitalization report",
        path: "DocumentReference?patient=demo-lea",
        status: 200,
        ids: Some(&[
            "DocumentReference/demo-lea-biology",
            "DocumentReference/demo-lea-prescription",
        ]),
        codes: &[],
    },
    Example {
        subject: "POD_LEROY",
        says: "nor its attached Binary",
        path: "Binary/demo-lea-hospital-report-text",
        status: 404,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "INF_PETIT",
        says: "the nurse Sophie authorized sees Hugo's record",
        path: "DocumentReference?patient=demo-hugo",
        status: 200,
        ids: Some(&["DocumentReference/demo-hugo-vaccinations"]),
        codes: &[],
    },
    Example {
        subject: "INF_PETIT",
        says: "but has no right to Léa's ($access)",
        path: "Patient/demo-lea/$access",
        status: 200,
        ids: None,
        codes: &["not-authorized"],
    },
    Example {
        subject: "DR_ROUX",
        says: "blocked by Léa: his searches find nothing of her record",
        path: "DocumentReference?patient=demo-lea",
        status: 200,
        ids: Some(&[]),
        codes: &[],
    },
    Example {
        subject: "DR_ROUX",
        says: "and her record answers 403, saying he has no access",
        path: "Patient/demo-lea/DocumentReference",
        status: 403,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "DR_ROUX",
        says: "$access tells him so",
        path: "Patient/demo-lea/$access",
        status: 200,
        ids: None,
        codes: &["blocked", "dmp.record.blocked"],
    },
    Example {
        subject: "DR_LAMBERT",
        says: "without break-glass, Léa's record is closed to her: 403",
        path: "Patient/demo-lea/DocumentReference",
        status: 403,
        ids: None,
        codes: &[],
    },
    Example {
        subject: "DR_LAMBERT_BTG",
        says: "with break-glass she gets Léa's record but the masked consultation; audited with purpose BTG, and Léa is notified",
        path: "DocumentReference?patient=demo-lea",
        status: 200,
        ids: Some(&[
            "DocumentReference/demo-lea-biology",
            "DocumentReference/demo-lea-hospital-report",
            "DocumentReference/demo-lea-prescription",
        ]),
        codes: &[],
    },
    Example {
        subject: "DR_LAMBERT_BTG",
        says: "Marc Girard opposed break-glass: 403 even so",
        path: "Patient/demo-marc/DocumentReference",
        status: 403,
        ids: None,
        codes: &[],
    },
];

/// The SMART scopes of every demo token (consent decides the rest).
const SCOPE: &str = "user/*.cruds";

/// A token for each subject, minted at `now_unix` and valid `ttl_seconds`.
pub fn tokens(
    key: &SigningKey,
    issuer: &str,
    now_unix: i64,
    ttl_seconds: i64,
) -> Result<Vec<(&'static DemoSubject, String)>, AuthError> {
    SUBJECTS
        .iter()
        .map(|subject| {
            let reference = Subject::from_reference(subject.reference).ok_or_else(|| {
                AuthError::InvalidRequest(format!("`{}` is not a subject", subject.reference))
            })?;
            let request = TokenRequest {
                subject: reference,
                scope: SCOPE.to_owned(),
                purposes: subject.purposes.iter().map(|p| (*p).to_owned()).collect(),
                profession: subject.profession.map(str::to_owned),
                organization: None,
                patient: None,
                ttl_seconds,
            };
            Ok((subject, mint(key, issuer, &request, now_unix)?))
        })
        .collect()
}

/// The `curl` command of `example` against `base_url` (the FHIR base, without a final `/`).
pub fn curl(base_url: &str, example: &Example) -> String {
    format!(
        "curl -s -H \"Authorization: Bearer ${}\" '{base_url}/{}'",
        example.subject, example.path
    )
}

/// The text `carnet demo` prints after loading: the tokens as `export` lines, then for each
/// subject who they are and their examples (what it shows, the expected answer, the command).
pub fn render(base_url: &str, tokens: &[(&DemoSubject, String)]) -> String {
    let base_url = base_url.trim_end_matches('/');
    let mut out = String::new();
    let _ = writeln!(out, "# Tokens: paste these lines into your shell.");
    for (subject, token) in tokens {
        let _ = writeln!(out, "export {}='{token}'", subject.var);
    }
    for (subject, _) in tokens {
        let _ = writeln!(
            out,
            "\n# {} — {} ({})",
            subject.var, subject.who, subject.reference
        );
        for example in EXAMPLES.iter().filter(|e| e.subject == subject.var) {
            let _ = writeln!(out, "# {}", example.says);
            let _ = writeln!(out, "#   expect {}", expectation(example));
            let _ = writeln!(out, "{}", curl(base_url, example));
        }
    }
    out
}

/// The expected answer of `example`, in words.
fn expectation(example: &Example) -> String {
    let mut text = example.status.to_string();
    match example.ids {
        Some([]) => text.push_str(", an empty Bundle"),
        Some(ids) => {
            let _ = write!(text, ", a Bundle of exactly {}", ids.join(", "));
        }
        None => {}
    }
    if !example.codes.is_empty() {
        let _ = write!(text, ", saying {}", example.codes.join(", "));
    }
    text
}
