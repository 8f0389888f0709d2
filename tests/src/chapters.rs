//! Each pattern's `README.md` is its chapter, `docs/src/patterns/<name>.md`, made readable as
//! a plain file: every `{{#include}}` expanded the way mdBook expands it, and every relative
//! link rewritten to work from the pattern's folder (a chapter's link to another chapter
//! becomes a link to that pattern's README). The chapter is the one source; the README is
//! written from it by `cargo run -p workspace-tests --bin readmes`, and `tests/docs.rs`
//! fails when one is stale.
//!
//! `README.ja.md` is the same chapter translated first by `docs/po/ja.po`, as
//! mdbook-gettext translates it for the Japanese book: before its includes are expanded, so
//! the code is the same in both.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};
use external_tools::mdbook::Language;
use polib::catalog::Catalog;

/// mdBook's own limit on nested includes.
pub const MAX_DEPTH: usize = 10;

/// The Japanese edition's messages, relative to the workspace root.
pub const JAPANESE_PO: &str = "docs/po/ja.po";

/// The translations of `language`: none for English, the source.
pub fn catalog(root: &Path, language: Language) -> anyhow::Result<Option<Catalog>> {
    match language {
        Language::English => Ok(None),
        Language::Japanese => {
            let path = root.join(JAPANESE_PO);
            let catalog = polib::po_file::parse(&path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(Some(catalog))
        }
    }
}

/// `markdown` with every message `catalog` translates replaced by its translation, as
/// mdbook-gettext does it (fuzzy and empty translations leave the English).
pub fn translate(markdown: &str, catalog: &Catalog) -> anyhow::Result<String> {
    let events = mdbook_i18n_helpers::extract_events(markdown, None);
    let translated = mdbook_i18n_helpers::translate_events(&events, catalog)
        .map_err(|e| anyhow::anyhow!("cannot translate: {e}"))?;
    let (text, _) = mdbook_i18n_helpers::reconstruct_markdown(&translated, None)
        .map_err(|e| anyhow::anyhow!("cannot write the translation back as markdown: {e}"))?;
    Ok(text)
}

/// `markdown` with each heading's `{#id}` (a translated heading keeps the English id, so
/// links into it still resolve) turned into an `<a id>` before the heading: mdBook reads
/// the attribute, a README viewer such as GitHub's shows it as text.
fn anchors_for_heading_ids(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut in_code = false;
    for line in markdown.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let heading = !in_code && line.starts_with('#');
        let attribute = line
            .trim_end()
            .strip_suffix('}')
            .and_then(|rest| rest.rsplit_once(" {#"));
        match attribute {
            Some((title, id)) if heading && !id.contains(char::is_whitespace) => {
                out.push_str(&format!("<a id=\"{id}\"></a>\n\n{title}\n"));
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The README of the pattern `name` in `language` (`catalog`, from [`catalog`], holds its
/// translations), as it should be on disk.
pub fn readme(
    root: &Path,
    name: &str,
    language: Language,
    catalog: Option<&Catalog>,
) -> anyhow::Result<String> {
    let chapter = root.join("docs/src/patterns").join(format!("{name}.md"));
    let mut text = std::fs::read_to_string(&chapter)
        .with_context(|| format!("cannot read {}", chapter.display()))?;
    if let Some(catalog) = catalog {
        text = translate(&text, catalog).with_context(|| format!("in {}", chapter.display()))?;
        text = anchors_for_heading_ids(&text);
    }
    let expanded = expand(&chapter, &text, 0)?;
    let from = root.join("patterns").join(name);
    let body = rewrite_links(root, chapter.parent().unwrap(), &from, &expanded, language)
        .with_context(|| format!("in {}", chapter.display()))?;
    let (other, other_name) = match language {
        Language::English => (Language::Japanese, "日本語"),
        Language::Japanese => (Language::English, "English"),
    };
    Ok(format!(
        "<!-- Generated from docs/src/patterns/{name}.md by `cargo run -p workspace-tests \
         --bin readmes`: edit that file, not this one. -->\n\n[{other_name}]({})\n\n{body}",
        other.readme()
    ))
}

/// `text` (the contents of `file`) with its includes replaced by what they name.
fn expand(file: &Path, text: &str, depth: usize) -> anyhow::Result<String> {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{#include ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{#include ".len()..];
        let end = after
            .find("}}")
            .with_context(|| format!("{}: unclosed include", file.display()))?;
        let directive = after[..end].trim();
        let (path, anchor) = directive.split_once(':').unwrap_or((directive, ""));
        let target = base.join(path.trim());
        let content = std::fs::read_to_string(&target)
            .with_context(|| format!("{}: no file {}", file.display(), target.display()))?;
        if anchor.is_empty() {
            let content = content.strip_suffix('\n').unwrap_or(&content);
            if target.extension().is_some_and(|e| e == "md") && depth < MAX_DEPTH {
                out.push_str(&expand(&target, content, depth + 1)?);
            } else {
                out.push_str(content);
            }
        } else {
            out.push_str(
                &anchored(&content, anchor)
                    .with_context(|| format!("{}: {}", file.display(), target.display()))?,
            );
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without any anchor lines, as
/// mdBook includes them (indentation kept). An error unless both marks are there.
pub fn anchored(content: &str, name: &str) -> anyhow::Result<String> {
    let is_mark = |line: &str, mark: &str| {
        line.split_once(mark)
            .is_some_and(|(_, rest)| rest.trim() == name)
    };
    let mut lines = Vec::new();
    let (mut inside, mut started, mut ended) = (false, false, false);
    for line in content.lines() {
        if is_mark(line, "ANCHOR_END: ") {
            inside = false;
            ended = true;
        } else if is_mark(line, "ANCHOR: ") {
            inside = true;
            started = true;
        } else if inside && !line.contains("ANCHOR: ") && !line.contains("ANCHOR_END: ") {
            lines.push(line);
        }
    }
    if !(started && ended) {
        bail!("no ANCHOR/ANCHOR_END pair named {name:?}");
    }
    Ok(lines.join("\n"))
}

/// `markdown`, written for a page in `page_dir`, with its relative links and image sources
/// made to work from `from`. Code blocks are left as they are.
fn rewrite_links(
    root: &Path,
    page_dir: &Path,
    from: &Path,
    markdown: &str,
    language: Language,
) -> anyhow::Result<String> {
    let mut out = String::with_capacity(markdown.len());
    let mut in_code = false;
    for line in markdown.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            out.push_str(line);
        } else {
            out.push_str(&rewrite_line(root, page_dir, from, line, language)?);
        }
    }
    Ok(out)
}

fn rewrite_line(
    root: &Path,
    page_dir: &Path,
    from: &Path,
    line: &str,
    language: Language,
) -> anyhow::Result<String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    loop {
        // A markdown link target `](...)` or an HTML `href="..."`/`src="..."`.
        let next = ["](", "href=\"", "src=\""]
            .iter()
            .filter_map(|open| rest.find(open).map(|at| (at, *open)))
            .min();
        let Some((at, open)) = next else { break };
        let start = at + open.len();
        out.push_str(&rest[..start]);
        let close = if open == "](" { ')' } else { '"' };
        let end = rest[start..]
            .find(close)
            .with_context(|| format!("unclosed link in {line:?}"))?;
        out.push_str(&relink(
            root,
            page_dir,
            from,
            &rest[start..start + end],
            language,
        )?);
        rest = &rest[start + end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One link target, seen from `from` instead of `page_dir`; a chapter becomes its
/// pattern's README in `language`.
fn relink(
    root: &Path,
    page_dir: &Path,
    from: &Path,
    target: &str,
    language: Language,
) -> anyhow::Result<String> {
    if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
        return Ok(target.to_owned());
    }
    let (path, fragment) = match target.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (target, String::new()),
    };
    let resolved = page_dir
        .join(path)
        .canonicalize()
        .with_context(|| format!("broken link {target:?}"))?;
    let root = root.canonicalize()?;
    // A chapter of a pattern is read, outside the book, as that pattern's README.
    let chapters = root.join("docs/src/patterns");
    let resolved = match resolved.strip_prefix(&chapters) {
        Ok(chapter) if chapter.extension().is_some_and(|e| e == "md") => {
            let name = chapter.with_extension("");
            root.join("patterns").join(name).join(language.readme())
        }
        _ => resolved,
    };
    let relative = relative_path(&from.canonicalize()?, &resolved);
    Ok(format!("{}{fragment}", relative.display()))
}

/// The path from the directory `from` to `to`, both absolute.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let shared = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in shared..from.len() {
        path.push("..");
    }
    for part in &to[shared..] {
        path.push(part);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_lines_lose_their_marks_and_keep_their_indent() {
        let text = "fn f() {\n    // ANCHOR: body\n    let a = 1;\n    // ANCHOR: inner\n\n        \
                    a + 1\n    // ANCHOR_END: inner\n    // ANCHOR_END: body\n}\n";
        assert_eq!(
            anchored(text, "body").unwrap(),
            "    let a = 1;\n\n        a + 1"
        );
        assert_eq!(anchored(text, "inner").unwrap(), "\n        a + 1");
        assert!(anchored(text, "gone").is_err());
        assert!(
            anchored("// ANCHOR: open\nx\n", "open").is_err(),
            "an anchor never closed"
        );
    }

    #[test]
    fn a_heading_id_becomes_an_anchor_outside_code() {
        let text = "# Title {#title}\n\n```rust\n# hidden {#no}\n```\n\ntext {#kept}\n## Two words {#two-words}\n";
        assert_eq!(
            anchors_for_heading_ids(text),
            "<a id=\"title\"></a>\n\n# Title\n\n```rust\n# hidden {#no}\n```\n\ntext {#kept}\n\
             <a id=\"two-words\"></a>\n\n## Two words\n"
        );
    }

    #[test]
    fn relative_paths_climb_and_descend() {
        let path = relative_path(Path::new("/w/patterns/queue"), Path::new("/w/docs/a.md"));
        assert_eq!(path, Path::new("../../docs/a.md"));
        let path = relative_path(
            Path::new("/w/patterns/queue"),
            Path::new("/w/patterns/queue/src/lib.rs"),
        );
        assert_eq!(path, Path::new("src/lib.rs"));
    }
}
