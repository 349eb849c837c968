//! The module boundaries of ARCHITECTURE.md, checked: every `crate::…` path in a module's
//! files must name the module itself or one it may depend on.

use std::collections::BTreeMap;
use std::path::Path;

/// Module -> the modules it may use.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("config", &[][..]),
        ("error", &[][..]),
        ("fhir", &["error"][..]),
        ("search", &["fhir", "error"][..]),
        ("consent", &["fhir", "error", "auth"][..]),
        ("storage", &["search", "fhir", "error"][..]),
        ("audit", &["storage", "consent", "fhir", "error"][..]),
        ("auth", &["config", "error"][..]),
        (
            "interaction",
            &[
                "auth", "config", "error", "fhir", "search", "storage", "consent", "audit",
            ][..],
        ),
        (
            "rest",
            &["interaction", "auth", "config", "error", "fhir", "search"][..],
        ),
        ("import", &["interaction", "auth", "error", "fhir"][..]),
        (
            "demo",
            &["import", "interaction", "auth", "error", "fhir"][..],
        ),
        ("notify", &["storage", "config", "error"][..]),
    ])
}

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module a file belongs to: `src/rest/x.rs` and `src/rest.rs` -> `rest`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

#[test]
fn modules_only_use_what_the_architecture_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rules = allowed();
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Some(may_use) = rules.get(module.as_str()) else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("read source");
        for (number, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                let used: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !used.is_empty() && used != module && !may_use.contains(&used.as_str()) {
                    violations.push(format!(
                        "{}:{}: `{module}` uses `{used}`",
                        file.display(),
                        number + 1
                    ));
                }
                rest = after;
            }
        }
    }
    assert!(checked > 20, "the scan found too few files ({checked})");
    assert!(
        violations.is_empty(),
        "architecture violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn only_storage_uses_diesel_and_only_rest_uses_actix() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file).unwrap_or_default();
        let text = std::fs::read_to_string(file).expect("read source");
        if text.contains("diesel::") && module != "storage" {
            violations.push(format!("{} uses diesel", file.display()));
        }
        let actix_allowed = ["rest", "lib", "server", "main"];
        if text.contains("actix_web::") && !actix_allowed.contains(&module.as_str()) {
            violations.push(format!("{} uses actix-web", file.display()));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
