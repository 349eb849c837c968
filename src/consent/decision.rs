//! What the policy decision point answers (DMP-RULES.md §4–§6, §8): an `Effect`, the
//! `Reason`s that decided — each a stable `RuleId` and, when a Consent decided, the
//! provision that did — and the `Obligation`s the caller must fulfil. Deny overrides,
//! default deny, and an evaluation error denies (`policy.error`).

/// Permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Permit,
    Deny,
}

/// The stable id of a rule of DMP-RULES.md (or of the engine itself). The strings of
/// `as_str` are part of Carnet's interface: audit records and `$explain`-style operations
/// carry them; docs/consent.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    /// A system client acts outside patient consent, governed by its scopes (§3).
    SystemOutsideConsent,
    /// Directory data (outside every patient compartment) is readable by anyone (§4).
    DirectoryRead,
    /// Directory data is written by system clients only (§4).
    DirectoryWriteSystemOnly,
    /// There is no record for this patient (§4).
    RecordNone,
    /// The record is closed or destroyed (§4.1, §7).
    RecordClosed,
    /// The patient, or their legal representative, on their own record (§3, §4).
    RecordOwn,
    /// A patient or representative asking about another patient's record.
    RecordOtherPatient,
    /// A professional looking a patient up by exact INS learns that the record exists:
    /// identity only, nothing else of the record without access (§4).
    RecordIdentityLookup,
    /// A parental representative (CUR) of a patient who has come of age: their access
    /// ended (§7).
    RepresentativeMajority,
    /// A subject Carnet cannot place (e.g. a RelatedPerson who is not a legal representative).
    SubjectUnrecognised,
    /// Administrative staff, payers, occupational medicine: never medical data (§3).
    SubjectAdministrative,
    /// A professional whose profession is not in the access matrix (§3, §5).
    SubjectUnknownProfession,
    /// A deny provision of the patient blocks this professional; wins over everything (§4.2).
    RecordBlocked,
    /// The patient opposed break-glass (a deny provision with purpose BTG/ETREAT) (§4.3).
    RecordBreakGlassOpposed,
    /// The professional is the declared médecin traitant (§4.3).
    RecordGeneralPractitioner,
    /// An active Consent permit provision names the professional or their organization (§4.3).
    RecordConsentPermit,
    /// Emergency access (ETREAT/BTG) the patient did not oppose (§4.3).
    RecordBreakGlass,
    /// A deny provision scoped to some resources (class, code, label, data, period) (§4).
    ResourceConsentDeny,
    /// The access matrix (profession x document class/type) (§5).
    ResourceMatrix,
    /// `MASQUE_PS` hides the resource from professionals (§5).
    ResourceMasquePs,
    /// `MASQUE_PS` does not hide a resource from its author (§5).
    ResourceMasquePsAuthorExemption,
    /// `MASQUE_PS` does not hide a resource from the médecin traitant (§5).
    ResourceMasquePsGeneralPractitionerExemption,
    /// R/V confidentiality is not visible under break-glass alone (§5).
    ResourceConfidentialityBreakGlass,
    /// `INVISIBLE_PATIENT` hides the resource from the patient and representative (§5).
    ResourceInvisiblePatient,
    /// `INVISIBLE_PATIENT` expired: the resource is visible again, audited (§5).
    ResourceInvisiblePatientExpired,
    /// `INVISIBLE_REPRESENTANTS_LEGAUX` hides the resource from the representative (§5).
    ResourceInvisibleRepresentatives,
    /// A professional with record access writes in the record (§6).
    WriteProfessional,
    /// The patient or representative enters patient-entered data (§6).
    WritePatientEntered,
    /// The patient or representative may not create this kind of data (§6).
    WriteNotPatientEntered,
    /// Update/delete by the author (§6).
    WriteAuthor,
    /// Update/delete by anyone else than the author (§6).
    WriteAuthorOnly,
    /// `MASQUE_PS` is set or removed by the patient or representative only (§6).
    LabelMasquePs,
    /// `INVISIBLE_PATIENT`/`INVISIBLE_REPRESENTANTS_LEGAUX` and other labels: the author
    /// professional only (§6).
    LabelAuthorProfessional,
    /// Consent changes: the patient, the representative, the médecin traitant (§6).
    ConsentChange,
    /// Close or reactivate the record: the patient or representative (§6, §7).
    RecordLifecycle,
    /// A Binary no DocumentReference points to (nor its `securityContext`): inert, may be
    /// created (before the DocumentReference of a transaction), read and changed by system
    /// clients only (§5: a Binary inherits the decision of its DocumentReference).
    BinaryUnlinked,
    /// Nothing permitted the request.
    DefaultDeny,
    /// The engine could not evaluate the request: it fails closed.
    PolicyError,
}

