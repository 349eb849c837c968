//! Notifying the patient (DMP-RULES.md §8) of the first access of a professional to their
//! record and of every break-glass access, through the outbox, in the transaction of the
//! audit. "First" means no earlier granted access by that professional to that record:
//! `storage::first_access` remembers the pairs, so the check is one insert. The message
//! goes to the patient's account contact when there is an account, else to the best
//! `sms` or `email` (or mobile phone) of `Patient.telecom`; otherwise it is logged as
//! undeliverable. Messages name the professional but carry no medical data.

use serde_json::Value;

use super::known_accesses::KnownAccesses;
use crate::audit::{AccessEvent, AccessOutcome};
use crate::auth::Subject;
use crate::interaction::context::RequestContext;
use crate::interaction::error::InteractionError;
use crate::storage::outbox::{self, NewMessage};
use crate::storage::{Conn, accounts, first_access, versions};

/// Why the patient is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    FirstAccess,
    BreakGlass,
}

/// Records the professional's accesses of `events` and queues the notifications they
/// call for: one per patient and kind within a request.
pub(super) fn notify_patients(
    conn: &mut Conn<'_>,
    context: &RequestContext,
    events: &[AccessEvent],
    known: &KnownAccesses,
    stored: &mut Vec<(String, String)>,
) -> Result<(), InteractionError> {
    let Subject::Practitioner(id) = &context.principal.subject else {
        return Ok(());
    };
    let practitioner = format!("Practitioner/{id}");
    let mut sent: Vec<(&str, Notice)> = Vec::new();
    let granted = events
        .iter()
        .filter(|event| event.outcome == AccessOutcome::Granted);
    for event in granted {
        for patient in &event.patients {
            let first = !known.contains(patient, &practitioner)
                && first_access::record(conn, patient, &practitioner, context.now_millis)?;
            stored.push((patient.clone(), practitioner.clone()));
            let notice = if event.break_glass {
                Notice::BreakGlass
            } else if first {
                Notice::FirstAccess
            } else {
                continue;
            };
            if sent.contains(&(patient.as_str(), notice)) {
                continue;
            }
            sent.push((patient.as_str(), notice));
            let who = professional_name(conn, id)?.map_or_else(
                || practitioner.clone(),
                |name| format!("{name} ({practitioner})"),
            );
            let body = message(notice, &who, context.now_millis);
            queue(conn, patient, &body, context.now_millis)?;
        }
    }
    Ok(())
}

/// Queues `body` for patient `patient_id`, or logs that nobody can be told.
fn queue(
    conn: &mut Conn<'_>,
    patient_id: &str,
    body: &str,
    now: i64,
) -> Result<(), InteractionError> {
    let contact = match accounts::account_by_subject(conn, &format!("Patient/{patient_id}"))? {
        Some(account) => Some((account.channel, account.address)),
        None => live_json(conn, "Patient", patient_id)?
            .as_ref()
            .and_then(telecom_contact),
    };
    let Some((channel, address)) = contact else {
        log::warn!(
            "an access notification for `Patient/{patient_id}` is undeliverable: no account and no sms or email in its telecom"
        );
        return Ok(());
    };
    outbox::queue(
        conn,
        &NewMessage {
            created: now,
            channel: &channel,
            address: &address,
            body,
            sent: false,
        },
    )?;
    Ok(())
}

