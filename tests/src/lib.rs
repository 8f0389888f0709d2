//! What the workspace tests know about the catalogue: its patterns, read from
//! `patterns/*/Cargo.toml`, and where cargo put their binaries.

pub mod chapters;
pub mod copy;
pub mod docs;
pub mod i18n;
pub mod mutants;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

pub use external_tools::workspace_root;

/// One pattern crate and what its demo promises to print.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The package name, which is also the binary's name.
    pub name: String,
    /// `patterns/<dir>`.
    pub dir: PathBuf,
    /// Lines `cargo run -p <name>` must print.
    pub expect: Vec<String>,
    /// Lines its Python reference must print.
    pub python_expect: Vec<String>,
    /// Servers its Python reference needs besides the fixture (`redis`).
    pub python_needs: Vec<String>,
}

#[derive(Deserialize)]
struct Manifest {
    package: Package,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    catalogue: Option<Promises>,
}

#[derive(Deserialize, Default)]
struct Promises {
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default, rename = "python-expect")]
    python_expect: Vec<String>,
    #[serde(default, rename = "python-needs")]
    python_needs: Vec<String>,
}

/// Every pattern under `patterns/`, sorted by name.
pub fn patterns() -> anyhow::Result<Vec<Pattern>> {
    let mut patterns = Vec::new();
    for entry in std::fs::read_dir(workspace_root().join("patterns"))? {
        let dir = entry?.path();
        let manifest_path = dir.join("Cargo.toml");
        if !manifest_path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest_path)?;
        let manifest: Manifest = toml::from_str(&text)
            .with_context(|| format!("cannot parse {}", manifest_path.display()))?;
        let promises = manifest
            .package
            .metadata
            .and_then(|m| m.catalogue)
            .unwrap_or_default();
        patterns.push(Pattern {
            name: manifest.package.name,
            dir,
            expect: promises.expect,
            python_expect: promises.python_expect,
            python_needs: promises.python_needs,
        });
    }
    patterns.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(patterns)
}

/// Every `.rs` file below `dir` (none if `dir` does not exist).
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Every pattern binary, and the fixture server's.
pub fn every_binary() -> Vec<String> {
    let mut names: Vec<String> = patterns()
        .expect("patterns/ reads")
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.push("fixture-server".into());
    names
}

/// One `--flag <VALUE>` of a binary, as its `--help` shows it.
#[derive(Debug, Clone)]
pub struct Flag {
    /// `--url`.
    pub name: String,
    /// `URL`, from `--url <URL>`.
    pub value: String,
    /// What `[default: ...]` says, if anything.
    pub default: Option<String>,
}

/// The flags that take a value, read from `binary --help`.
pub fn flags(help: &str) -> Vec<Flag> {
    let mut flags: Vec<Flag> = Vec::new();
    let mut current = None; // the flag whose description is being read
    for line in help.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        // A flag's first line: `--url <URL>` or `-h, --help`, then maybe its description.
        let long = words.iter().take(2).position(|w| w.starts_with("--"));
        if let Some(at) = long.filter(|_| line.trim_start().starts_with('-')) {
            current = None;
            let value = words
                .get(at + 1)
                .and_then(|w| w.strip_prefix('<')?.strip_suffix('>'));
            if let Some(value) = value {
                flags.push(Flag {
                    name: words[at].to_owned(),
                    value: value.to_owned(),
                    default: None,
                });
                current = Some(flags.len() - 1);
            }
        }
        if let (Some(index), Some(at)) = (current, line.find("[default: ")) {
            let default = line[at + "[default: ".len()..].trim_end();
            flags[index].default = Some(default.trim_end_matches(']').to_owned());
        }
    }
    flags
}

/// Where cargo put the binary `name` of this build (beside the test's own `deps/`).
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let test_exe = std::env::current_exe()?;
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .context("the test binary is not in target/<profile>/deps")?;
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.is_file(),
        "binary `{name}` was not built at {}: run `cargo test --workspace`, which builds \
         every binary whose package has tests",
        path.display()
    );
    Ok(path)
}

/// The lines of `output` missing from the promised ones.
pub fn missing<'a>(output: &str, promised: &'a [String]) -> Vec<&'a str> {
    promised
        .iter()
        .filter(|line| !output.contains(line.as_str()))
        .map(String::as_str)
        .collect()
}