impl RuleId {
    /// The stable string id, e.g. `dmp.record.blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SystemOutsideConsent => "system.outside-consent",
            Self::DirectoryRead => "dmp.directory.read",
            Self::DirectoryWriteSystemOnly => "dmp.directory.write-system-only",
            Self::RecordNone => "dmp.record.none",
            Self::RecordClosed => "dmp.record.closed",
            Self::RecordOwn => "dmp.record.own",
            Self::RecordOtherPatient => "dmp.record.other-patient",
            Self::RecordIdentityLookup => "dmp.record.identity-lookup",
            Self::RepresentativeMajority => "dmp.representative.majority",
            Self::SubjectUnrecognised => "dmp.subject.unrecognised",
            Self::SubjectAdministrative => "dmp.subject.administrative",
            Self::SubjectUnknownProfession => "dmp.subject.unknown-profession",
            Self::RecordBlocked => "dmp.record.blocked",
            Self::RecordBreakGlassOpposed => "dmp.record.break-glass-opposed",
            Self::RecordGeneralPractitioner => "dmp.record.general-practitioner",
            Self::RecordConsentPermit => "dmp.record.consent-permit",
            Self::RecordBreakGlass => "dmp.record.break-glass",
            Self::ResourceConsentDeny => "dmp.resource.consent-deny",
            Self::ResourceMatrix => "dmp.resource.matrix",
            Self::ResourceMasquePs => "dmp.resource.masque-ps",
            Self::ResourceMasquePsAuthorExemption => "dmp.resource.masque-ps.author-exemption",
            Self::ResourceMasquePsGeneralPractitionerExemption => {
                "dmp.resource.masque-ps.general-practitioner-exemption"
            }
            Self::ResourceConfidentialityBreakGlass => "dmp.resource.confidentiality-btg",
            Self::ResourceInvisiblePatient => "dmp.resource.invisible-patient",
            Self::ResourceInvisiblePatientExpired => "dmp.resource.invisible-patient.expired",
            Self::ResourceInvisibleRepresentatives => "dmp.resource.invisible-representatives",
            Self::WriteProfessional => "dmp.write.professional",
            Self::WritePatientEntered => "dmp.write.patient-entered",
            Self::WriteNotPatientEntered => "dmp.write.not-patient-entered",
            Self::WriteAuthor => "dmp.write.author",
            Self::WriteAuthorOnly => "dmp.write.author-only",
            Self::LabelMasquePs => "dmp.label.masque-ps",
            Self::LabelAuthorProfessional => "dmp.label.author-professional",
            Self::ConsentChange => "dmp.consent.change",
            Self::RecordLifecycle => "dmp.record.lifecycle",
            Self::BinaryUnlinked => "dmp.binary.unlinked",
            Self::DefaultDeny => "consent.default-deny",
            Self::PolicyError => "policy.error",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub rule: RuleId,
    /// The Consent provision that decided, as `Consent/{id}#provision.provision[1]`
    /// (`Consent#…` when the Consent has no id), when one did.
    pub consent: Option<String>,
    /// One lowercase sentence for people (audit, explanations); never shown to a client
    /// that may not know the record.
    pub text: String,
}

impl Reason {
    /// A reason of a rule, without a Consent.
    pub fn new(rule: RuleId, text: impl Into<String>) -> Self {
        Self {
            rule,
            consent: None,
            text: text.into(),
        }
    }

    /// A reason of a rule decided by a Consent provision.
    pub fn by_consent(rule: RuleId, provision: &str, text: impl Into<String>) -> Self {
        Self {
            rule,
            consent: Some(provision.to_owned()),
            text: text.into(),
        }
    }
}

/// What the caller must do when it acts on a permit (§5, §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obligation {
    /// Break-glass was the basis of access: audit with purpose BTG and notify the patient.
    BreakGlass,
    /// An `INVISIBLE_PATIENT` label expired (it was set at `set_at_millis`): the resource is
    /// visible to the patient now; record it once in an AuditEvent.
    InvisibilityExpired { set_at_millis: i64 },
}

/// The answer of the policy decision point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub effect: Effect,
    /// For a permit, what permitted (bases and exemptions used); for a deny, what denied.
    /// Never empty.
    pub reasons: Vec<Reason>,
    /// Empty for a deny.
    pub obligations: Vec<Obligation>,
}

