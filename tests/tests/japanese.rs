//! The Japanese edition is in step with the English. Every message of the chapters has its
//! translation in `docs/po/ja.po`: none missing, none fuzzy, none left from text that is
//! gone; a message that is code stays untranslated, so code is never copied into the
//! translation. Each translation keeps its message's code and link targets and uses no
//! term the glossary (`docs/po/GLOSSARY.md`) rejects. The browser checks of the built edition are
//! in `tests/book.rs`; the freshness of each `README.ja.md` is in `tests/docs.rs`.

use std::collections::BTreeSet;

use external_tools::{mdbook, require, workspace_root};
use polib::catalog::Catalog;
use workspace_tests::chapters::JAPANESE_PO;
use workspace_tests::i18n;

fn japanese() -> Catalog {
    let path = workspace_root().join(JAPANESE_PO);
    polib::po_file::parse(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first line of each message, enough to find it in the file.
fn first_lines<'a>(messages: impl IntoIterator<Item = &'a String>) -> String {
    messages
        .into_iter()
        .map(|m| format!("  {}", m.lines().next().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_message_of_ja_po_is_translated_and_none_is_fuzzy() {
    let catalog = japanese();
    let (mut fuzzy, mut untranslated, mut copied_code) = (Vec::new(), Vec::new(), Vec::new());
    for message in catalog.messages() {
        let msgid = message.msgid().to_owned();
        if message.is_fuzzy() {
            fuzzy.push(msgid);
        } else if i18n::is_code(&msgid) {
            if message.is_translated() {
                copied_code.push(msgid);
            }
        } else if !message.is_translated() {
            untranslated.push(msgid);
        }
    }
    assert!(catalog.count() > 2000, "only {} messages", catalog.count());
    assert!(
        fuzzy.is_empty() && untranslated.is_empty(),
        "docs/po/ja.po: {} fuzzy (the English changed: update the translation, then remove \
         the fuzzy flag) and {} untranslated (`just po` lists both):\n{}\n{}",
        fuzzy.len(),
        untranslated.len(),
        first_lines(&fuzzy),
        first_lines(&untranslated)
    );
    assert!(
        copied_code.is_empty(),
        "docs/po/ja.po: {} code blocks have a msgstr; leave code untranslated (msgstr \"\"), \
         so the book shows the code itself:\n{}",
        copied_code.len(),
        first_lines(&copied_code)
    );
}

#[test]
fn ja_po_holds_exactly_the_messages_of_the_english_chapters() {
    let Some(tools) = require(
        "mdBook and mdbook-i18n-helpers (the Japanese messages test)",
        mdbook::find_book_tools(),
    ) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let docs = workspace_root().join("docs");
    let english = i18n::extract_messages(&tools, &docs, out.path()).unwrap();
    let japanese = i18n::msgids(&japanese());
    let missing: Vec<&String> = english.difference(&japanese).collect();
    let stale: Vec<&String> = japanese.difference(&english).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/po/ja.po is behind the chapters: run `just po`, then translate what it lists.\n\
         {} messages not in ja.po:\n{}\n{} in ja.po that the chapters no longer have:\n{}",
        missing.len(),
        first_lines(missing),
        stale.len(),
        first_lines(stale)
    );
}

#[test]
fn every_translation_keeps_its_code_and_links_and_the_glossary_s_terms() {
    let glossary = std::fs::read_to_string(workspace_root().join(i18n::GLOSSARY)).unwrap();
    let rejected = i18n::rejected_terms(&glossary);
    assert!(
        rejected.contains("サーバ"),
        "the glossary's last column was not read"
    );
    let mut found = Vec::new();
    for message in japanese().messages() {
        // Code stays untranslated; the first test finds any other empty msgstr.
        let Some(msgstr) = message.msgstr().ok().filter(|s| !s.is_empty()) else {
            continue;
        };
        for problem in i18n::problems(message.msgid(), msgstr, &rejected) {
            let first = message.msgid().lines().next().unwrap_or_default();
            found.push(format!(
                "{problem}: {}",
                first.chars().take(80).collect::<String>()
            ));
        }
    }
    let distinct: BTreeSet<&String> = found.iter().collect();
    assert!(
        found.is_empty(),
        "{} translations in docs/po/ja.po to fix:\n{}",
        distinct.len(),
        found.join("\n")
    );
}