/// The current JSON of a live resource.
fn live_json(
    conn: &mut Conn<'_>,
    res_type: &str,
    id: &str,
) -> Result<Option<Value>, InteractionError> {
    let row = versions::current(conn, res_type, id)?;
    Ok(row
        .filter(|row| !row.is_deleted)
        .and_then(|row| row.content)
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// The name of Practitioner `id`, when it is stored with one.
fn professional_name(conn: &mut Conn<'_>, id: &str) -> Result<Option<String>, InteractionError> {
    Ok(live_json(conn, "Practitioner", id)?
        .as_ref()
        .and_then(display_name))
}

/// The text of the first `name` of a resource, else its given names and family.
fn display_name(resource: &Value) -> Option<String> {
    let name = resource.get("name")?.as_array()?.first()?;
    if let Some(text) = name.get("text").and_then(Value::as_str) {
        return Some(text.to_owned()).filter(|t| !t.trim().is_empty());
    }
    let mut parts: Vec<&str> = name
        .get("given")
        .and_then(Value::as_array)
        .map(|given| given.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    parts.extend(name.get("family").and_then(Value::as_str));
    let joined = parts.join(" ");
    (!joined.trim().is_empty()).then_some(joined)
}

/// The best contact of `Patient.telecom` for a message: `sms` and `email` entries, and
/// mobile phones (as sms), not marked `old`, by `rank` (unranked last, then in order).
fn telecom_contact(patient: &Value) -> Option<(String, String)> {
    let telecom = patient.get("telecom")?.as_array()?;
    telecom
        .iter()
        .filter(|point| point.get("use").and_then(Value::as_str) != Some("old"))
        .filter_map(|point| {
            let value = point.get("value").and_then(Value::as_str)?.trim();
            let channel = match point.get("system").and_then(Value::as_str)? {
                "sms" => "sms",
                "phone" if point.get("use").and_then(Value::as_str) == Some("mobile") => "sms",
                "email" => "email",
                _ => return None,
            };
            let rank = point
                .get("rank")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            (!value.is_empty()).then(|| (rank, channel.to_owned(), value.to_owned()))
        })
        .enumerate()
        .min_by_key(|(order, (rank, _, _))| (*rank, *order))
        .map(|(_, (_, channel, address))| (channel, address))
}

/// The text sent to the patient.
fn message(notice: Notice, who: &str, now: i64) -> String {
    let when = chrono::DateTime::from_timestamp_millis(now)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    match notice {
        Notice::FirstAccess => format!(
            "Carnet: the health professional {who} opened your medical record for the first time on {when}. Your access history is in your Carnet space."
        ),
        Notice::BreakGlass => format!(
            "Carnet: the health professional {who} opened your medical record in an emergency (break-glass access) on {when}. Your access history is in your Carnet space."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_best_telecom_is_chosen() {
        let patient = json!({"telecom": [
            {"system": "phone", "value": "0140000000", "use": "home"},
            {"system": "email", "value": "old@example.org", "use": "old", "rank": 1},
            {"system": "email", "value": "a@example.org"},
            {"system": "phone", "value": "0600000000", "use": "mobile", "rank": 2},
        ]});
        assert_eq!(
            telecom_contact(&patient),
            Some(("sms".to_owned(), "0600000000".to_owned()))
        );
        let unranked = json!({"telecom": [
            {"system": "fax", "value": "0140000001"},
            {"system": "email", "value": "first@example.org"},
            {"system": "sms", "value": "0611111111"},
        ]});
        assert_eq!(
            telecom_contact(&unranked),
            Some(("email".to_owned(), "first@example.org".to_owned()))
        );
        for none in [
            json!({}),
            json!({"telecom": [{"system": "phone", "value": "0140000000"}]}),
            json!({"telecom": [{"system": "email", "value": " "}]}),
        ] {
            assert_eq!(telecom_contact(&none), None, "{none}");
        }
    }

    #[test]
    fn names_come_from_text_or_parts() {
        assert_eq!(
            display_name(&json!({"name": [{"text": "Dr Anne Durand"}]})).as_deref(),
            Some("Dr Anne Durand")
        );
        assert_eq!(
            display_name(&json!({"name": [{"given": ["Anne", "Marie"], "family": "Durand"}]}))
                .as_deref(),
            Some("Anne Marie Durand")
        );
        assert_eq!(display_name(&json!({"name": [{}]})), None);
        assert_eq!(display_name(&json!({})), None);
    }

    #[test]
    fn messages_say_who_when_and_why() {
        let first = message(Notice::FirstAccess, "Anne Durand", 1_700_000_000_123);
        assert!(first.contains("Anne Durand"), "{first}");
        assert!(
            first.contains("first time on 2023-11-14 22:13 UTC"),
            "{first}"
        );
        let btg = message(Notice::BreakGlass, "Anne Durand", 1_700_000_000_123);
        assert!(btg.contains("break-glass"), "{btg}");
    }
}
