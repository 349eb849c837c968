//! What a query (search, history) showed of each patient's record, turned into its access
//! events. IHE BALP's Query pattern records **one AuditEvent per patient** whose data the
//! answer holds: each patient's event names that patient, the resources of their record the
//! answer returned and the reasons that let them through, and nothing of another patient's
//! record. A patient reading their trail (`AuditEvent?patient=…`, DMP-RULES.md §8) thus sees
//! every search that returned their data, and never learns who else it returned, nor which
//! of another record's Consents decided. Resources of no patient's record (a Practitioner,
//! an Organization) go to one event without patient; a query that showed nothing is one
//! event without patient or resource (the query itself is recorded).

use super::event::{AccessAction, AccessEvent, AccessOutcome};
use crate::consent::Reason;

/// One resource the answer holds.
struct Shown {
    /// `Type/id/_history/version`.
    resource: String,
    /// The patients whose records hold it (empty: no patient's).
    patients: Vec<String>,
    /// Why it was let through.
    reasons: Vec<Reason>,
    /// A break-glass access let it through.
    break_glass: bool,
}

/// The resources of a query's answer, in answer order, with whose records they belong to.
#[derive(Default)]
pub struct QueryTrail {
    shown: Vec<Shown>,
}

impl QueryTrail {
    /// Records that the answer holds `resource` (`Type/id/_history/version`), of the records
    /// of `patients`, let through for `reasons`.
    pub fn show(
        &mut self,
        resource: String,
        patients: Vec<String>,
        reasons: Vec<Reason>,
        break_glass: bool,
    ) {
        self.shown.push(Shown {
            resource,
            patients,
            reasons,
            break_glass,
        });
    }

    /// The granted access events of the query `query`: one per patient (in id order), then
    /// one for the resources of no patient's record; one event without patient when the
    /// answer held nothing.
    pub fn events(self, query: Option<String>) -> Vec<AccessEvent> {
        let mut patients: Vec<&str> = self
            .shown
            .iter()
            .flat_map(|shown| shown.patients.iter().map(String::as_str))
            .collect();
        patients.sort_unstable();
        patients.dedup();
        let mut events: Vec<AccessEvent> = patients
            .iter()
            .map(|patient| {
                let of_patient = self
                    .shown
                    .iter()
                    .filter(|shown| shown.patients.iter().any(|p| p == patient));
                event(Some(patient), of_patient, query.clone())
            })
            .collect();
        let unattached = self.shown.iter().filter(|shown| shown.patients.is_empty());
        if unattached.clone().next().is_some() || events.is_empty() {
            events.push(event(None, unattached, query));
        }
        events
    }
}

/// The event of `patient` (or of no patient) for the resources `shown`.
fn event<'a>(
    patient: Option<&str>,
    shown: impl Iterator<Item = &'a Shown>,
    query: Option<String>,
) -> AccessEvent {
    let mut resources = Vec::new();
    let mut reasons: Vec<Reason> = Vec::new();
    let mut break_glass = false;
    for shown in shown {
        if !resources.contains(&shown.resource) {
            resources.push(shown.resource.clone());
        }
        for reason in &shown.reasons {
            // The same rule or Consent once, whatever resource its sentence is about.
            if !reasons
                .iter()
                .any(|r| r.rule == reason.rule && r.consent == reason.consent)
            {
                reasons.push(reason.clone());
            }
        }
        break_glass |= shown.break_glass;
    }
    AccessEvent {
        action: AccessAction::Query,
        outcome: AccessOutcome::Granted,
        patients: patient.map(str::to_owned).into_iter().collect(),
        resources,
        query,
        reasons,
        break_glass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::RuleId;

    fn reason(text: &str) -> Reason {
        Reason::new(RuleId::DefaultDeny, text)
    }

    fn shown(trail: &mut QueryTrail, resource: &str, patients: &[&str], why: &str) {
        trail.show(
            resource.to_owned(),
            patients.iter().map(|p| (*p).to_owned()).collect(),
            vec![reason(why)],
            false,
        );
    }

    #[test]
    fn each_patient_gets_an_event_naming_only_their_resources_and_reasons() {
        let mut trail = QueryTrail::default();
        shown(&mut trail, "Patient/b/_history/1", &["b"], "b's consent");
        shown(&mut trail, "Patient/a/_history/2", &["a"], "a's consent");
        shown(
            &mut trail,
            "Observation/o/_history/1",
            &["a"],
            "a's consent",
        );
        let events = trail.events(Some("name=x".into()));
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].patients, ["a"]);
        assert_eq!(
            events[0].resources,
            ["Patient/a/_history/2", "Observation/o/_history/1"]
        );
        assert_eq!(events[0].reasons, [reason("a's consent")]);
        assert_eq!(events[1].patients, ["b"]);
        assert_eq!(events[1].resources, ["Patient/b/_history/1"]);
        assert_eq!(events[1].reasons, [reason("b's consent")]);
        assert!(events.iter().all(|e| e.query.as_deref() == Some("name=x")));
        assert!(
            events
                .iter()
                .all(|e| e.action == AccessAction::Query && e.outcome == AccessOutcome::Granted)
        );
    }

    #[test]
    fn a_shared_resource_is_in_the_event_of_each_of_its_patients() {
        let mut trail = QueryTrail::default();
        shown(&mut trail, "Consent/c/_history/1", &["a", "b"], "shared");
        let events = trail.events(None);
        assert_eq!(events.len(), 2);
        assert!(
            events
                .iter()
                .all(|e| e.resources == ["Consent/c/_history/1"])
        );
    }

    #[test]
    fn resources_of_no_record_go_to_one_event_without_patient() {
        let mut trail = QueryTrail::default();
        shown(&mut trail, "Practitioner/p/_history/1", &[], "directory");
        shown(&mut trail, "Patient/a/_history/1", &["a"], "a's consent");
        let events = trail.events(None);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].patients, Vec::<String>::new());
        assert_eq!(events[1].resources, ["Practitioner/p/_history/1"]);
        assert_eq!(events[1].reasons, [reason("directory")]);
    }

    #[test]
    fn an_empty_answer_is_one_event_recording_the_query() {
        let events = QueryTrail::default().events(Some("name=nobody".into()));
        assert_eq!(events.len(), 1);
        assert!(events[0].patients.is_empty() && events[0].resources.is_empty());
        assert_eq!(events[0].query.as_deref(), Some("name=nobody"));
    }

    #[test]
    fn break_glass_marks_only_the_events_of_the_records_it_opened() {
        let mut trail = QueryTrail::default();
        trail.show(
            "Patient/a/_history/1".into(),
            vec!["a".into()],
            vec![],
            true,
        );
        trail.show(
            "Patient/b/_history/1".into(),
            vec!["b".into()],
            vec![],
            false,
        );
        let events = trail.events(None);
        assert!(events[0].break_glass && !events[1].break_glass);
    }
}
