//! `carnet import`: loads bundles and NDJSON files or folders through the same interactions
//! as the REST API (validation, versions, indexes), one file per transaction, with a
//! progress bar and a summary. A bad file is reported and skipped, never half-written.

mod files;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::{Principal, PurposeOfUse, Subject};
use crate::interaction::bundle::{EntryResult, process_bundle};
use crate::interaction::{RequestContext, Services};

pub use files::{FileError, bundle_of_file, collect_files};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub files_imported: usize,
    pub resources_written: usize,
    /// Batch entries that failed while the rest of their file went in.
    pub entries_failed: usize,
    pub failed_files: Vec<(PathBuf, String)>,
    pub seconds: f64,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = if self.seconds > 0.0 {
            self.resources_written as f64 / self.seconds
        } else {
            0.0
        };
        writeln!(
            f,
            "imported {} file(s), {} resource(s) in {:.1} s ({:.0} resources/s); {} file(s) skipped, {} batch entr(ies) failed",
            self.files_imported,
            self.resources_written,
            self.seconds,
            rate,
            self.failed_files.len(),
            self.entries_failed
        )?;
        for (path, reason) in &self.failed_files {
            writeln!(f, "  skipped {}: {reason}", path.display())?;
        }
        Ok(())
    }
}

/// The principal imports run as: the operator's own system client named `client`.
fn importer(client: &str, now_millis: i64) -> Principal {
    Principal {
        subject: Subject::System(client.to_owned()),
        issuer: "carnet-cli".to_owned(),
        token_id: None,
        scopes: vec!["system/*.cruds".to_owned()],
        purposes: vec![PurposeOfUse::Treat],
        profession: None,
        organization: None,
        patient: None,
        expires_at: now_millis / 1000 + 86_400,
    }
}

/// The context of one load by the operator's system client `client` (`carnet-import`,
/// `carnet-demo`): full system scopes, its access events coalesced (one AuditEvent per
/// action and transaction).
pub fn load_context(services: &Services, client: &str) -> RequestContext {
    let now = services.clock.now_millis();
    RequestContext::bulk(
        importer(client, now),
        format!("{client}-{}", uuid::Uuid::new_v4()),
        now,
    )
}

/// Imports every FHIR file under `paths`.
pub fn import_paths(services: &Services, paths: &[PathBuf], show_progress: bool) -> ImportSummary {
    let started = Instant::now();
    let (files, unreadable) = collect_files(paths);
    let mut summary = ImportSummary {
        failed_files: unreadable
            .into_iter()
            .map(|(p, e)| (p, e.to_string()))
            .collect(),
        ..ImportSummary::default()
    };
    let progress = if show_progress {
        ProgressBar::new(files.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed_precise} {msg}")
    {
        progress.set_style(style);
    }
    for path in &files {
        match import_file(services, path) {
            Ok((written, failed)) => {
                summary.files_imported += 1;
                summary.resources_written += written;
                summary.entries_failed += failed;
            }
            Err(reason) => summary.failed_files.push((path.clone(), reason)),
        }
        progress.set_message(format!("{} resources", summary.resources_written));
        progress.inc(1);
    }
    progress.finish_and_clear();
    if summary.resources_written > 0
        && let Err(error) = services.store.analyze()
    {
        log::warn!("the planner's statistics could not be refreshed after the import: {error}");
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}

/// Imports one file; returns (resources written, batch entries failed).
fn import_file(services: &Services, path: &Path) -> Result<(usize, usize), String> {
    let bundle = bundle_of_file(path).map_err(|e| e.to_string())?;
    import_bundle(services, &load_context(services, "carnet-import"), bundle)
}

/// Loads one transaction or batch `bundle` in `context` (see `load_context`) through the
/// same interactions as the REST API; returns (resources written, batch entries failed), or
/// the first problems of a refused bundle.
pub fn import_bundle(
    services: &Services,
    context: &RequestContext,
    bundle: serde_json::Value,
) -> Result<(usize, usize), String> {
    let outcome = process_bundle(services, context, bundle).map_err(|e| {
        let issues = e.issues();
        let detail: Vec<String> = issues
            .iter()
            .take(5)
            .map(|i| match &i.expression {
                Some(at) => format!("{} (at {at})", i.message),
                None => i.message.clone(),
            })
            .collect();
        detail.join("; ")
    })?;
    let mut written = 0;
    let mut failed = 0;
    for entry in &outcome.entries {
        match entry {
            EntryResult::Created(_) | EntryResult::Updated(_) => written += 1,
            EntryResult::Failed(_) => failed += 1,
            _ => {}
        }
    }
    Ok((written, failed))
}
