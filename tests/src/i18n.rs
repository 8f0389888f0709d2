//! The Japanese edition's tools: building an edition of the book, extracting the English
//! messages the way `just po` does, and the checks `tests/japanese.rs` makes of
//! `docs/po/ja.po` (a translation keeps its code and link targets; no rejected term).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context as _, ensure};
use external_tools::mdbook::{BookTools, JAPANESE_TITLE, Language, path_with};

/// The glossary of the Japanese edition, relative to the workspace root.
pub const GLOSSARY: &str = "docs/po/GLOSSARY.md";

/// `mdbook build` of `language`'s edition into `out`.
pub fn build_edition(
    tools: &BookTools,
    docs: &Path,
    out: &Path,
    language: Language,
) -> std::io::Result<Output> {
    let mut command = Command::new(&tools.mdbook);
    command
        .arg("build")
        .arg(docs)
        .arg("--dest-dir")
        .arg(out)
        .env("PATH", path_with(&tools.helpers));
    if language == Language::Japanese {
        command
            .env("MDBOOK_BOOK__LANGUAGE", language.code())
            .env("MDBOOK_BOOK__TITLE", JAPANESE_TITLE);
    }
    command.output()
}

/// The messages of the English chapters, as `mdbook-xgettext` extracts them (`just po`),
/// written to `out/messages.pot` and returned as their msgids.
pub fn extract_messages(
    tools: &BookTools,
    docs: &Path,
    out: &Path,
) -> anyhow::Result<BTreeSet<String>> {
    let output = Command::new(&tools.mdbook)
        .arg("build")
        .arg(docs)
        .arg("--dest-dir")
        .arg(out)
        .env("PATH", path_with(&tools.helpers))
        .env(
            "MDBOOK_OUTPUT",
            r#"{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}"#,
        )
        .output()
        .context("cannot run mdbook")?;
    ensure!(
        output.status.success(),
        "mdbook-xgettext failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pot = out.join("messages.pot");
    let catalog =
        polib::po_file::parse(&pot).map_err(|e| anyhow::anyhow!("{}: {e}", pot.display()))?;
    Ok(msgids(&catalog))
}

/// Whether a message is code rather than prose: mdbook-xgettext takes the comments and
/// string literals of a code block as a message (a Python block's `{{#include ...}}` reads
/// as a comment, a `text` block with a URL as a whole), and such a message stays
/// untranslated, so the book shows the code as it is.
pub fn is_code(msgid: &str) -> bool {
    msgid.starts_with("```") || msgid.starts_with("#include ")
}

/// Every msgid of `catalog`.
pub fn msgids(catalog: &polib::catalog::Catalog) -> BTreeSet<String> {
    catalog.messages().map(|m| m.msgid().to_owned()).collect()
}

/// The inline code spans of a markdown message (`` `x` ``, ``` `` a`b `` ```), as written.
pub fn code_spans(markdown: &str) -> BTreeSet<String> {
    let mut spans = BTreeSet::new();
    let mut rest = markdown;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let fence = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(fence) {
            Some(end) => {
                spans.insert(after[..end].to_owned());
                rest = &after[end + ticks..];
            }
            None => break,
        }
    }
    spans
}

/// The targets of a markdown message's inline links, `[text](target)`.
pub fn link_targets(markdown: &str) -> BTreeSet<String> {
    markdown
        .match_indices("](")
        .filter_map(|(at, _)| {
            let target = &markdown[at + 2..];
            target.find(')').map(|end| target[..end].to_owned())
        })
        .collect()
}

/// The katakana words of `text`: each maximal run of katakana and the long-vowel mark.
pub fn katakana_words(text: &str) -> Vec<&str> {
    let is_katakana = |c: char| ('\u{30A0}'..='\u{30FF}').contains(&c) && c != '・';
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (is_katakana(c), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                words.push(&text[from..at]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        words.push(&text[from..]);
    }
    words
}

/// The renderings the glossary rejects: its table's last column, split at 、 and commas.
pub fn rejected_terms(glossary: &str) -> BTreeSet<String> {
    glossary
        .lines()
        .filter(|line| line.starts_with('|') && !line.starts_with("|---"))
        .skip(1) // the header
        .filter_map(|line| line.trim().trim_end_matches('|').rsplit('|').next())
        .flat_map(|cell| cell.split(['、', ',']))
        .map(str::trim)
        .filter(|term| !term.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What is wrong with one translation: a code span or link target of `msgid` missing from
/// `msgstr` or added to it, or a word the glossary rejects.
pub fn problems(msgid: &str, msgstr: &str, rejected: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let (want, got) = (code_spans(msgid), code_spans(msgstr));
    for span in want.symmetric_difference(&got) {
        let side = if want.contains(span) { "lost" } else { "added" };
        problems.push(format!("code `{span}` {side}"));
    }
    let (want, got) = (link_targets(msgid), link_targets(msgstr));
    for target in want.symmetric_difference(&got) {
        let side = if want.contains(target) {
            "lost"
        } else {
            "added"
        };
        problems.push(format!("link target ({target}) {side}"));
    }
    for word in katakana_words(msgstr) {
        if rejected.contains(word) {
            problems.push(format!("{word}: the glossary rejects it"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_of_any_fence_are_found_and_an_unclosed_one_is_not() {
        let spans = code_spans("a `x` and ``y`z`` then `open");
        assert_eq!(spans, BTreeSet::from(["x".to_owned(), "y`z".to_owned()]));
    }

    #[test]
    fn a_code_block_or_an_include_read_as_a_comment_is_code_and_prose_is_not() {
        assert!(is_code("```text\ncargo run -p queue # http://x\n```"));
        assert!(is_code(
            "#include ../../../patterns/queue/python/queue_demo.py:run}}\n"
        ));
        assert!(!is_code(
            "`#[tokio::main]`, or `Runtime::new()?.block_on(main())`"
        ));
        assert!(!is_code("The `#include` directive"));
    }

    #[test]
    fn katakana_words_stop_at_anything_else() {
        assert_eq!(
            katakana_words("サーバーとサーバ、タスク・キュー"),
            ["サーバー", "サーバ", "タスク", "キュー"]
        );
    }

    #[test]
    fn the_glossary_s_last_column_is_what_it_rejects() {
        let glossary = "| English | 日本語 | not |\n|---|---|---|\n| server | サーバー | サーバ |\n\
                        | x | y | a、b, c |\n| task | タスク | |\n";
        let rejected = rejected_terms(glossary);
        assert_eq!(
            rejected,
            ["a", "b", "c", "サーバ"].map(str::to_owned).into()
        );
    }

    #[test]
    fn a_translation_that_drops_code_changes_a_link_or_uses_a_rejected_word_is_named() {
        let rejected = BTreeSet::from(["サーバ".to_owned()]);
        let msgid = "Use `spawn` ([tasks](tasks.md)) on the server.";
        assert!(
            problems(
                msgid,
                "サーバーで `spawn` を使う（[tasks](tasks.md)）。",
                &rejected
            )
            .is_empty()
        );
        assert_eq!(
            problems(
                msgid,
                "サーバで spawn を使う（[tasks](gather.md)）。",
                &rejected
            ),
            [
                "code `spawn` lost",
                "link target (gather.md) added",
                "link target (tasks.md) lost",
                "サーバ: the glossary rejects it"
            ]
        );
    }
}
