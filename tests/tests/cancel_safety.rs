//! Every public async fn of every pattern library and of `patterns-core` (and every
//! public fn that returns `impl Future`) says in a `# Cancel safety` section, in tokio's
//! words, whether it is cancel safe, and is dropped while it waits in a test of its crate:
//! a call of `cancel_check::drop_pending` or `drop_pending_after` whose argument calls it.
//! Those helpers fail a test whose future completed before it could be dropped, so a test
//! that only runs the fn to completion does not count.

use std::path::{Path, PathBuf};

use workspace_tests::{rust_files, workspace_root};

/// tokio's wording, which the section must open with ("This method is cancel safe.").
const TOKIO_WORDS: [&str; 4] = [
    "This method is cancel safe",
    "This method is not cancel safe",
    "This function is cancel safe",
    "This function is not cancel safe",
];

/// The drop-test helpers of `crates/cancel-check`, and the fixture server's
/// `drop_once_connected`, which drops through `drop_pending_after` once the request under
/// test has its connections open.
const HELPERS: [&str; 3] = [
    "drop_pending(",
    "drop_pending_after(",
    "drop_once_connected(",
];

/// A public async fn (or a fn returning `impl Future`): where it is, and its section.
#[derive(Debug)]
struct AsyncFn {
    name: String,
    file: PathBuf,
    line: usize,
    /// The text of its `# Cancel safety` section, if it has one.
    section: Option<String>,
}

/// `pub async fn NAME` or `pub fn NAME(...) -> ...impl Future...` (in a public trait,
/// `fn NAME(...) -> ...impl Future...`), with the signature read up to its body.
fn async_fn_name(lines: &[&str], index: usize, in_pub_trait: bool) -> Option<String> {
    let line = lines[index].trim_start();
    let line = match line.strip_prefix("fn ") {
        Some(rest) if in_pub_trait => format!("pub fn {rest}"),
        _ => line.to_owned(),
    };
    let rest = line
        .strip_prefix("pub async fn ")
        .or_else(|| line.strip_prefix("pub fn "))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if line.starts_with("pub fn ") {
        let mut signature = String::new();
        for l in &lines[index..] {
            signature.push_str(l);
            signature.push(' ');
            if l.contains('{') || l.trim_end().ends_with(';') {
                break;
            }
        }
        let returned = signature.split_once("->")?.1;
        if !returned.contains("impl Future") {
            return None;
        }
    }
    Some(name)
}

/// The doc comment above line `index`, past any attributes and book anchors (a `//`
/// comment between a doc comment and its item leaves the doc attached), top to bottom.
fn doc_above(lines: &[&str], index: usize) -> Vec<String> {
    let mut doc: Vec<String> = lines[..index]
        .iter()
        .rev()
        .map(|l| l.trim_start())
        .take_while(|l| l.starts_with("///") || l.starts_with("#[") || l.starts_with("// ANCHOR"))
        .filter_map(|l| l.strip_prefix("///"))
        .map(|l| l.trim().to_owned())
        .collect();
    doc.reverse();
    doc
}

/// The paragraph under `# Cancel safety`, joined into one line.
fn cancel_safety_section(doc: &[String]) -> Option<String> {
    let start = doc.iter().position(|l| l == "# Cancel safety")?;
    let section: Vec<&str> = doc[start + 1..]
        .iter()
        .map(String::as_str)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.starts_with('#'))
        .collect();
    Some(section.join(" ").trim().to_owned())
}

fn async_fns(file: &Path) -> Vec<AsyncFn> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Test modules are not API.
    let end = lines
        .iter()
        .position(|l| l.trim() == "#[cfg(test)]")
        .unwrap_or(lines.len());
    let mut in_pub_trait = false;
    (0..end)
        .filter_map(|index| {
            // A public trait's methods are API too: from `pub trait` to its closing brace.
            if lines[index].starts_with("pub trait ") {
                in_pub_trait = true;
            } else if lines[index] == "}" {
                in_pub_trait = false;
            }
            let name = async_fn_name(&lines, index, in_pub_trait)?;
            Some(AsyncFn {
                name,
                file: file.to_owned(),
                line: index + 1,
                section: cancel_safety_section(&doc_above(&lines, index)),
            })
        })
        .collect()
}

