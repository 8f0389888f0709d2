//! The book builds from what exists: includes name real files and anchors, code is never
//! pasted, every pattern has its chapter (whose expansion is its README), its SUMMARY entry, its asyncio → tokio rows
//! and its line in the README. Excerpts are short, and a section that shows Rust shows the
//! Python beside it or says why there is none.

use std::fs;

use external_tools::mdbook::Language;
use workspace_tests::chapters::{catalog, readme};
use workspace_tests::docs::{
    MAX_EXCERPT_LINES, anchors_inside_bodies, check_includes, sections_after_the_figures,
    sections_without_python,
};
use workspace_tests::{patterns, rust_files, workspace_root};

#[test]
fn every_include_of_the_book_resolves() {
    let src = workspace_root().join("docs/src");
    let mut problems = Vec::new();
    let mut chapters = 0;
    for entry in walk(&src) {
        if entry.extension().is_some_and(|e| e == "md") {
            chapters += 1;
            problems.extend(check_includes(&entry));
        }
    }
    assert!(chapters >= 5, "found {chapters} pages");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_pattern_has_a_chapter_a_summary_entry_mapping_rows_and_a_readme_line() {
    let root = workspace_root();
    let summary = fs::read_to_string(root.join("docs/src/SUMMARY.md")).unwrap();
    let mapping = fs::read_to_string(root.join("docs/src/asyncio-to-tokio.md")).unwrap();
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    for pattern in patterns().unwrap() {
        let name = &pattern.name;
        let chapter = root.join(format!("docs/src/patterns/{name}.md"));
        let text = fs::read_to_string(&chapter)
            .unwrap_or_else(|_| panic!("{name}: no chapter at {}", chapter.display()));
        assert!(
            text.starts_with(&format!("# {name}")),
            "{name}: the chapter's title does not name the pattern"
        );
        assert!(
            summary.contains(&format!("(patterns/{name}.md)")),
            "{name}: not in SUMMARY.md"
        );
        assert!(
            mapping.contains(&format!("(patterns/{name}.md)")),
            "{name}: no asyncio → tokio rows"
        );
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name}: not in the README's table"
        );
    }
}

