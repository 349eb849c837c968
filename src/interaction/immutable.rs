//! The audit trail is append-only through the API (DMP-RULES.md §8): an AuditEvent is
//! never updated, patched or deleted, by anyone, whatever their scopes (even
//! `system/*.cruds`), in plain, conditional, batch and transaction forms alike: 405, the
//! interaction does not exist for that type. Creating one is reserved to system clients
//! (whose scopes must still allow `AuditEvent` create): Carnet's own audit services, and
//! a system feeding audit from elsewhere; anyone else is refused with 403, since the
//! interaction exists but not for them. Called by the two places every stored change goes
//! through (`write::save`, `write::save_deletion`) and by `delete` before it looks for the
//! resource.

use super::error::InteractionError;
use crate::auth::{Principal, Subject};
use crate::storage::versions::WriteMethod;

/// The resource types whose instances never change once written.
const APPEND_ONLY: [&str; 1] = ["AuditEvent"];

/// Refuses `method` on `res_type` when it would change an append-only resource (`exists`:
/// there is a version already) or when `principal` may not add one.
pub(super) fn check(
    principal: &Principal,
    res_type: &str,
    method: WriteMethod,
    exists: bool,
) -> Result<(), InteractionError> {
    if !APPEND_ONLY.contains(&res_type) {
        return Ok(());
    }
    if exists || method != WriteMethod::Create {
        return Err(InteractionError::MethodNotAllowed(format!(
            "`{res_type}` resources cannot be changed or deleted: the audit trail is append-only"
        )));
    }
    match principal.subject {
        Subject::System(_) => Ok(()),
        _ => Err(InteractionError::Forbidden(format!(
            "only system clients may create `{res_type}` resources"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PurposeOfUse;
    use crate::error::{Categorized, ErrorCategory};

    fn principal(subject: Subject) -> Principal {
        Principal {
            subject,
            issuer: "test".into(),
            token_id: None,
            scopes: vec!["system/*.cruds".into()],
            purposes: vec![PurposeOfUse::Treat],
            profession: None,
            organization: None,
            patient: None,
            expires_at: 0,
        }
    }

    fn category(result: Result<(), InteractionError>) -> Option<ErrorCategory> {
        result.err().map(|e| e.category())
    }

    #[test]
    fn audit_events_are_append_only_for_everyone() {
        let subjects = [
            Subject::System("feed".into()),
            Subject::Practitioner("p".into()),
            Subject::Patient("p".into()),
            Subject::RelatedPerson("r".into()),
        ];
        for subject in subjects {
            let principal = principal(subject);
            for method in [WriteMethod::Update, WriteMethod::Patch, WriteMethod::Delete] {
                for exists in [true, false] {
                    assert_eq!(
                        category(check(&principal, "AuditEvent", method, exists)),
                        Some(ErrorCategory::MethodNotAllowed)
                    );
                }
            }
            // An update-as-create over an existing id is an update.
            assert_eq!(
                category(check(&principal, "AuditEvent", WriteMethod::Create, true)),
                Some(ErrorCategory::MethodNotAllowed)
            );
            // Other types are not concerned.
            assert!(check(&principal, "Observation", WriteMethod::Delete, true).is_ok());
        }
    }

    #[test]
    fn only_system_clients_create_audit_events() {
        let system = principal(Subject::System("feed".into()));
        assert!(check(&system, "AuditEvent", WriteMethod::Create, false).is_ok());
        for subject in [
            Subject::Practitioner("p".into()),
            Subject::Patient("p".into()),
            Subject::RelatedPerson("r".into()),
        ] {
            assert_eq!(
                category(check(
                    &principal(subject),
                    "AuditEvent",
                    WriteMethod::Create,
                    false
                )),
                Some(ErrorCategory::Forbidden)
            );
        }
    }
}
