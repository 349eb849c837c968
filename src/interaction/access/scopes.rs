//! SMART scope enforcement (SMART App Launch 2.2, scopes and launch context): a request
//! needs a scope that covers its resource type and interaction (`c r u d s`), in a context
//! that fits the subject (`system/` for a system client, `user/` for a FHIR user,
//! `patient/` with a patient in context). `patient/` scopes restrict patient data to the
//! compartment of the token's patient; granular scopes (`?category=…`) restrict to the
//! resources matching their token parameters. The restrictions go into the SQL of
//! searches (`storage::search::AccessAlternative`) and are checked again in memory on every
//! resource returned. A type the scopes do not cover is 403; a single resource outside the
//! restrictions is answered like a missing one by the caller (404), so nothing leaks.

use serde_json::Value;

use crate::auth::{Permission, Principal, ScopeContext, SmartScope, Subject};
use crate::interaction::context::Services;
use crate::interaction::error::InteractionError;
use crate::search::compartment::patient_ids;
use crate::search::extract::{IndexEntry, extract};
use crate::search::query::{Criterion, Handling, Match, TokenValue, parse_search};
use crate::storage::search::AccessAlternative;

/// What the scopes allow on one resource type for one permission: everything, or the
/// resources matching one of the restrictions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypeGrant {
    resource_type: String,
    /// `None`: no restriction.
    restrictions: Option<Vec<Restriction>>,
}

/// One way of being allowed: in the compartment of `patient` (when set) and matching every
/// criterion.
#[derive(Debug, Clone, PartialEq)]
struct Restriction {
    patient: Option<String>,
    criteria: Vec<Criterion>,
}

/// The grant of `principal`'s scopes for `permission` on `resource_type`, or 403 when no
/// scope allows it.
pub(crate) fn require(
    services: &Services,
    principal: &Principal,
    resource_type: &str,
    permission: Permission,
) -> Result<TypeGrant, InteractionError> {
    let mut restrictions = Vec::new();
    for scope in principal.smart_scopes() {
        if !scope.covers(resource_type, permission) {
            continue;
        }
        match restriction(services, principal, &scope, resource_type) {
            Some(None) => {
                return Ok(TypeGrant {
                    resource_type: resource_type.to_owned(),
                    restrictions: None,
                });
            }
            Some(Some(restriction)) => restrictions.push(restriction),
            None => {}
        }
    }
    if restrictions.is_empty() {
        return Err(InteractionError::Forbidden(format!(
            "the access token's scopes do not allow {} of `{resource_type}` resources",
            permission.name()
        )));
    }
    Ok(TypeGrant {
        resource_type: resource_type.to_owned(),
        restrictions: Some(restrictions),
    })
}

/// What one covering scope allows: `None` nothing (wrong context, no patient in context,
/// an unusable granular query), `Some(None)` everything, else a restriction.
fn restriction(
    services: &Services,
    principal: &Principal,
    scope: &SmartScope,
    resource_type: &str,
) -> Option<Option<Restriction>> {
    let is_system = matches!(principal.subject, Subject::System(_));
    let patient = match scope.context {
        ScopeContext::System if !is_system => return None,
        ScopeContext::User if is_system => return None,
        ScopeContext::System | ScopeContext::User => None,
        ScopeContext::Patient if !in_patient_compartment(services, resource_type) => None,
        ScopeContext::Patient => Some(principal.patient.clone()?),
    };
    let criteria = if scope.query.is_empty() {
        Vec::new()
    } else {
        match granular_criteria(services, resource_type, &scope.query) {
            Ok(criteria) => criteria,
            Err(reason) => {
                log::info!(
                    "a granular scope of `{}` grants nothing on `{resource_type}`: {reason}",
                    principal.subject.id()
                );
                return None;
            }
        }
    };
    if patient.is_none() && criteria.is_empty() {
        return Some(None);
    }
    Some(Some(Restriction { patient, criteria }))
}

/// Whether resources of this type belong to patient compartments (directory data such as
/// Practitioner or Organization does not: `patient/` scopes give it unrestricted).
fn in_patient_compartment(services: &Services, resource_type: &str) -> bool {
    resource_type == "Patient"
        || !services
            .registry
            .patient_compartment_params(resource_type)
            .is_empty()
}

/// The criteria of a granular scope: token parameters of the type, without modifiers
/// (what SMART's examples use, and what can be checked on every returned version).
fn granular_criteria(
    services: &Services,
    resource_type: &str,
    query: &[(String, String)],
) -> Result<Vec<Criterion>, String> {
    let parsed = parse_search(
        &services.registry,
        Some(resource_type),
        query,
        Handling::Strict,
    )
    .map_err(|e| e.to_string())?;
    let only_tokens = parsed.criteria.iter().all(|c| {
        matches!(c, Criterion::Param(p) if matches!(p.matcher, Match::Token { not: false, .. }))
    });
    if !only_tokens || parsed.criteria.is_empty() {
        return Err("only token parameters without modifiers are supported".to_owned());
    }
    Ok(parsed.criteria)
}

impl TypeGrant {
    /// Whether the grant restricts anything.
    pub(crate) fn is_unrestricted(&self) -> bool {
        self.restrictions.is_none()
    }

    /// The restrictions as SQL alternatives for `storage::search` (`None`: unrestricted).
    pub(crate) fn alternatives(&self) -> Option<Vec<AccessAlternative>> {
        self.restrictions.as_ref().map(|restrictions| {
            restrictions
                .iter()
                .map(|r| AccessAlternative {
                    types: vec![self.resource_type.clone()],
                    patient: r.patient.clone(),
                    criteria: r.criteria.clone(),
                })
                .collect()
        })
    }

    /// Whether this resource (any version of it) is within the grant.
    pub(crate) fn permits(&self, services: &Services, id: &str, resource: &Value) -> bool {
        let Some(restrictions) = &self.restrictions else {
            return true;
        };
        let entries = extract(&services.registry, &self.resource_type, resource);
        let patients = patient_ids(&services.registry, &self.resource_type, id, &entries);
        restrictions.iter().any(|r| {
            r.patient.as_ref().is_none_or(|p| patients.contains(p))
                && r.criteria.iter().all(|c| matches_entries(c, &entries))
        })
    }

    /// `permits` on stored JSON text; unreadable JSON is not permitted (fail closed).
    pub(crate) fn permits_json(&self, services: &Services, id: &str, json: &str) -> bool {
        if self.is_unrestricted() {
            return true;
        }
        serde_json::from_str::<Value>(json).is_ok_and(|value| self.permits(services, id, &value))
    }
}

/// A token criterion (the only kind granular scopes hold) against extracted entries.
fn matches_entries(criterion: &Criterion, entries: &[IndexEntry]) -> bool {
    let Criterion::Param(param) = criterion else {
        return false;
    };
    let Match::Token { not: false, values } = &param.matcher else {
        return false;
    };
    entries.iter().any(|entry| match entry {
        IndexEntry::Token {
            param: code_of_entry,
            system,
            code,
            ..
        } if *code_of_entry == param.code => values
            .iter()
            .any(|value| token_matches(value, system.as_deref(), code)),
        _ => false,
    })
}

fn token_matches(value: &TokenValue, system: Option<&str>, code: &str) -> bool {
    let system_ok = match value.system.as_deref() {
        None => true,
        Some("") => system.is_none_or(str::is_empty),
        Some(wanted) => system == Some(wanted),
    };
    system_ok && value.code.as_deref().is_none_or(|wanted| wanted == code)
}
