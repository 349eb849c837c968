//! How the patient's Consents apply to a professional's request (DMP-RULES.md §4, FHIR R4
//! and IHE PCF): only Consents in force and in their period count; a provision applies
//! when every element it carries matches (actor, purpose, action, period about the
//! request; class, code, securityLabel, data, dataPeriod about the resource) and an absent
//! element matches anything; within one Consent a nested applicable provision overrides
//! its parent (the deepest decides) and among applicable siblings deny wins; across
//! Consents deny wins.
//!
//! About the record as a whole (no resource at hand), a provision with resource elements
//! (or under one) is about some resources only: it may apply, so a permit of that kind
//! (or under it) still grants access to the record (to those resources), and a deny of
//! that kind does not block the record. Record access is thus never narrower than the
//! union of the resources a Consent permits.
//!
//! The same semantics twice: `evaluate` on one resource (with the provisions that decided)
//! and `compile` into `Filter`s for a search; the consistency test of `constraint.rs`
//! checks they agree.

use crate::auth::PurposeOfUse;

use super::facts::{ResourceFacts, TRE_A03};
use super::filter::Filter;
use super::policy::{ConsentPolicy, DataMeaning, Provision, ProvisionType};
use super::requester::{Professional, TRE_G15};

/// `class` system naming resource types.
const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";
/// The v3-ActReason system by OID.
const ACT_REASON_OID: &str = "urn:oid:2.16.840.1.113883.5.8";

/// A professional's request as the provisions see it.
pub(crate) struct Asking<'a> {
    pub professional: &'a Professional,
    pub purposes: &'a [PurposeOfUse],
    /// The consentaction codes the request counts as (`access`/`use` for reads,
    /// `collect`/`correct` for writes).
    pub actions: &'a [&'a str],
    pub now_millis: i64,
}

/// A provision that decided, and what kind of rule it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<'a> {
    pub provision: &'a Provision,
    /// The provision (or an ancestor) carries resource elements.
    pub scoped: bool,
    /// The provision (or an ancestor) carries purpose BTG or ETREAT: opposition to
    /// break-glass when it denies.
    pub break_glass_purpose: bool,
}

/// What the Consents say together.
#[derive(Debug, Default)]
pub(crate) struct Verdict<'a> {
    pub denies: Vec<Hit<'a>>,
    pub permits: Vec<Hit<'a>>,
}

impl Verdict<'_> {
    pub fn is_deny(&self) -> bool {
        !self.denies.is_empty()
    }

    pub fn is_permit(&self) -> bool {
        self.denies.is_empty() && !self.permits.is_empty()
    }
}

#[derive(Clone, Copy)]
struct Inherited {
    scoped: bool,
    break_glass_purpose: bool,
}

/// The verdict of the Consents in force on `resource`, or on the record when `None`.
pub(crate) fn evaluate<'a>(
    consents: &'a [ConsentPolicy],
    asking: &Asking<'_>,
    resource: Option<&ResourceFacts>,
) -> Verdict<'a> {
    let mut verdict = Verdict::default();
    for consent in consents.iter().filter(|c| c.is_in_force()) {
        let Some(root) = &consent.root else { continue };
        let start = Inherited {
            scoped: false,
            break_glass_purpose: false,
        };
        if let Some((kind, hits)) = evaluate_provision(root, start, asking, resource) {
            match kind {
                ProvisionType::Deny => verdict.denies.extend(hits),
                ProvisionType::Permit => verdict.permits.extend(hits),
            }
        }
    }
    verdict
}

fn evaluate_provision<'a>(
    provision: &'a Provision,
    inherited: Inherited,
    asking: &Asking<'_>,
    resource: Option<&ResourceFacts>,
) -> Option<(ProvisionType, Vec<Hit<'a>>)> {
    let here = Inherited {
        scoped: inherited.scoped || provision.is_resource_scoped(),
        break_glass_purpose: inherited.break_glass_purpose
            || provision
                .purposes
                .iter()
                .any(|(_, code)| code == "BTG" || code == "ETREAT"),
    };
    if !request_matches(provision, asking) {
        return None;
    }
    // About the record, a resource-scoped provision may apply (to some resources).
    if resource.is_some_and(|facts| !resource_filter(provision).matches(facts)) {
        return None;
    }
    let mut denies = Vec::new();
    let mut permits = Vec::new();
    for child in &provision.children {
        match evaluate_provision(child, here, asking, resource) {
            Some((ProvisionType::Deny, hits)) => denies.extend(hits),
            Some((ProvisionType::Permit, hits)) => permits.extend(hits),
            None => {}
        }
    }
    if !denies.is_empty() {
        return Some((ProvisionType::Deny, denies));
    }
    if !permits.is_empty() {
        return Some((ProvisionType::Permit, permits));
    }
    if resource.is_none() && here.scoped && provision.kind == ProvisionType::Deny {
        // It denies some resources only: no block of the record.
        return None;
    }
    let hit = Hit {
        provision,
        scoped: here.scoped,
        break_glass_purpose: here.break_glass_purpose,
    };
    Some((provision.kind, vec![hit]))
}