#[test]
fn every_readme_is_its_chapter_expanded_and_fresh() {
    let root = workspace_root();
    let mut stale = Vec::new();
    for language in Language::ALL {
        let catalog = catalog(&root, language).unwrap();
        for pattern in patterns().unwrap() {
            let expected = readme(&root, &pattern.name, language, catalog.as_ref()).unwrap();
            let path = pattern.dir.join(language.readme());
            if fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale, rewrite with `cargo run -p workspace-tests --bin readmes`: {stale:?}"
    );
}

#[test]
fn a_readme_reads_well_as_a_plain_file() {
    let root = workspace_root();
    let text = readme(&root, "gather", Language::English, None).unwrap();
    assert!(!text.contains("{{#include"), "an include left unexpanded");
    // The chapter's include of its Python, expanded.
    assert!(text.contains("async def"), "no Python in the README");
    // Links from the book's folder, rewritten to work from the pattern's.
    assert!(
        text.contains("(../rate-limit/README.md)"),
        "a chapter link not rewritten"
    );
    assert!(
        text.contains("(../../docs/src/figures/gather.svg)"),
        "a figure's path not rewritten"
    );
}

#[test]
fn a_japanese_readme_is_the_translated_chapter_with_the_same_code() {
    let root = workspace_root();
    let catalog = catalog(&root, Language::Japanese).unwrap();
    let english = readme(&root, "gather", Language::English, None).unwrap();
    let japanese = readme(&root, "gather", Language::Japanese, catalog.as_ref()).unwrap();
    assert!(
        !japanese.contains("{{#include"),
        "an include left unexpanded"
    );
    assert!(
        english.contains("[日本語](README.ja.md)"),
        "no link to the Japanese"
    );
    assert!(
        japanese.contains("[English](README.md)"),
        "no link to the English"
    );
    // Links to other chapters lead to their Japanese READMEs.
    assert!(
        japanese.contains("(../rate-limit/README.ja.md)"),
        "{japanese}"
    );
    // The Japanese copy section and figure, not the English ones.
    assert!(
        japanese.contains("そのままコンパイルできます"),
        "{japanese}"
    );
    assert!(japanese.contains("| バリアント |"), "{japanese}");
    // Every fenced code block of the English is in the Japanese, unchanged.
    let blocks = |text: &str| -> Vec<String> {
        text.split("```")
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    for block in blocks(&english).iter().filter(|b| !b.starts_with("toml")) {
        assert!(
            japanese.contains(block.as_str()),
            "code missing from the Japanese:\n{block}"
        );
    }
}

#[test]
fn every_section_that_shows_rust_shows_its_python_or_says_why() {
    let root = workspace_root();
    let mut missing = Vec::new();
    for pattern in patterns().unwrap() {
        let chapter = root.join(format!("docs/src/patterns/{}.md", pattern.name));
        let text = fs::read_to_string(&chapter).unwrap();
        for title in sections_without_python(&text) {
            missing.push(format!("{}: ## {title}", chapter.display()));
        }
    }
    assert!(
        missing.is_empty(),
        "sections with Rust and no Python: pair them, or write a **Rust only.** line saying \
         why:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_section_passes_with_its_python_or_a_reason_and_fails_without() {
    let chapter = "# p\n\nintro ```rust\n\n## Paired\n<div class=\"side-by-side\"><div>\n\
                   ```python\n```\n</div><div>\n```rust\n```\n</div></div>\n\
                   ## Stacked, unlabelled\n```python\n```\n```rust\n```\n\
                   ## Explained\n**Rust only.** asyncio has no such thing.\n```rust\n```\n\
                   ## Bare\n```rust\n```\n## Prose only\nwords\n\
                   ## Pair in a subsection\n```rust\n```\n### Sub\n\
                   <div class=\"side-by-side\"><div>\n```python\n```\n</div></div>\n";
    assert_eq!(
        sections_without_python(chapter),
        ["Stacked, unlabelled", "Bare"]
    );
}

#[test]
fn python_commands_run_the_virtual_environments_python() {
    let root = workspace_root();
    let mut pages: Vec<_> = walk(&root.join("docs/src"));
    pages.push(root.join("README.md"));
    let mut wrong = Vec::new();
    for page in pages
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let text = fs::read_to_string(page).unwrap();
        for (number, line) in text.lines().enumerate() {
            let command = line.trim_start();
            // A bare `python` has none of the packages: ModuleNotFoundError: aiohttp.
            if (command.starts_with("python ") || command.starts_with("python3 "))
                && !command.contains("-m venv")
            {
                wrong.push(format!("{}:{}: {command}", page.display(), number + 1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "use .venv/bin/python:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_catches_missing_files_anchors_line_numbers_long_excerpts_and_pasted_code() {
    let dir = std::env::temp_dir().join(format!("docs-check-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("code.rs"),
        "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n",
    )
    .unwrap();
    let long: String = (0..=MAX_EXCERPT_LINES)
        .map(|i| format!("let x{i} = {i};\n"))
        .collect();
    fs::write(
        dir.join("long.rs"),
        format!("// ANCHOR: long\n{long}// ANCHOR_END: long\n"),
    )
    .unwrap();
    let page = dir.join("page.md");
    fs::write(
        &page,
        "```rust\n{{#include code.rs:here}}\n```\n```rust\n{{#include code.rs:gone}}\n```\n\
         ```rust\n{{#include missing.rs}}\n```\n```rust\n{{#include code.rs:1:2}}\n```\n\
         ```python\nprint('pasted')\n```\n```text\nfree text is fine\n```\n\
         ```rust\n{{#include long.rs:long}}\n```\n",
    )
    .unwrap();
    let problems = check_includes(&page);
    fs::remove_dir_all(&dir).unwrap();
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(has("named \"gone\""), "{problems:?}");
    assert!(has("no file"), "{problems:?}");
    assert!(has("line numbers"), "{problems:?}");
    assert!(has("code pasted"), "{problems:?}");
    assert!(has("41 lines; show at most 40"), "{problems:?}");
    assert_eq!(
        problems.len(),
        5,
        "the valid include and the text block pass: {problems:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        // docs/src/code/<pattern> links each pattern's folder into the book (for links to
        // whole source files); the generated READMEs in there are not book pages.
        if entry.file_type().unwrap().is_symlink() {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// No book markup is cut into code: in every Rust file the book can show (the patterns'
/// libraries, demos, tests and benchmarks, and `crates/*/src`), anchors stand between items
/// only, so the book shows whole items and whoever copies a file copies no markup inside
/// its code.
#[test]
fn no_anchor_stands_inside_a_body() {
    let root = workspace_root();
    let mut sources = Vec::new();
    for pattern in patterns().unwrap() {
        for part in ["src", "tests", "benches"] {
            sources.extend(rust_files(&pattern.dir.join(part)));
        }
    }
    for entry in fs::read_dir(root.join("crates")).unwrap() {
        sources.extend(rust_files(&entry.unwrap().path().join("src")));
    }
    assert!(sources.len() > 150, "found {} Rust files", sources.len());
    let mut inside = Vec::new();
    for file in sources {
        let text = fs::read_to_string(&file).unwrap();
        for found in anchors_inside_bodies(&text) {
            inside.push(format!("{}:{found}", file.display()));
        }
    }
    assert!(
        inside.is_empty(),
        "anchors inside a body:\n{}",
        inside.join("\n")
    );
}

/// The anchor reader, on small cases: between items and between an impl's methods is
/// fine; inside a fn, a closure or a struct is not; braces in strings do not count.
#[test]
fn anchors_are_read_inside_bodies_only() {
    let source = r#"
// ANCHOR: a
fn a() {
    let s = "{";
    // ANCHOR: inside_fn
}
// ANCHOR_END: a
impl Foo {
    // ANCHOR: method
    fn m(&self) -> impl Future<Output = ()> {
        async {
            // ANCHOR: inside_block
        }
    }
    // ANCHOR_END: method
}
mod m {
    // ANCHOR: in_mod
    struct S {
        // ANCHOR: in_struct
    }
}
"#;
    let found: Vec<String> = anchors_inside_bodies(source)
        .into_iter()
        .map(|f| f.split_once(": ").unwrap().1.to_owned())
        .collect();
    assert_eq!(
        found,
        [
            "// ANCHOR: inside_fn",
            "// ANCHOR: inside_block",
            "// ANCHOR: in_struct"
        ]
    );
}

/// The asyncio names a Python programmer porting socket and event-loop code meets; each
/// must have a row of its own on the asyncio → tokio page (in the asyncio column).
const ASYNCIO_NAMES: &[&str] = &[
    "create_datagram_endpoint",
    "DatagramProtocol",
    "start_unix_server",
    "open_unix_connection",
    "start_tls",
    "ssl=",
    "readexactly",
    "readuntil",
    "at_eof",
    "IncompleteReadError",
    "LimitOverrunError",
    "StreamWriter",
    "writelines",
    "Protocol",
    "Transport",
    "create_connection",
    "create_server",
    "get_running_loop",
    "get_event_loop",
    "new_event_loop",
    "run_forever",
    "Runner",
    "call_soon",
    "ensure_future",
    "wrap_future",
    "iscoroutine",
    "set_exception_handler",
    "set_debug",
    "shutdown_default_executor",
    "add_reader",
    "get_name",
    "set_name",
    "uncancel",
    "qsize",
    "BrokenBarrierError",
    "InvalidStateError",
    "ALL_COMPLETED",
    "create_subprocess_shell",
    "copy_context",
];

#[test]
fn every_asyncio_name_on_the_list_has_a_row_on_the_map() {
    let root = workspace_root();
    let mapping = fs::read_to_string(root.join("docs/src/asyncio-to-tokio.md")).unwrap();
    // The first cell of every table row, header and rule left out.
    let asyncio_cells: Vec<&str> = mapping
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| asyncio |"))
        .filter_map(|line| line.split(" | ").next())
        .collect();
    let missing: Vec<&str> = ASYNCIO_NAMES
        .iter()
        .copied()
        .filter(|name| !asyncio_cells.iter().any(|cell| cell.contains(name)))
        .collect();
    assert!(
        missing.is_empty(),
        "no row on the asyncio → tokio page for {missing:?}"
    );
}

/// Phrases that speak about the project instead of to the reader: the targets a chapter
/// was written to, what a crate aimed for, how a bug was found. Reader text says what
/// the code does, what was measured and what it means.
const NOT_FOR_THE_READER: &[&str] = &[
    "aimed for",
    "aimed at",
    "catalogue's target",
    "targets this chapter",
    "chapter was written to",
    "first version",
    "a bug we",
    "we found",
    "todo:",
    "fixme",
];

#[test]
fn reader_text_speaks_of_the_code_not_of_the_project() {
    let src = workspace_root().join("docs/src");
    let mut found = Vec::new();
    let mut pages = 0;
    for page in walk(&src) {
        // Generated figures quote what a run recorded; they are checked where generated.
        if page.extension().is_none_or(|e| e != "md") || page.starts_with(src.join("figures")) {
            continue;
        }
        pages += 1;
        let text = fs::read_to_string(&page).unwrap().to_lowercase();
        for (n, line) in text.lines().enumerate() {
            for phrase in NOT_FOR_THE_READER {
                if line.contains(phrase) {
                    found.push(format!("{}:{}: {phrase:?}", page.display(), n + 1));
                }
            }
        }
    }
    assert!(pages >= 20, "found {pages} pages");
    assert!(
        found.is_empty(),
        "not for the reader:\n{}",
        found.join("\n")
    );
}

/// Twelve lookups a newcomer makes, each as text its row's asyncio cell holds. Each must
/// land on a row of the asyncio → tokio page that links to a chapter: the map, then one
/// click.
const LOOKUPS: &[&str] = &[
    "return_exceptions=True",
    "CancelledError",
    "queue.join()",
    "time.sleep",
    "ClientTimeout",
    "async for",
    "asyncio.TaskGroup",
    "start_server",
    "@app.get",
    "create_datagram_endpoint",
    "run_in_executor",
    "pytest",
];

#[test]
fn a_newcomers_lookups_land_on_a_row_that_links_to_its_chapter() {
    let root = workspace_root();
    let mapping = fs::read_to_string(root.join("docs/src/asyncio-to-tokio.md")).unwrap();
    let rows: Vec<(&str, &str)> = mapping
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| asyncio |"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            Some((*cells.first()?, *cells.last()?))
        })
        .collect();
    let lost: Vec<&str> = LOOKUPS
        .iter()
        .copied()
        .filter(|lookup| {
            !rows.iter().any(|(asyncio, shown_in)| {
                asyncio.to_lowercase().contains(&lookup.to_lowercase())
                    && shown_in.contains("](patterns/")
            })
        })
        .collect();
    assert!(lost.is_empty(), "no row leads to a chapter for {lost:?}");
}

#[test]
fn a_chapters_recorded_benchmark_comes_last() {
    let root = workspace_root();
    let mut problems = Vec::new();
    let mut with_figures = 0;
    for pattern in patterns().unwrap() {
        let name = &pattern.name;
        let text = fs::read_to_string(root.join(format!("docs/src/patterns/{name}.md"))).unwrap();
        if text.contains("{{#include ../figures/") {
            with_figures += 1;
        }
        for title in sections_after_the_figures(&text) {
            problems.push(format!("{name}: \"## {title}\" comes after the benchmark"));
        }
    }
    assert!(
        with_figures >= 10,
        "found {with_figures} chapters with figures"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_section_after_the_figures_is_found_and_the_mutation_record_is_not_a_benchmark() {
    let chapter = "## Bench\n{{#include ../figures/queue.md}}\n## Pitfalls\n- one\n";
    assert_eq!(sections_after_the_figures(chapter), ["Pitfalls"]);
    let last = "## Pitfalls\n## Bench\n{{#include ../figures/queue.md}}\n";
    assert!(sections_after_the_figures(last).is_empty());
    let mutants = "## Mutants\n{{#include ../figures/mutants.md}}\n## Pytest\n";
    assert!(sections_after_the_figures(mutants).is_empty());
}
