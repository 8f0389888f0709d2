//! What an engineer copies to use a pattern's library in a service of their own: its
//! files (`src/` reached from `lib.rs`, and what the compiler reads besides, such as
//! sqlx's migrations), and the `[dependencies]` those files use, resolved from the
//! workspace's pins. Each chapter opens with this list (`docs/src/copy/<name>.md`, written
//! by `cargo run -p workspace-tests --bin readmes`), and `tests/copy.rs` proves it: it
//! copies exactly these files into fresh crates outside the workspace and checks them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use external_tools::mdbook::Language;
use toml::{Table, Value};

/// Where the chapters' copy sections live, from the workspace root.
pub const SECTIONS: &str = "docs/src/copy";

/// A crate's library, as it is copied.
#[derive(Debug, Clone)]
pub struct Library {
    /// The package name.
    pub name: String,
    /// The crate's folder in the workspace.
    pub dir: PathBuf,
    /// The library's files, relative to `dir`: `lib.rs`, every module it declares, and
    /// every file they include.
    pub files: Vec<PathBuf>,
    /// Folders the compiler reads besides the sources, relative to `dir` (`migrations/...`
    /// for `sqlx::migrate!`, `.sqlx` for the checked queries).
    pub folders: Vec<PathBuf>,
    /// Its `[dependencies]` from crates.io: each name, and its `name = value` entry.
    pub dependencies: Vec<(String, String)>,
    /// The catalogue's own crates it needs beside it (`patterns-core`, `rate-limit`).
    pub local: Vec<Local>,
}

/// A catalogue crate a library depends on: its package name and its folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Local {
    pub name: String,
    pub dir: PathBuf,
}

/// Reads the library of the crate in `dir` (a folder of the workspace at `root`).
pub fn library(root: &Path, dir: &Path) -> anyhow::Result<Library> {
    let manifest = read_toml(&dir.join("Cargo.toml"))?;
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .context("no package name")?
        .to_owned();
    let files = modules(dir)?;
    let sources: Vec<String> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .map(|f| std::fs::read_to_string(dir.join(f)).map(|text| code_only(&text)))
        .collect::<Result<_, _>>()?;
    let folders = folders_read(dir, &sources)?;
    let workspace = read_toml(&root.join("Cargo.toml"))?;
    let pins = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table)
        .context("no [workspace.dependencies]")?;
    let mut dependencies = Vec::new();
    let mut local = Vec::new();
    let declared = manifest.get("dependencies").and_then(Value::as_table);
    for (dep, value) in declared.into_iter().flatten() {
        if !sources.iter().any(|s| uses(s, &dep.replace('-', "_"))) {
            continue; // the demo's, not the library's (clap, tracing-subscriber...)
        }
        let resolved = resolve(dep, value, pins)?;
        match resolved.get("path").and_then(Value::as_str) {
            Some(path) => local.push(Local {
                name: dep.clone(),
                dir: root.join(path),
            }),
            None => dependencies.push((dep.clone(), entry(dep, &resolved))),
        }
    }
    Ok(Library {
        name,
        dir: dir.to_owned(),
        files,
        folders,
        dependencies,
        local,
    })
}

fn read_toml(path: &Path) -> anyhow::Result<Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.parse()
        .with_context(|| format!("cannot parse {}", path.display()))
}

/// `src/lib.rs` and every file it reaches through `mod name;` and `include_str!`,
/// relative to `dir`, in the order they are reached.
fn modules(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut todo = vec![PathBuf::from("src/lib.rs")];
    while let Some(file) = todo.pop() {
        let text = std::fs::read_to_string(dir.join(&file))
            .with_context(|| format!("{}: no {}", dir.display(), file.display()))?;
        let here = file.parent().unwrap_or(Path::new("")).to_owned();
        // `a.rs` keeps its modules in `a/`; `lib.rs` and `mod.rs` beside themselves.
        let children = match file.file_stem().and_then(|s| s.to_str()) {
            Some("lib" | "mod") => here.clone(),
            Some(stem) => here.join(stem),
            None => bail!("{}: a file without a name", file.display()),
        };
        for line in code_only(&text).lines() {
            if let Some(module) = declared_module(line) {
                let flat = children.join(format!("{module}.rs"));
                let nested = children.join(module).join("mod.rs");
                todo.push(if dir.join(&flat).is_file() {
                    flat
                } else {
                    nested
                });
            }
            for included in quoted_args(line, &["include_str!(", "include_bytes!("]) {
                files.push(here.join(included));
            }
        }
        files.push(file);
    }
    // `lib.rs`, the map, first; then the rest by path.
    files.sort_by_key(|f| (f != Path::new("src/lib.rs"), f.clone()));
    files.dedup();
    Ok(files)
}

