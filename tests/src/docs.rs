//! Checks what mdBook would include: every `{{#include file:anchor}}` names a file that
//! exists and an anchor it defines, and code blocks hold includes, never pasted code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::chapters::{MAX_DEPTH, anchored};

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
        } else if !has_anchor(&target, selector) {
            problems.push(format!(
                "{at}: no ANCHOR/ANCHOR_END pair named {selector:?}"
            ));
        }
    }
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

fn has_anchor(file: &Path, name: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| anchored(&text, name).is_ok())
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
