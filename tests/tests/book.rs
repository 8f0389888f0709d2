//! The book read as its readers read it: built with the pinned mdBook, every page opened in
//! headless Chromium at a desktop, a laptop and a small-laptop width. A page fails when a
//! code block or table is wider than its column (it would scroll sideways or be cut off), an
//! include is left unresolved, rustdoc link syntax or raw markdown (`**`, backticks) shows
//! as text, a Python/Rust pair is unlabelled,
//! or a link inside the book leads nowhere. Every pattern must be reachable from the
//! introduction by links alone. The Japanese edition (`book/ja/`, from `docs/po/ja.po`)
//! is read the same way at the desktop and the small-laptop width, and every page of each
//! edition must link to its counterpart in the other, whose headings keep the same ids.
//! Screenshots of a few pages are saved under `target/tmp/book/`. Skips visibly without
//! mdBook, mdbook-i18n-helpers or Chromium; fails under `CI=true`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use external_tools::chromium::ChromeDriver;
use external_tools::mdbook::Language;
use external_tools::{mdbook, require, workspace_root};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;

/// A desktop screen, a laptop's and a small laptop's.
const WIDTHS: [(u32, u32); 3] = [(1920, 1080), (1280, 800), (1024, 768)];

/// The Japanese edition is read at the widest and the narrowest of them.
const JAPANESE_WIDTHS: [(u32, u32); 2] = [WIDTHS[0], WIDTHS[2]];

/// Pages photographed at the desktop width.
const SCREENSHOTS: [&str; 4] = [
    "introduction.html",
    "asyncio-to-tokio.html",
    "patterns/gather.html",
    "foundations/core.html",
];

/// What `INSPECT` reports of one page.
#[derive(Debug, Deserialize)]
struct Inspection {
    problems: Vec<String>,
    links: Vec<String>,
    pairs: usize,
    wide_pairs: usize,
    /// The link to this page in the other edition (catalogue.js), if there is one.
    switch: Option<String>,
}

/// Runs in the page once catalogue.js has laid it out.
const INSPECT: &str = r##"
const main = document.querySelector("#mdbook-content main");
const problems = [];
const name = (el) => el.tagName.toLowerCase() + ' "' +
    (el.innerText || "").trim().split("\n")[0].slice(0, 70) + '"';