/// The Consents in force as two filters over the resources of the record: `(denied,
/// permitted)`; a resource passing `denied` is denied, one passing `permitted` (and not
/// `denied`) is permitted by a Consent. Same semantics as `evaluate` with a resource.
pub(crate) fn compile(consents: &[ConsentPolicy], asking: &Asking<'_>) -> (Filter, Filter) {
    let mut denied = Filter::Nothing;
    let mut permitted = Filter::Nothing;
    for consent in consents.iter().filter(|c| c.is_in_force()) {
        let Some(root) = &consent.root else { continue };
        let (d, p) = compile_provision(root, asking);
        denied = denied.or(d);
        permitted = permitted.or(p);
    }
    (denied, permitted)
}

fn compile_provision(provision: &Provision, asking: &Asking<'_>) -> (Filter, Filter) {
    let applies =
        Filter::from_bool(request_matches(provision, asking)).and(resource_filter(provision));
    if applies == Filter::Nothing {
        return (Filter::Nothing, Filter::Nothing);
    }
    let mut any_deny = Filter::Nothing;
    let mut any_permit = Filter::Nothing;
    for child in &provision.children {
        let (d, p) = compile_provision(child, asking);
        any_deny = any_deny.or(d);
        any_permit = any_permit.or(p);
    }
    let is_deny = provision.kind == ProvisionType::Deny;
    // deny = applies AND (a child denies OR (no child permits AND this is a deny))
    let deny = applies.clone().and(
        any_deny
            .clone()
            .or(any_permit.clone().negate().and(Filter::from_bool(is_deny))),
    );
    // permit = applies AND no child denies AND (a child permits OR this is a permit)
    let permit = applies
        .and(any_deny.negate())
        .and(any_permit.or(Filter::from_bool(!is_deny)));
    (deny, permit)
}

/// Whether the elements about the request (actor, purpose, action, period) match.
fn request_matches(provision: &Provision, asking: &Asking<'_>) -> bool {
    let in_period = provision
        .period
        .is_none_or(|(start, end)| start <= asking.now_millis && asking.now_millis <= end);
    let actor = provision.actors.is_empty()
        || provision.actors.iter().any(|actor| {
            let professional = asking.professional;
            let reference_matches = actor.reference.as_ref().is_none_or(|r| {
                *r == professional.reference() || professional.organization.as_ref() == Some(r)
            });
            let professions: Vec<&str> = actor
                .roles
                .iter()
                .filter(|(system, _)| system == TRE_G15)
                .map(|(_, code)| code.as_str())
                .collect();
            let role_matches = professions.is_empty()
                || professional
                    .profession
                    .as_deref()
                    .is_some_and(|p| professions.contains(&p));
            reference_matches && role_matches
        });
    let purpose = provision.purposes.is_empty()
        || provision.purposes.iter().any(|(system, code)| {
            asking.purposes.iter().any(|p| match p {
                PurposeOfUse::Other(other) if other.contains('|') => {
                    *other == format!("{system}|{code}")
                }
                _ => {
                    matches!(system.as_str(), "" | PurposeOfUse::SYSTEM | ACT_REASON_OID)
                        && p.code() == code
                }
            })
        });
    let action = provision.actions.is_empty()
        || provision
            .actions
            .iter()
            .any(|a| asking.actions.contains(&a.as_str()));
    in_period && actor && purpose && action
}

/// The elements about the resource (class, code, securityLabel, data, dataPeriod) as a
/// filter; `All` when the provision carries none. Within an element any value matches.
fn resource_filter(provision: &Provision) -> Filter {
    let mut filter = Filter::All;
    if !provision.classes.is_empty() {
        let mut any = Filter::Nothing;
        for (system, code) in &provision.classes {
            let code = code.clone();
            any = any.or(match system.as_str() {
                RESOURCE_TYPES => Filter::ResourceTypeIn(vec![code]),
                TRE_A03 => Filter::DocumentClassIn(vec![code]),
                "" => Filter::ResourceTypeIn(vec![code.clone()])
                    .or(Filter::DocumentClassIn(vec![code.clone()]))
                    .or(Filter::CategoryIn(vec![(None, code)])),
                _ => Filter::CategoryIn(vec![(None, code)]),
            });
        }
        filter = filter.and(any);
    }
    if !provision.codes.is_empty() {
        filter = filter.and(Filter::DocumentTypeIn(provision.codes.clone()));
    }
    if !provision.security_labels.is_empty() {
        filter = filter.and(Filter::HasLabel(provision.security_labels.clone()));
    }
    if !provision.data.is_empty() {
        let mut any = Filter::Nothing;
        for data in &provision.data {
            let reference = vec![data.reference.clone()];
            any = any.or(match data.meaning {
                DataMeaning::AuthoredBy => Filter::AuthoredBy(reference),
                DataMeaning::Instance | DataMeaning::Related | DataMeaning::Dependents => {
                    Filter::IdIn(reference)
                }
            });
        }
        filter = filter.and(any);
    }
    if let Some(span) = provision.data_period {
        filter = filter.and(Filter::DateWithin(span));
    }
    filter
}

#[cfg(test)]
#[path = "provision_tests.rs"]
mod tests;
