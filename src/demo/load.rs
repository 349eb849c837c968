//! Loading the demo world idempotently, as the system client `carnet-demo`: one batch of
//! reads finds what is stored already, then one transaction (`import::import_bundle`, the
//! path of `carnet import`) PUTs the resources that are missing or differ from the bundle
//! (`meta` aside). A second run writes nothing (its reads are audited like any other).

use serde_json::{Value, json};

use super::DemoError;
use crate::import::{import_bundle, load_context};
use crate::interaction::Services;
use crate::interaction::audit_trail::audited;
use crate::interaction::bundle::{EntryResult, process_bundle};

/// The demo world, bundled in the binary.
const WORLD: &str = include_str!("world.json");

/// The system client the demo loads as (named in the audit trail).
const CLIENT: &str = "carnet-demo";

/// What a load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSummary {
    /// Resources written (missing, or different from the bundle).
    pub written: usize,
    /// Resources already stored as the bundle has them.
    pub unchanged: usize,
}

/// The demo world: a transaction Bundle of `PUT Type/id` entries.
pub fn world() -> Result<Value, DemoError> {
    let bundle: Value = serde_json::from_str(WORLD).map_err(|e| DemoError::World(e.to_string()))?;
    let well_formed = bundle["entry"].as_array().is_some_and(|entries| {
        entries.iter().all(|e| {
            e["request"]["method"] == "PUT"
                && e["request"]["url"].as_str()
                    == Some(&format!(
                        "{}/{}",
                        e["resource"]["resourceType"].as_str().unwrap_or(""),
                        e["resource"]["id"].as_str().unwrap_or("")
                    ))
        })
    });
    if bundle["type"] != "transaction" || !well_formed {
        return Err(DemoError::World(
            "not a transaction of `PUT Type/id` entries".to_owned(),
        ));
    }
    Ok(bundle)
}

/// Loads the demo world into the store of `services`.
pub fn load(services: &Services) -> Result<LoadSummary, DemoError> {
    let bundle = world()?;
    let entries: Vec<Value> = bundle["entry"].as_array().cloned().unwrap_or_default();
    let reads: Vec<Value> = entries
        .iter()
        .map(|e| json!({"request": {"method": "GET", "url": e["request"]["url"]}}))
        .collect();
    let check = load_context(services, CLIENT);
    let found = audited(services, &check, || {
        process_bundle(
            services,
            &check,
            json!({"resourceType": "Bundle", "type": "batch", "entry": reads}),
        )
    })?;
    let changed: Vec<Value> = entries
        .iter()
        .zip(&found.entries)
        .filter(|(entry, stored)| !stored_as(&entry["resource"], stored))
        .map(|(entry, _)| entry.clone())
        .collect();
    let unchanged = entries.len() - changed.len();
    if changed.is_empty() {
        return Ok(LoadSummary {
            written: 0,
            unchanged,
        });
    }
    let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": changed});
    let (written, _) = import_bundle(services, &load_context(services, CLIENT), transaction)
        .map_err(DemoError::Load)?;
    Ok(LoadSummary { written, unchanged })
}

/// Whether the read `stored` is `resource` (`meta` aside).
fn stored_as(resource: &Value, stored: &EntryResult) -> bool {
    let EntryResult::Read(stored) = stored else {
        return false;
    };
    let Ok(mut stored) = serde_json::from_str::<Value>(&stored.json) else {
        return false;
    };
    let mut wanted = resource.clone();
    for value in [&mut stored, &mut wanted] {
        if let Some(object) = value.as_object_mut() {
            object.remove("meta");
        }
    }
    stored == wanted
}