/// `name` for a line `mod name;` or `pub(crate) mod name;`; `None` for an inline module.
fn declared_module(line: &str) -> Option<&str> {
    let line = line.trim();
    let rest = line.strip_suffix(';')?;
    let at = rest.find("mod ")?;
    let (visibility, name) = (&rest[..at], rest[at + 4..].trim());
    let is_visibility = visibility.trim().is_empty() || visibility.trim().starts_with("pub");
    let is_name = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    (is_visibility && is_name).then_some(name)
}

/// The string literals passed to any of `calls` on this line: `include_str!("page.html")`.
fn quoted_args<'a>(line: &'a str, calls: &[&str]) -> Vec<&'a str> {
    let mut found = Vec::new();
    for call in calls {
        let mut rest = line;
        while let Some(at) = rest.find(call) {
            rest = &rest[at + call.len()..];
            let Some(open) = rest.strip_prefix('"') else {
                continue;
            };
            if let Some(close) = open.find('"') {
                found.push(&open[..close]);
            }
        }
    }
    found
}

/// The folders the compiler reads besides `src/`: sqlx's migrations, and its `.sqlx`
/// query data where the queries are checked at compile time.
fn folders_read(dir: &Path, sources: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut folders = BTreeSet::new();
    for source in sources {
        for line in source.lines() {
            folders.extend(
                quoted_args(line, &["migrate!("])
                    .into_iter()
                    .map(PathBuf::from),
            );
            if line.contains("migrate!()") {
                folders.insert(PathBuf::from("migrations"));
            }
            let checked = ["query!(", "query_as!(", "query_scalar!("];
            if checked.iter().any(|m| line.contains(m)) {
                folders.insert(PathBuf::from(".sqlx"));
            }
        }
    }
    for folder in &folders {
        if !dir.join(folder).is_dir() {
            bail!(
                "{}: the compiler reads {}, which is not there",
                dir.display(),
                folder.display()
            );
        }
    }
    Ok(folders.into_iter().collect())
}

/// The source without its comments' lines, so that a crate named only in prose
/// (`// like reqwest::Client`) is not taken for a dependency.
fn code_only(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the code names the crate `ident`: `ident::` or `use ident`, not as part of a
/// longer name (`tokio_util::` does not name `tokio`).
pub fn uses(code: &str, ident: &str) -> bool {
    code.match_indices(ident).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + ident.len()..];
        let starts = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let is_path =
            after.starts_with("::") || after.starts_with(';') || after.starts_with(" as ");
        starts && is_path
    })
}

/// The dependency's value with `workspace = true` replaced by the workspace's pin, and
/// the crate's own features added to the pin's.
fn resolve(name: &str, value: &Value, pins: &Table) -> anyhow::Result<Table> {
    let own = match value {
        Value::String(version) => {
            return Ok(Table::from_iter([(
                "version".into(),
                version.as_str().into(),
            )]));
        }
        Value::Table(table) => table,
        _ => bail!("dependency {name}: neither a version nor a table"),
    };
    if own.get("workspace").and_then(Value::as_bool) != Some(true) {
        return Ok(own.clone());
    }
    let mut pin = match pins.get(name) {
        Some(Value::String(version)) => {
            Table::from_iter([("version".into(), version.as_str().into())])
        }
        Some(Value::Table(table)) => table.clone(),
        _ => bail!("dependency {name}: no pin in [workspace.dependencies]"),
    };
    let mut features: Vec<Value> = pin
        .get("features")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for feature in own
        .get("features")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !features.contains(feature) {
            features.push(feature.clone());
        }
    }
    if !features.is_empty() {
        pin.insert("features".into(), Value::Array(features));
    }
    Ok(pin)
}

/// The longest line of a `[dependencies]` block: the book's code column.
const WIDTH: usize = 88;

