//! Every pattern's library copies alone: exactly the files and the `[dependencies]` its
//! chapter lists (`workspace_tests::copy`) are written into fresh crates outside the
//! workspace, and `cargo check` compiles each one by itself, so that no feature another
//! crate turns on can hide a missing one. The copies' build cache stays in
//! `target/copy-check`, apart from the workspace's, whose lock the running tests hold.

use std::path::Path;
use std::process::Command;

use external_tools::mdbook::Language;
use workspace_tests::copy::{self, Library};
use workspace_tests::{patterns, workspace_root};

/// Every pattern's library, and the catalogue crates they use, each once.
fn libraries(root: &Path) -> (Vec<Library>, Vec<Library>) {
    let mut wanted: Vec<Library> = patterns()
        .unwrap()
        .iter()
        .map(|p| copy::library(root, &p.dir).unwrap())
        .collect();
    let mut all = wanted.clone();
    let mut i = 0;
    while i < all.len() {
        for local in all[i].local.clone() {
            if !all.iter().any(|l| l.name == local.name) {
                all.push(copy::library(root, &local.dir).unwrap());
            }
        }
        i += 1;
    }
    wanted.sort_by(|a, b| a.name.cmp(&b.name));
    (wanted, all)
}

#[test]
fn every_library_compiles_alone_from_what_its_chapter_lists() {
    let root = workspace_root();
    let (patterns, all) = libraries(&root);
    let place = tempfile::tempdir().unwrap();
    for library in &all {
        copy::write_crate(library, &place.path().join(&library.name)).unwrap();
    }
    let members: Vec<String> = all.iter().map(|l| format!("\"{}\"", l.name)).collect();
    std::fs::write(
        place.path().join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    // The workspace's lock file: the copies get the versions the catalogue is tested with.
    std::fs::copy(root.join("Cargo.lock"), place.path().join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut failures = Vec::new();
    for library in &patterns {
        let output = Command::new(&cargo)
            .args([
                "check",
                "--offline",
                "--lib",
                "--quiet",
                "-p",
                &library.name,
            ])
            .current_dir(place.path())
            .env("CARGO_TARGET_DIR", root.join("target/copy-check"))
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        if output.status.success() {
            println!("{}: compiles alone", library.name);
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failures.push(format!("{}:\n{}", library.name, tail.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Each chapter's copy section, English and Japanese, is the one generated from its crate,
/// fresh.
#[test]
fn every_copy_section_is_fresh() {
    let root = workspace_root();
    let (patterns, _) = libraries(&root);
    let mut stale = Vec::new();
    for library in &patterns {
        for language in Language::ALL {
            let path = root
                .join(copy::SECTIONS)
                .join(language.folder())
                .join(format!("{}.md", library.name));
            let want = copy::section(&root, library, language);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale, rewrite with `cargo run -p workspace-tests --bin readmes`: {stale:?}"
    );
}

/// A dependency only the demo uses stays out of the list, and a missing one fails the check.
#[test]
fn the_list_leaves_out_what_only_the_demo_uses() {
    let root = workspace_root();
    let queue = copy::library(&root, &root.join("patterns/queue")).unwrap();
    let names: Vec<&str> = queue.dependencies.iter().map(|(n, _)| n.as_str()).collect();
    assert!(!names.contains(&"clap"), "{names:?}");
    assert!(names.contains(&"tokio"), "{names:?}");
    assert!(!queue.files.iter().any(|f| f.ends_with("main.rs")));
    let database = copy::library(&root, &root.join("patterns/database")).unwrap();
    let folders: Vec<String> = database
        .folders
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    assert_eq!(
        folders,
        [".sqlx", "migrations/postgres", "migrations/sqlite"]
    );
}
