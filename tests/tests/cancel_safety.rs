//! Every public async fn of every pattern library and of `patterns-core` documents its
//! cancel safety in a `# Cancel safety` section, as tokio documents its own API, and the
//! crate has a `tests/cancel.rs` of drop tests. Each function is called in the crate's
//! tests (most in `cancel.rs`; a few, such as `scoped` or the database's transactions,
//! are dropped in the test file of their subject).

use std::path::{Path, PathBuf};

use workspace_tests::{rust_files, workspace_root};

/// A public async fn: where it is, and whether its doc comment has the section.
#[derive(Debug)]
struct AsyncFn {
    name: String,
    file: PathBuf,
    line: usize,
    documented: bool,
}

fn public_async_fns(file: &Path) -> Vec<AsyncFn> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("pub async fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The doc comment above it, past any attributes.
        let documented = lines[..index]
            .iter()
            .rev()
            .map(|l| l.trim_start())
            .take_while(|l| l.starts_with("///") || l.starts_with("#["))
            .any(|l| l == "/// # Cancel safety");
        found.push(AsyncFn {
            name,
            file: file.to_owned(),
            line: index + 1,
            documented,
        });
    }
    found
}

/// `patterns/*` and `crates/core`: the crates a reader copies.
fn library_crates() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("patterns"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    crates.push(root.join("crates/core"));
    crates.sort();
    crates
}

#[test]
fn every_public_async_fn_documents_its_cancel_safety_and_is_dropped_in_a_test() {
    let mut missing = Vec::new();
    let mut counted = 0;
    for krate in library_crates() {
        let fns: Vec<AsyncFn> = rust_files(&krate.join("src"))
            .iter()
            .flat_map(|f| public_async_fns(f))
            .collect();
        if fns.is_empty() {
            continue;
        }
        counted += fns.len();
        if !krate.join("tests/cancel.rs").is_file() {
            missing.push(format!("{}: no tests/cancel.rs", krate.display()));
        }
        let tests: String = rust_files(&krate.join("tests"))
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        for f in fns {
            let place = format!("{}:{} {}", f.file.display(), f.line, f.name);
            if !f.documented {
                missing.push(format!("{place}: no `# Cancel safety` section"));
            }
            let called = [format!("{}(", f.name), format!("{}::<", f.name)]
                .iter()
                .any(|call| tests.contains(call.as_str()));
            if !called {
                missing.push(format!("{place}: not called in the crate's tests"));
            }
        }
    }
    assert!(counted >= 60, "only {counted} public async fns found");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