/// A dependency's `name = value` entry: `"1.0"` alone, or an inline table in the order a
/// person writes it, its features on lines of their own when the line would be too long.
fn entry(name: &str, table: &Table) -> String {
    let only_version = table.len() == 1 && table.contains_key("version");
    if only_version {
        return format!("{name} = {}", table["version"]);
    }
    let order = [
        "version",
        "path",
        "default-features",
        "features",
        "optional",
        "package",
    ];
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
    let fields: Vec<String> = keys
        .iter()
        .map(|k| format!("{k} = {}", table[k.as_str()]))
        .collect();
    let line = format!("{name} = {{ {} }}", fields.join(", "));
    match table.get("features").and_then(Value::as_array) {
        Some(features) if line.len() > WIDTH => {
            let others: Vec<&str> = fields
                .iter()
                .filter(|f| !f.starts_with("features"))
                .map(String::as_str)
                .collect();
            let head = format!("{name} = {{ {}, features = [", others.join(", "));
            format!("{head}\n{}] }}", wrapped(features))
        }
        _ => line,
    }
}

/// Features as lines of at most [`WIDTH`], indented, each ending with a comma (TOML allows
/// new lines inside an array, even in an inline table).
fn wrapped(features: &[Value]) -> String {
    let mut lines = Vec::new();
    let mut line = String::from("   ");
    for feature in features {
        let item = format!(" {feature},");
        if line.len() + item.len() > WIDTH {
            lines.push(std::mem::replace(&mut line, String::from("   ")));
        }
        line.push_str(&item);
    }
    lines.push(line);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The `[dependencies]` block a copy needs; a catalogue crate is a path beside it.
pub fn dependencies_block(library: &Library) -> String {
    let mut block = String::from("[dependencies]\n");
    for (_, entry) in &library.dependencies {
        block.push_str(entry);
        block.push('\n');
    }
    for local in &library.local {
        block.push_str(&format!(
            "{} = {{ path = \"../{}\" }}\n",
            local.name, local.name
        ));
    }
    block
}

/// The chapter's "What to copy" text for `library`.
pub fn section(root: &Path, library: &Library, language: Language) -> String {
    let list = |paths: &[PathBuf]| {
        paths
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "<!-- Generated by `cargo run -p workspace-tests --bin readmes` from \
         patterns/{}/Cargo.toml and its library's sources: do not edit. -->\n\n",
        library.name
    );
    let (name, files) = (&library.name, list(&library.files));
    let folders = (!library.folders.is_empty()).then(|| list(&library.folders));
    text.push_str(&match (language, folders) {
        (Language::English, None) => format!("The library is {files}, in `patterns/{name}/`. "),
        (Language::English, Some(folders)) => format!(
            "The library is {files}, in `patterns/{name}/`, and {folders}, which the compiler \
             reads. "
        ),
        (Language::Japanese, None) => {
            format!("ライブラリは `patterns/{name}/` の {files} です。")
        }
        (Language::Japanese, Some(folders)) => format!(
            "ライブラリは `patterns/{name}/` の {files} と、コンパイラが読む {folders} です。"
        ),
    });
    text.push_str(match language {
        Language::English => {
            "Copied into a crate of your own, with these dependencies, it compiles as it is \
             (the workspace's tests check exactly that); `src/main.rs`, the demo, is not part \
             of it.\n"
        }
        Language::Japanese => {
            "次の依存関係とともに自分のクレートへコピーすれば、そのままコンパイルできます\
             （ワークスペースのテストがまさにそれを確かめています）。デモの `src/main.rs` は\
             含まれません。\n"
        }
    });
    for local in &library.local {
        let from = local.dir.strip_prefix(root).unwrap_or(&local.dir).display();
        let crate_name = &local.name;
        text.push_str(&match language {
            Language::English => format!(
                "\nIt uses `{crate_name}`, the catalogue crate in `{from}/`: copy that library \
                 the same way, as a crate beside yours.\n"
            ),
            Language::Japanese => format!(
                "\n`{from}/` にあるこのカタログのクレート `{crate_name}` を使います。その\
                 ライブラリも同じようにコピーし、自分のクレートと並べて置いてください。\n"
            ),
        });
    }
    text.push_str(&format!("\n```toml\n{}```\n", dependencies_block(library)));
    if let Some(version) = paused_tests_need(library) {
        text.push_str(match language {
            Language::English => {
                "\nSome of its tests run with tokio's clock paused \
                 (`#[tokio::test(start_paused = true)]`), which needs tokio's `test-util` \
                 feature, for tests only:\n"
            }
            Language::Japanese => {
                "\nテストの一部は tokio の時計を止めて（`#[tokio::test(start_paused = true)]`）\
                 動かします。そのためテストのときだけ tokio の `test-util` フィーチャが必要です:\n"
            }
        });
        text.push_str(&format!(
            "\n```toml\n[dev-dependencies]\ntokio = {{ version = \"{version}\", features = \
             [\"test-util\"] }}\n```\n"
        ));
    }
    text
}

/// tokio's version, when the crate's tests turn on `test-util` (its dev-dependencies say
/// so): the line a copy needs to run such tests.
fn paused_tests_need(library: &Library) -> Option<String> {
    let manifest = read_toml(&library.dir.join("Cargo.toml")).ok()?;
    let features = manifest
        .get("dev-dependencies")?
        .get("tokio")?
        .get("features")?
        .as_array()?;
    if !features.iter().any(|f| f.as_str() == Some("test-util")) {
        return None;
    }
    let entry = &library
        .dependencies
        .iter()
        .find(|(name, _)| name == "tokio")?
        .1;
    let version = entry.split("version = \"").nth(1)?.split('"').next()?;
    Some(version.to_owned())
}

/// Writes `library` as a crate of its own in `into`: a `Cargo.toml` with its
/// dependencies, and its files and folders.
pub fn write_crate(library: &Library, into: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(into)?;
    let manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{}",
        library.name,
        dependencies_block(library)
    );
    std::fs::write(into.join("Cargo.toml"), manifest)?;
    for file in &library.files {
        let target = into.join(file);
        std::fs::create_dir_all(target.parent().unwrap())?;
        std::fs::copy(library.dir.join(file), &target)
            .with_context(|| format!("cannot copy {}", file.display()))?;
    }
    for folder in &library.folders {
        copy_folder(&library.dir.join(folder), &into.join(folder))?;
    }
    Ok(())
}