/// The names called inside the arguments of each drop-test helper call in `text`.
fn dropped_in(text: &str) -> Vec<String> {
    let mut called = Vec::new();
    for helper in HELPERS {
        for (at, _) in text.match_indices(helper) {
            // A helper named inside a longer identifier is not the helper.
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let arguments = balanced(&text[at + helper.len()..]);
            called.extend(calls(arguments));
        }
    }
    called
}

/// The text up to the parenthesis that closes the one just opened.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..at];
                }
            }
            _ => {}
        }
    }
    text
}

/// Every identifier followed by `(` or `::<` in `text`.
fn calls(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_alphanumeric() || *c == '_' {
            current.push(*c);
            continue;
        }
        let rest: String = chars[i..].iter().take(3).collect();
        if !current.is_empty() && (*c == '(' || rest == "::<") {
            names.push(current.clone());
        }
        current.clear();
    }
    names
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
fn every_public_async_fn_says_its_cancel_safety_in_tokios_words_and_is_dropped_in_a_test() {
    let mut missing = Vec::new();
    let mut counted = 0;
    for krate in library_crates() {
        let fns: Vec<AsyncFn> = rust_files(&krate.join("src"))
            .iter()
            .filter(|f| !f.ends_with("main.rs"))
            .flat_map(|f| async_fns(f))
            .collect();
        counted += fns.len();
        let tests: String = rust_files(&krate.join("tests"))
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let dropped = dropped_in(&tests);
        for f in fns {
            let place = format!("{}:{} {}", f.file.display(), f.line, f.name);
            match &f.section {
                None => missing.push(format!("{place}: no `# Cancel safety` section")),
                Some(text) if !TOKIO_WORDS.iter().any(|w| text.starts_with(w)) => missing.push(
                    format!("{place}: the section does not open with tokio's words: {text:?}"),
                ),
                Some(_) => {}
            }
            if !dropped.contains(&f.name) {
                missing.push(format!(
                    "{place}: no drop test (`cancel_check::drop_pending(...{}(...))`)",
                    f.name
                ));
            }
        }
    }
    assert!(counted >= 100, "only {counted} public async fns found");
    assert!(
        missing.is_empty(),
        "{}:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The reading of sources and tests above, on small cases.
#[test]
fn the_checker_reads_what_it_should() {
    let source = "\
/// Waits.
///
/// # Cancel safety
///
/// This method is cancel safe. Nothing is lost.
#[inline]
pub async fn wait(&self) {}

/// # Cancel safety
///
/// Cancel safe in effect.
pub fn ctrl_c() -> std::io::Result<impl Future<Output = ()> + Send> {
}

pub fn plain() -> u32 {
}

pub trait Resource {
    /// # Cancel safety
    ///
    /// This method is not cancel safe.
    fn release(self) -> impl Future<Output = ()> + Send;
}
";
    let lines: Vec<&str> = source.lines().collect();
    let trait_at = lines
        .iter()
        .position(|l| l.starts_with("pub trait "))
        .unwrap();
    let found: Vec<(String, Option<String>)> = (0..lines.len())
        .filter_map(|i| {
            let name = async_fn_name(&lines, i, i > trait_at)?;
            Some((name, cancel_safety_section(&doc_above(&lines, i))))
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "wait".to_owned(),
                Some("This method is cancel safe. Nothing is lost.".to_owned())
            ),
            (
                "ctrl_c".to_owned(),
                Some("Cancel safe in effect.".to_owned())
            ),
            (
                "release".to_owned(),
                Some("This method is not cancel safe.".to_owned())
            ),
        ]
    );
    let tests = "\
cancel_check::drop_pending(queue.get()).await;
drop_pending_after(scoped(probe, async |_| Ok(())), sleep(SECOND)).await;
let _ = join_all(x);
my_drop_pending(other_fn());
timeout(A_WHILE, run(config)).await;
";
    let dropped = dropped_in(tests);
    assert_eq!(dropped, ["get", "scoped", "Ok", "sleep"]);
}