impl Decision {
    /// A permit with its reasons and no obligation.
    pub fn permit(reasons: Vec<Reason>) -> Self {
        Self {
            effect: Effect::Permit,
            reasons,
            obligations: Vec::new(),
        }
    }

    /// A deny for one reason.
    pub fn deny(reason: Reason) -> Self {
        Self::deny_all(vec![reason])
    }

    /// A deny for these reasons.
    pub fn deny_all(reasons: Vec<Reason>) -> Self {
        Self {
            effect: Effect::Deny,
            reasons,
            obligations: Vec::new(),
        }
    }

    /// The fail-closed answer to an evaluation error.
    pub fn error(text: impl Into<String>) -> Self {
        Self::deny(Reason::new(RuleId::PolicyError, text))
    }

    /// Whether the effect is `Permit`.
    pub fn is_permit(&self) -> bool {
        self.effect == Effect::Permit
    }

    /// Whether break-glass was the basis of access (audited with purpose BTG, notified).
    pub fn is_break_glass(&self) -> bool {
        self.obligations
            .iter()
            .any(|o| matches!(o, Obligation::BreakGlass))
    }

    /// Both decisions must permit (deny overrides): e.g. a `PUT` that also changes labels is
    /// `decide(Update)` combined with `decide(ChangeLabels)`. Reasons and obligations of a
    /// permit are merged; a deny keeps only the deny reasons.
    pub fn and(self, other: Decision) -> Decision {
        match (self.effect, other.effect) {
            (Effect::Permit, Effect::Permit) => {
                let mut merged = self;
                merged.reasons.extend(other.reasons);
                for obligation in other.obligations {
                    if !merged.obligations.contains(&obligation) {
                        merged.obligations.push(obligation);
                    }
                }
                merged
            }
            (Effect::Deny, Effect::Deny) => {
                let mut merged = self;
                merged.reasons.extend(other.reasons);
                merged
            }
            (Effect::Deny, Effect::Permit) => self,
            (Effect::Permit, Effect::Deny) => other,
        }
    }

    /// Whether a reason of this decision has `rule`.
    pub fn has_rule(&self, rule: RuleId) -> bool {
        self.reasons.iter().any(|r| r.rule == rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_overrides_when_combining() {
        let permit = Decision::permit(vec![Reason::new(RuleId::WriteAuthor, "author")]);
        let deny = Decision::deny(Reason::new(RuleId::LabelMasquePs, "no"));
        assert_eq!(permit.clone().and(deny.clone()), deny);
        assert_eq!(deny.clone().and(permit.clone()), deny);
        let both = permit.clone().and(permit);
        assert!(both.is_permit());
        assert_eq!(both.reasons.len(), 2);
    }

    #[test]
    fn rule_ids_are_unique_strings() {
        let all = [
            RuleId::SystemOutsideConsent,
            RuleId::DirectoryRead,
            RuleId::DirectoryWriteSystemOnly,
            RuleId::RecordNone,
            RuleId::RecordClosed,
            RuleId::RecordOwn,
            RuleId::RecordOtherPatient,
            RuleId::RecordIdentityLookup,
            RuleId::RepresentativeMajority,
            RuleId::SubjectUnrecognised,
            RuleId::SubjectAdministrative,
            RuleId::SubjectUnknownProfession,
            RuleId::RecordBlocked,
            RuleId::RecordBreakGlassOpposed,
            RuleId::RecordGeneralPractitioner,
            RuleId::RecordConsentPermit,
            RuleId::RecordBreakGlass,
            RuleId::ResourceConsentDeny,
            RuleId::ResourceMatrix,
            RuleId::ResourceMasquePs,
            RuleId::ResourceMasquePsAuthorExemption,
            RuleId::ResourceMasquePsGeneralPractitionerExemption,
            RuleId::ResourceConfidentialityBreakGlass,
            RuleId::ResourceInvisiblePatient,
            RuleId::ResourceInvisiblePatientExpired,
            RuleId::ResourceInvisibleRepresentatives,
            RuleId::WriteProfessional,
            RuleId::WritePatientEntered,
            RuleId::WriteNotPatientEntered,
            RuleId::WriteAuthor,
            RuleId::WriteAuthorOnly,
            RuleId::LabelMasquePs,
            RuleId::LabelAuthorProfessional,
            RuleId::ConsentChange,
            RuleId::RecordLifecycle,
            RuleId::DefaultDeny,
            RuleId::PolicyError,
        ];
        let mut strings: Vec<&str> = all.iter().map(|r| r.as_str()).collect();
        strings.sort_unstable();
        strings.dedup();
        assert_eq!(strings.len(), all.len());
    }
}
