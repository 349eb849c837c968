//! The consent operations: `GET [base]/Patient/{id}/$access`, a professional's status on a
//! record (DMP-RULES.md §4: no record, authorized, not authorized, blocked, closed), and
//! `GET [base]/[type]/[id]/$explain[?subject=…&purpose=…]`, the decision on one resource
//! and its reasons (rule ids, Consent provisions), for the caller or, asked by the patient
//! (or their representative, or a system client), for another subject. Neither reveals
//! anything the caller may not see: the resource explained must be readable by the
//! caller. Both are audited.

use crate::audit::AccessAction;
use crate::auth::{Principal, PurposeOfUse, Subject};
use crate::consent::{Action, Decision, Reason, RecordAccess};
use crate::interaction::access::{self, Gate};
use crate::interaction::context::{RequestContext, Services};
use crate::interaction::error::InteractionError;
use crate::interaction::stored::StoredResource;
use crate::interaction::target;
use crate::storage::{StorageError, versions};

/// A record status and why.
#[derive(Debug, Clone)]
pub struct AccessStatus {
    /// `no-record`, `authorized`, `not-authorized`, `blocked` or `closed`.
    pub status: &'static str,
    pub reasons: Vec<Reason>,
}

/// The caller's status on `Patient/{patient}`'s record.
pub fn access_status(
    services: &Services,
    context: &RequestContext,
    patient: &str,
) -> Result<AccessStatus, InteractionError> {
    let patient = target::resource_id(patient)?;
    services.store.read(|conn| {
        let mut gate = Gate::open(conn, services, context)?;
        let (status, reasons) = match gate.record_access(conn, patient.as_str())? {
            RecordAccess::NoRecord => ("no-record", Vec::new()),
            RecordAccess::Authorized(reasons) => ("authorized", reasons),
            RecordAccess::NotAuthorized(reasons) => ("not-authorized", reasons),
            RecordAccess::Blocked(reasons) => ("blocked", reasons),
            RecordAccess::Closed => ("closed", Vec::new()),
        };
        let decision = if status == "authorized" {
            Decision::permit(reasons.clone())
        } else {
            Decision::deny_all(reasons.clone())
        };
        gate.audit(
            AccessAction::Operation("access".to_owned()),
            &decision,
            &[patient.as_str().to_owned()],
            vec![format!("Patient/{patient}")],
            None,
        );
        Ok(AccessStatus { status, reasons })
    })
}

/// An explained decision.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The subject the decision is about (`Practitioner/1`, or the caller).
    pub subject: String,
    pub decision: Decision,
}

/// The decision on reading `type/id` for `subject` (a FHIR reference; the caller when
/// `None`) with `purposes` (v3-ActReason codes; TREAT when none).
pub fn explain(
    services: &Services,
    context: &RequestContext,
    type_name: &str,
    id: &str,
    subject: Option<&str>,
    purposes: &[String],
) -> Result<Explanation, InteractionError> {
    let res_type = target::resource_type(services, type_name)?;
    let id = target::resource_id(id)?;
    services.store.read(|conn| {
        let row = versions::current(conn, res_type.as_str(), id.as_str())?
            .filter(|row| !row.is_deleted)
            .ok_or_else(|| access::hidden(res_type.as_str(), id.as_str()))?;
        let resource = StoredResource::from_current(row).ok_or_else(|| {
            StorageError::Corrupt(format!("live resource `{res_type}/{id}` has no content"))
        })?;
        // The caller must see the resource itself.
        let resource = access::readable_in(conn, services, context, resource, true)?;
        let value: serde_json::Value = serde_json::from_str(&resource.json)
            .map_err(|e| StorageError::Corrupt(format!("{res_type}/{id}: {e}")))?;
        let caller_gate = Gate::open(conn, services, context)?;
        let patients = caller_gate.patients_of(res_type.as_str(), id.as_str(), &value);
        let principal = match subject {
            None => context.principal.clone(),
            Some(reference) => {
                let allowed = matches!(context.principal.subject, Subject::System(_))
                    || patients.iter().any(|p| caller_gate.is_patient_side_of(p));
                if !allowed {
                    return Err(InteractionError::Forbidden(
                        "only the patient, their legal representative or a system client may ask about another subject".to_owned(),
                    ));
                }
                other_subject(context, reference, purposes)?
            }
        };
        let mut gate = Gate::open_for(conn, services, context, &principal)?;
        let verdict = gate.decide(conn, &Action::Read, res_type.as_str(), id.as_str(), &value, true)?;
        caller_gate.audit(
            AccessAction::Operation("explain".to_owned()),
            &Decision::permit(Vec::new()),
            &patients,
            vec![format!("{res_type}/{id}")],
            subject.map(|s| format!("subject={s}")),
        );
        Ok(Explanation {
            subject: principal
                .subject
                .reference()
                .unwrap_or_else(|| principal.subject.id().to_owned()),
            decision: verdict.decision,
        })
    })
}

/// The principal of the subject asked about: their stored facts are looked up as for a
/// request of theirs (profession from the stored Practitioner).
fn other_subject(
    context: &RequestContext,
    reference: &str,
    purposes: &[String],
) -> Result<Principal, InteractionError> {
    let subject = Subject::from_reference(reference).ok_or_else(|| {
        InteractionError::invalid(format!(
            "parameter `subject` must be Practitioner/ID, Patient/ID or RelatedPerson/ID, not `{reference}`"
        ))
    })?;
    let mut purposes: Vec<PurposeOfUse> = purposes
        .iter()
        .map(|p| PurposeOfUse::from_code(p))
        .collect();
    if purposes.is_empty() {
        purposes.push(PurposeOfUse::Treat);
    }
    Ok(Principal {
        patient: match &subject {
            Subject::Patient(id) => Some(id.clone()),
            _ => None,
        },
        subject,
        issuer: "explanation".to_owned(),
        token_id: None,
        scopes: Vec::new(),
        purposes,
        profession: None,
        organization: None,
        expires_at: context.now_millis / 1000,
    })
}

impl AccessStatus {
    /// The answer of `$access`: `Parameters` with `status` and a `reason` per reason.
    pub fn to_parameters(&self) -> serde_json::Value {
        let mut parameter = vec![serde_json::json!({"name": "status", "valueCode": self.status})];
        parameter.extend(self.reasons.iter().map(reason_parameter));
        serde_json::json!({"resourceType": "Parameters", "parameter": parameter})
    }
}

impl Explanation {
    /// The answer of `$explain`: `Parameters` with `subject`, `decision` (`permit` or
    /// `deny`) and a `reason` per reason.
    pub fn to_parameters(&self) -> serde_json::Value {
        let decision = if self.decision.is_permit() {
            "permit"
        } else {
            "deny"
        };
        let mut parameter = vec![
            serde_json::json!({"name": "subject", "valueString": self.subject}),
            serde_json::json!({"name": "decision", "valueCode": decision}),
        ];
        parameter.extend(self.decision.reasons.iter().map(reason_parameter));
        serde_json::json!({"resourceType": "Parameters", "parameter": parameter})
    }
}

/// A `reason` parameter: the rule id, the Consent provision when one decided, the sentence.
fn reason_parameter(reason: &Reason) -> serde_json::Value {
    let mut part = vec![
        serde_json::json!({"name": "rule", "valueCode": reason.rule.as_str()}),
        serde_json::json!({"name": "text", "valueString": reason.text}),
    ];
    if let Some(consent) = &reason.consent {
        part.push(serde_json::json!({"name": "consent", "valueString": consent}));
    }
    serde_json::json!({"name": "reason", "part": part})
}
