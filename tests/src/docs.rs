//! Checks what mdBook would include: every `{{#include file:anchor}}` names a file that
//! exists and an anchor it defines, no included excerpt is longer than a reader takes in
//! (a chapter shows the lines that carry the idea and links to the whole file), and code
//! blocks hold includes, never pasted code. A chapter's sections pair their Rust with the
//! Python it translates, or say in so many words why there is none.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::chapters::{MAX_DEPTH, anchored};

/// The longest excerpt a chapter includes: about what fits beside its explanation.
pub const MAX_EXCERPT_LINES: usize = 40;

/// How a section with Rust and no Python says why: a visible line, for the reader.
pub const RUST_ONLY: &str = "**Rust only.**";

/// The opening of a labelled pair, Python beside Rust (laid out by `docs/theme/catalogue.css`).
pub const PAIR: &str = "<div class=\"side-by-side\">";

/// Problems found in `markdown` and everything it includes, as readable lines.
pub fn check_includes(markdown: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    walk(markdown, 0, &mut problems, &mut seen);
    problems
}

fn walk(file: &Path, depth: usize, problems: &mut Vec<String>, seen: &mut BTreeSet<PathBuf>) {
    let Ok(text) = std::fs::read_to_string(file) else {
        problems.push(format!("{}: cannot read", file.display()));
        return;
    };
    if !seen.insert(file.to_path_buf()) {
        return;
    }
    check_code_blocks(file, &text, problems);
    let base = file.parent().unwrap_or(Path::new("."));
    for directive in includes(&text) {
        let (path, selector) = directive.split_once(':').unwrap_or((directive, ""));
        let target = base.join(path.trim());
        let at = format!("{}: {{{{#include {directive}}}}}", file.display());
        if !target.is_file() {
            problems.push(format!("{at}: no file {}", target.display()));
            continue;
        }
        if selector.is_empty() {
            if target.extension().is_some_and(|e| e == "md") && depth < MAX_DEPTH {
                walk(&target, depth + 1, problems, seen);
            }
        } else if selector.chars().all(|c| c.is_ascii_digit() || c == ':') {
            problems.push(format!("{at}: line numbers break silently; use an ANCHOR"));
        } else {
            match std::fs::read_to_string(&target).map(|text| anchored(&text, selector)) {
                Ok(Ok(excerpt)) => too_long(&at, excerpt.lines().count(), problems),
                _ => problems.push(format!(
                    "{at}: no ANCHOR/ANCHOR_END pair named {selector:?}"
                )),
            }
        }
        if selector.is_empty() && target.extension().is_none_or(|e| e != "md") {
            let lines = std::fs::read_to_string(&target).map_or(0, |t| t.lines().count());
            too_long(&at, lines, problems);
        }
    }
}

fn too_long(at: &str, lines: usize, problems: &mut Vec<String>) {
    if lines > MAX_EXCERPT_LINES {
        problems.push(format!(
            "{at}: {lines} lines; show at most {MAX_EXCERPT_LINES} (a finer anchor) and link \
             to the whole file"
        ));
    }
}

/// Sections (`## ` headings) of a chapter that show Rust but neither the Python it
/// translates beside it (a labelled `side-by-side` pair) nor a [`RUST_ONLY`] line saying
/// why there is none.
pub fn sections_without_python(chapter: &str) -> Vec<String> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in chapter.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            sections.push((title.to_owned(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections
        .into_iter()
        .filter(|(_, body)| {
            body.contains("```rust") && !body.contains(PAIR) && !body.contains(RUST_ONLY)
        })
        .map(|(title, _)| title)
        .collect()
}

/// The `## ` sections of a chapter that come after the one holding its last recorded
/// benchmark run (an include of `figures/<workload>.md`, the mutation record aside). The
/// figures close a chapter, so a reader meets the patterns before the measurements.
pub fn sections_after_the_figures(chapter: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut after_figures = false;
    for line in chapter.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            if after_figures {
                titles.push(title.to_owned());
            }
        } else if line.contains("{{#include ../figures/") && !line.contains("figures/mutants.md") {
            after_figures = true;
            titles.clear();
        }
    }
    titles
}

/// The insides of every `{{#include ...}}` in `text`.
fn includes(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#include ") {
        let after = &rest[start + "{{#include ".len()..];
        let Some(end) = after.find("}}") else { break };
        found.push(after[..end].trim());
        rest = &after[end..];
    }
    found
}

/// Rust and Python code blocks may only hold includes: code is pulled, never pasted.
fn check_code_blocks(file: &Path, text: &str, problems: &mut Vec<String>) {
    let mut in_code = false;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            let lang = lang.split(',').next().unwrap_or_default();
            in_code = !in_code && (lang == "rust" || lang == "python");
            continue;
        }
        if in_code && !trimmed.is_empty() && !trimmed.starts_with("{{#include ") {
            problems.push(format!(
                "{}:{}: code pasted into a rust/python block; include it from the source",
                file.display(),
                number + 1
            ));
        }
    }
}

/// The `// ANCHOR` lines of a Rust source that stand inside a body (a fn, a closure, a
/// block), as `line: text`. An anchor belongs between items, at the top level or between
/// the items of an `impl`, `mod` or `trait` block: the book then shows whole items, and
/// whoever copies the file copies no markup cut into its code.
pub fn anchors_inside_bodies(source: &str) -> Vec<String> {
    // One entry per open brace: whether it opened an item container.
    let mut open: Vec<bool> = Vec::new();
    let mut since_last_item = String::new(); // the code since the last `;`, `{` or `}`
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("// ANCHOR:") || trimmed.starts_with("// ANCHOR_END:") {
            if open.iter().any(|container| !container) {
                found.push(format!("{}: {}", n + 1, trimmed));
            }
            continue;
        }
        for c in code_of(line).chars() {
            match c {
                '{' => {
                    open.push(opens_container(&since_last_item));
                    since_last_item.clear();
                }
                '}' => {
                    open.pop();
                    since_last_item.clear();
                }
                ';' => since_last_item.clear(),
                c => since_last_item.push(c),
            }
        }
        since_last_item.push(' ');
    }
    found
}

/// Whether the code before a `{` heads an `impl`, `mod` or `trait` block (not a fn in one).
fn opens_container(head: &str) -> bool {
    let words: Vec<&str> = head
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let container = words.iter().any(|w| matches!(*w, "impl" | "mod" | "trait"));
    container && !words.contains(&"fn")
}

/// A line without its comment and the contents of its string and char literals, so that
/// braces in them are not counted. Good enough for this workspace's code: a string that
/// spans lines is not followed.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            // A char literal ('{', '\''), not a lifetime ('a).
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            chars.next();
                        } else if c == '\'' {
                            break;
                        }
                    }
                }
            }
            c => code.push(c),
        }
    }
    code
}
