//! `carnet import`: loads bundles and NDJSON files or folders through the same interactions
//! as the REST API (validation, versions, indexes), one file per transaction, with a
//! progress bar and a summary. A bad file is reported and skipped, never half-written.
//! Up to `FILES_IN_FLIGHT` workers read, parse and validate files at once; their writes go
//! in file order, each after the previous file's outcome is visible (`turns.rs`), so the
//! result is that of loading the files one by one. On SQLite, a file ready to write is
//! announced to the group commit, so that files in flight share commits (and fsyncs).

mod files;
mod turns;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::{Principal, PurposeOfUse, Subject};
use crate::interaction::bundle::{EntryResult, prepare_bundle, process_bundle, run_prepared};
use crate::interaction::deferred_index;
use crate::interaction::{InteractionError, RequestContext, Services};

pub use files::{FileError, bundle_of_file, collect_files};
use turns::{Turn, Turns};

/// One file's outcome: (resources written, batch entries failed), or why it was skipped.
type FileOutcome = Result<(usize, usize), String>;

/// Files in flight at once: being prepared, waiting for their turn, or written and waiting
/// for the commit they share (each holds its parsed bundle until its write). On SQLite a
/// worker waits for the commit that holds its file before it takes the next one, so the
/// workers bound how many files a commit holds: with one per core (and one more), a
/// commit held about three files, and its WAL frames (the dirty pages of the index
/// b-trees, mostly the same pages for every file) were written for each three.
const FILES_IN_FLIGHT: usize = 16;

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
    let outcomes = services.store.bulk_load(|| {
        let outcomes = import_files(services, &files, &progress);
        // The import's AuditEvents are searchable when it ends (their rows were deferred).
        if let Err(error) = deferred_index::catch_up(services) {
            log::warn!(
                "the search rows of the import's AuditEvents are left to the server: {error}"
            );
        }
        outcomes
    });
    for (path, outcome) in files.iter().zip(outcomes) {
        match outcome {
            Ok((written, failed)) => {
                summary.files_imported += 1;
                summary.resources_written += written;
                summary.entries_failed += failed;
            }
            Err(reason) => summary.failed_files.push((path.clone(), reason)),
        }
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

/// Imports `files` with a few workers (see the module's header); returns each file's
/// outcome, in the order of `files`.
fn import_files(
    services: &Services,
    files: &[PathBuf],
    progress: &ProgressBar,
) -> Vec<FileOutcome> {
    let workers = FILES_IN_FLIGHT.min(files.len());
    let next_file = AtomicUsize::new(0);
    let turns = Turns::default();
    let written = AtomicUsize::new(0);
    let mut outcomes: Vec<FileOutcome> = files
        .iter()
        .map(|_| Err("the file was not imported".to_owned()))
        .collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next_file.fetch_add(1, Ordering::SeqCst);
                        let Some(path) = files.get(index) else {
                            break;
                        };
                        let outcome = import_file(services, path, turns.of(index));
                        if let Ok((count, _)) = &outcome {
                            let total = written.fetch_add(*count, Ordering::SeqCst) + count;
                            progress.set_message(format!("{total} resources"));
                        }
                        progress.inc(1);
                        done.push((index, outcome));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            let Ok(done) = worker.join() else {
                log::error!("an import worker panicked: its files are reported as not imported");
                continue;
            };
            for (index, outcome) in done {
                outcomes[index] = outcome;
            }
        }
    });
    outcomes
}

/// Imports one file when it is `turn`'s time to write; returns (resources written, batch
/// entries failed).
fn import_file(services: &Services, path: &Path, mut turn: Turn<'_>) -> FileOutcome {
    let bundle = bundle_of_file(path).map_err(|e| e.to_string())?;
    let prepared = prepare_bundle(services, bundle).map_err(|e| problems(&e))?;
    // A transaction is one write: announced, the files before it leave their commit to it
    // (a batch's entries each write and commit on their own).
    let mut announced = prepared
        .is_transaction()
        .then(|| services.store.announce_writer());
    turn.wait();
    let context = load_context(services, "carnet-import");
    let outcome = run_prepared(services, &context, prepared, || {
        if let Some(announced) = &mut announced {
            announced.withdraw();
        }
        turn.pass();
    })
    .map_err(|e| problems(&e))?;
    Ok(counts(&outcome.entries))
}

/// Loads one transaction or batch `bundle` in `context` (see `load_context`) through the
/// same interactions as the REST API; returns (resources written, batch entries failed), or
/// the first problems of a refused bundle.
pub fn import_bundle(
    services: &Services,
    context: &RequestContext,
    bundle: serde_json::Value,
) -> Result<(usize, usize), String> {
    let outcome = process_bundle(services, context, bundle).map_err(|e| problems(&e))?;
    Ok(counts(&outcome.entries))
}

/// The first problems of a refused bundle, in one line.
fn problems(error: &InteractionError) -> String {
    let issues = error.issues();
    let detail: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| match &i.expression {
            Some(at) => format!("{} (at {at})", i.message),
            None => i.message.clone(),
        })
        .collect();
    detail.join("; ")
}

/// (resources written, batch entries failed) among `entries`.
fn counts(entries: &[EntryResult]) -> (usize, usize) {
    let mut written = 0;
    let mut failed = 0;
    for entry in entries {
        match entry {
            EntryResult::Created(_) | EntryResult::Updated(_) => written += 1,
            EntryResult::Failed(_) => failed += 1,
            _ => {}
        }
    }
    (written, failed)
}