const page = document.documentElement.clientWidth;
for (const el of main.querySelectorAll("pre > code, .table-wrapper, table, img")) {
    if (el.scrollWidth > el.clientWidth + 1) {
        problems.push(`wider than its column by ${el.scrollWidth - el.clientWidth} px: ${name(el)}`);
    }
    const box = el.getBoundingClientRect();
    if (box.right > page + 1 || box.left < -1) {
        problems.push(`past the edge of the page: ${name(el)}`);
    }
}
if (main.innerText.includes("{{#")) {
    problems.push("an unresolved mdBook directive");
}
// Markdown the renderer did not take (a paragraph glued to an HTML block, say) shows its
// stars and backticks as text; in code they are code.
const prose = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement.closest("pre, code")
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
});
for (let node = prose.nextNode(); node; node = prose.nextNode()) {
    const text = node.textContent;
    if (/\*\*\S/.test(text) || /`[^`\s][^`]*`/.test(text)) {
        problems.push(`markdown shown as text: "${text.trim().slice(0, 90)}"`);
    }
}
const literal = /\[`[^`\]]+`\]|\]\((?:self|crate|super)\b/;
for (const line of main.innerText.split("\n")) {
    if (literal.test(line)) {
        problems.push(`rustdoc link syntax shown as text: "${line.trim().slice(0, 90)}"`);
    }
}
for (const code of main.querySelectorAll(":not(pre) > code")) {
    const before = code.previousSibling, after = code.nextSibling;
    if (before && after && /\[$/.test(before.textContent) && /^\]/.test(after.textContent)) {
        problems.push(`rustdoc link syntax shown as text: [${code.textContent}]`);
    }
}
const pairs = main.querySelectorAll(".side-by-side");
for (const pair of pairs) {
    const sides = Array.from(pair.children).map((side) => [
        (side.querySelector("p") || { innerText: "" }).innerText.trim().split(" ")[0],
        side.querySelector("pre code") ? side.querySelector("pre code").className : "none",
    ]);
    const labelled = sides.length === 2 &&
        sides[0][0] === "Python" && sides[0][1].includes("language-python") &&
        sides[1][0] === "Rust" && sides[1][1].includes("language-rust");
    if (!labelled) {
        problems.push(`a pair not labelled Python then Rust: ${JSON.stringify(sides)}`);
    }
}
const links = Array.from(main.querySelectorAll("a[href]")).map((a) => a.href)
    .filter((href) => href.startsWith("file://"));
const switchLink = document.querySelector("#mdbook-menu-bar a.language-switch");
return { problems, links, pairs: pairs.length,
         wide_pairs: main.querySelectorAll(".side-by-side.wide").length,
         switch: switchLink ? switchLink.href : null };
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_its_column_and_every_link_resolves() {
    let Some(tools) = require(
        "mdBook and mdbook-i18n-helpers (the book test)",
        mdbook::find_book_tools(),
    ) else {
        return;
    };
    let Some(driver) = require("headless Chromium (the book test)", ChromeDriver::start()) else {
        return;
    };
    let book = tempfile::tempdir().unwrap();
    let japanese = book.path().join(Language::Japanese.folder());
    build(&tools, book.path(), Language::English);
    build(&tools, &japanese, Language::Japanese);

    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(driver.headless_capabilities())
        .connect(&driver.url())
        .await
        .expect("a WebDriver session");
    let mut problems = Vec::new();
    let (mut pairs, mut wide_pairs) = (0, 0);
    for (language, root, widths) in [
        (Language::English, book.path(), &WIDTHS[..]),
        (Language::Japanese, japanese.as_path(), &JAPANESE_WIDTHS[..]),
    ] {
        let pages = pages(root, language);
        assert!(pages.len() >= 20, "only {} pages built", pages.len());
        let mut links = BTreeMap::new();
        for &(width, height) in widths {
            browser.set_window_size(width, height).await.unwrap();
            for page in &pages {
                let seen = inspect(&browser, page).await;
                let name = page_name(book.path(), page);
                let at = format!("{name} at {width} px");
                problems.extend(seen.problems.iter().map(|p| format!("{at}: {p}")));
                if width == widths[0].0 {
                    problems.extend(counterpart_problems(book.path(), page, language, &seen));
                    if language == Language::English {
                        pairs += seen.pairs;
                        wide_pairs += seen.wide_pairs;
                    }
                    links.insert(page.clone(), seen.links);
                    if SCREENSHOTS.contains(&page_name(root, page).as_str()) {
                        screenshot(&browser, &name).await;
                    }
                }
            }
        }
        problems.extend(broken_links(&links));
        problems.extend(unreachable_patterns(root, &links));
    }
    browser.close().await.unwrap();

    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "{wide_pairs} of {pairs} Python/Rust pairs side by side at {} px",
        WIDTHS[0].0
    );
    assert!(pairs >= 30, "only {pairs} Python/Rust pairs in the book");
    assert!(
        wide_pairs * 2 >= pairs,
        "only {wide_pairs} of {pairs} pairs side by side on a desktop screen"
    );
}

/// What is wrong with `page`'s link to the same page in the other edition: it is missing,
/// leads elsewhere, or lands on a page whose headings have other ids (a link to a section
/// would then miss it). A page title shared with the table of contents keeps its own
/// words' id, since mdBook shows the translated title beside it.
fn counterpart_problems(
    book: &Path,
    page: &Path,
    language: Language,
    seen: &Inspection,
) -> Vec<String> {
    let name = page_name(book, page);
    let japanese = book.join(Language::Japanese.folder());
    let counterpart = match language {
        Language::English => japanese.join(page.strip_prefix(book).unwrap()),
        Language::Japanese => book.join(page.strip_prefix(&japanese).unwrap()),
    };
    let Some(switch) = &seen.switch else {
        return vec![format!("{name}: no link to the other edition")];
    };
    let (target, _) = split(switch);
    if target.canonicalize().ok() != counterpart.canonicalize().ok() {
        return vec![format!(
            "{name}: the other edition's link leads to {}, not {}",
            target.display(),
            counterpart.display()
        )];
    }
    let ids = |path: &Path| -> Vec<String> {
        let html = std::fs::read_to_string(path).unwrap_or_default();
        html.split("<h")
            .skip(1)
            .filter(|h| h.starts_with(['2', '3', '4', '5', '6']))
            .filter_map(|h| h.split_once('>').map(|(tag, _)| tag))
            .filter_map(|tag| tag.split_once("id=\"").and_then(|(_, r)| r.split_once('"')))
            .map(|(id, _)| id.to_owned())
            .collect()
    };
    if ids(page) != ids(&counterpart) {
        return vec![format!(
            "{name}: its section ids differ from its counterpart's, {:?} against {:?}",
            ids(page),
            ids(&counterpart)
        )];
    }
    Vec::new()
}

/// Builds `language`'s edition of the book into `out`, failing on any warning or error
/// mdBook prints (a missing include, a translation that no longer parses).
fn build(tools: &mdbook::BookTools, out: &Path, language: Language) {
    let docs = workspace_root().join("docs");
    let output = workspace_tests::i18n::build_edition(tools, &docs, out, language).unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mdbook build failed:\n{log}");
    let complaints: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    assert!(
        complaints.is_empty(),
        "mdbook complained:\n{}",
        complaints.join("\n")
    );
}

/// An edition's pages: every HTML file but mdBook's own (404, print, the table of
/// contents), and for the English book, none of the Japanese edition built inside it.
fn pages(book: &Path, language: Language) -> Vec<PathBuf> {
    let japanese = book.join(Language::Japanese.folder());
    let mut pages = Vec::new();
    let mut dirs = vec![book.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let other_edition = language == Language::English && path == japanese;
            if path.is_dir() && !path.ends_with("code") && !other_edition {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "html")
                && !["404.html", "print.html", "toc.html"]
                    .iter()
                    .any(|own| path.ends_with(own))
            {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

fn page_name(book: &Path, page: &Path) -> String {
    page.strip_prefix(book).unwrap().display().to_string()
}

async fn inspect(browser: &Client, page: &Path) -> Inspection {
    browser
        .goto(&format!("file://{}", page.display()))
        .await
        .unwrap();
    // catalogue.js marks the page once it has rendered doc links and laid out the pairs.
    browser
        .wait()
        .for_element(fantoccini::Locator::Css("html[data-catalogue=ready]"))
        .await
        .unwrap_or_else(|e| panic!("{}: catalogue.js never finished: {e}", page.display()));
    let value = browser.execute(INSPECT, vec![]).await.unwrap();
    serde_json::from_value(value).unwrap()
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name.replace('/', "-").replace(".html", ".png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// Links to a file that does not exist, or to an anchor its page does not have.
fn broken_links(links: &BTreeMap<PathBuf, Vec<String>>) -> Vec<String> {
    let mut broken = Vec::new();
    for (page, hrefs) in links {
        for href in hrefs {
            let (file, fragment) = split(href);
            let text = std::fs::read_to_string(&file);
            let ok = match (&text, fragment) {
                (Err(_), _) => file.is_dir() || file.is_file(),
                (Ok(_), None) => true,
                (Ok(html), Some(id)) => html.contains(&format!("id=\"{id}\"")),
            };
            if !ok {
                broken.push(format!("{}: broken link {href}", page.display()));
            }
        }
    }
    broken
}

/// Patterns a reader cannot reach from the introduction by following links in pages.
fn unreachable_patterns(book: &Path, links: &BTreeMap<PathBuf, Vec<String>>) -> Vec<String> {
    let start = book.join("introduction.html");
    let mut seen = BTreeSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    while let Some(page) = queue.pop_front() {
        for href in links.get(&page).into_iter().flatten() {
            let (file, _) = split(href);
            if links.contains_key(&file) && seen.insert(file.clone()) {
                queue.push_back(file);
            }
        }
    }
    links
        .keys()
        .filter(|page| page.starts_with(book.join("patterns")) && !seen.contains(*page))
        .map(|page| format!("{}: not reachable from the introduction", page.display()))
        .collect()
}

/// A `file://` URL as a path and its fragment, both percent-decoded (a Japanese heading's
/// id is written `%E3...` in a link).
fn split(href: &str) -> (PathBuf, Option<String>) {
    let href = href.trim_start_matches("file://");
    let (path, fragment) = match href.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment).filter(|f| !f.is_empty())),
        None => (href, None),
    };
    (
        PathBuf::from(percent_decoded(path)),
        fragment.map(percent_decoded),
    )
}

/// `text` with each `%XX` replaced by its byte, read as UTF-8.
fn percent_decoded(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(decoded) if byte == b'%' => {
                bytes.push(decoded);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn a_link_is_split_and_percent_decoded() {
    let (path, fragment) = split("file:///b/ja/a%20b.html#%E3%83%99%E3%83%B3%E3%83%81");
    assert_eq!(path, Path::new("/b/ja/a b.html"));
    assert_eq!(fragment.as_deref(), Some("ベンチ"));
    assert_eq!(split("file:///b/c.html#").1, None);
    assert_eq!(percent_decoded("100%"), "100%");
}