fn copy_folder(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_folder(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_is_named_by_a_path_or_a_use_not_inside_another_name() {
        assert!(uses("use tokio::sync::Mutex;", "tokio"));
        assert!(uses("#[derive(thiserror::Error)]", "thiserror"));
        assert!(uses("use futures;", "futures"));
        assert!(!uses("use tokio_util::sync::CancellationToken;", "tokio"));
        assert!(!uses("let my_tokio::x = 1;", "tokio"));
        assert!(!uses("a tokio runtime", "tokio"));
    }

    #[test]
    fn modules_are_declared_by_mod_lines_only() {
        assert_eq!(declared_module("mod hub;"), Some("hub"));
        assert_eq!(declared_module("pub(crate) mod wire;"), Some("wire"));
        assert_eq!(declared_module("    pub mod event;"), Some("event"));
        assert_eq!(declared_module("mod tests {"), None);
        assert_eq!(declared_module("let model = 1;"), None);
    }

    #[test]
    fn a_pin_keeps_its_features_and_gains_the_crates_own() {
        let pins: Table =
            r#"sqlx = { version = "0.9", default-features = false, features = ["sqlite"] }
anyhow = "1.0""#
                .parse()
                .unwrap();
        let own: Table = r#"sqlx = { workspace = true, features = ["any", "sqlite"] }
anyhow = { workspace = true }"#
            .parse()
            .unwrap();
        let sqlx = resolve("sqlx", &own["sqlx"], &pins).unwrap();
        assert_eq!(
            entry("sqlx", &sqlx),
            r#"sqlx = { version = "0.9", default-features = false, features = ["sqlite", "any"] }"#
        );
        let long: Table = r#"x = { version = "1", features = ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd", "eeeeeeeeee", "ffffffffff"] }"#
            .parse()
            .unwrap();
        let text = entry("x", long["x"].as_table().unwrap());
        assert!(text.lines().all(|l| l.len() <= WIDTH), "{text}");
        assert_eq!(text.parse::<Table>().unwrap(), long, "{text}");
        let anyhow = resolve("anyhow", &own["anyhow"], &pins).unwrap();
        assert_eq!(entry("anyhow", &anyhow), r#"anyhow = "1.0""#);
    }
}
