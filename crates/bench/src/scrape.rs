//! `scrape`: crawl one local site, Rust (`web_scraper::crawl`, scraper crate) against
//! Python (aiohttp + BeautifulSoup's html.parser) in the same run, with every page's title
//! compared. The default site is the Rust book that rustup installs with the toolchain's
//! docs (large, real documentation pages), served by the fixture's static mode; without it,
//! the fixture's generated site.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context as _;
use bench::{Record, compare, measure, peak_rss_mib, reset_peak_rss, run_python};
use fixture_server::{FixtureConfig, OwnedFixture};
use reqwest::Url;
use web_scraper::{CrawlConfig, Outcome, crawl};

use crate::Common;

#[derive(Debug, clap::Args)]
pub(crate) struct ScrapeArgs {
    #[command(flatten)]
    common: Common,
    /// A directory to crawl from its index.html (default: the installed Rust book).
    #[arg(long)]
    site: Option<PathBuf>,
    /// Fetches in flight at once, on both sides.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    concurrency: u16,
}

/// `$(rustc --print sysroot)/share/doc/rust/html/book`, if the docs are installed.
fn installed_rust_book() -> Option<PathBuf> {
    let output = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = String::from_utf8(output.stdout).ok()?;
    let book = PathBuf::from(sysroot.trim()).join("share/doc/rust/html/book");
    book.join("index.html").is_file().then_some(book)
}

pub(crate) fn run(args: &ScrapeArgs) -> anyhow::Result<()> {
    let max_pages = usize::try_from(args.common.items.unwrap_or(300))?;
    let site = args.site.clone().or_else(installed_rust_book);
    let (config, start_path) = match &site {
        Some(dir) => (
            FixtureConfig {
                static_dir: Some(dir.clone()),
                ..Default::default()
            },
            "/static/index.html",
        ),
        None => (
            FixtureConfig {
                site_pages: max_pages,
                ..Default::default()
            },
            "/site/",
        ),
    };
    eprintln!(
        "crawling {}",
        site.as_ref()
            .map_or("the generated site".into(), |d| d.display().to_string())
    );
    // Two server workers: serving files from disk must not be what the crawl waits on.
    let fixture = OwnedFixture::start(config, 2)?;
    let start = Url::parse(&fixture.server().url(start_path))?;
    let client = reqwest::Client::new();
    let mut records = Vec::new();
    let mut rust_titles = BTreeSet::new();
    for (name, workers) in [("current_thread", 0u16), ("multi_thread", 2)] {
        let (runtime, _) = crate::gather::client_runtime(workers)?;
        let crawl_config = CrawlConfig {
            start: start.clone(),
            max_pages,
            max_depth: 100,
            concurrency: args.concurrency.into(),
            rate: None,
        };
        let (mut pages, mut titles) = (0, BTreeSet::new());
        reset_peak_rss();
        let run_once = || async {
            let mut found = BTreeSet::new();
            let summary = crawl(&client, &crawl_config, |report| {
                if report.outcome == Outcome::Html {
                    let path = Url::parse(&report.url)
                        .map(|u| u.path().to_owned())
                        .unwrap_or_default();
                    found.insert((path, report.title.clone()));
                }
            })
            .await;
            (summary, found)
        };
        let check = |(summary, found): (
            web_scraper::CrawlSummary,
            BTreeSet<(String, Option<String>)>,
        )| {
            pages = summary.pages;
            titles = found;
            Ok(())
        };
        let mut durations = measure(&runtime, args.common.runs, run_once, check)?;
        let mut record = Record::from_runs(
            "scrape",
            "tokio-scraper-crate",
            pages as u64,
            &mut durations,
        )
        .on(name);
        record.peak_rss_mib = peak_rss_mib();
        records.push(record);
        rust_titles = titles;
    }
    let python = if args.common.no_python {
        None
    } else {
        let titles_file =
            std::env::temp_dir().join(format!("scrape-titles-{}.jsonl", std::process::id()));
        let extra = [
            "--url".to_owned(),
            start.to_string(),
            "--concurrency".to_owned(),
            args.concurrency.to_string(),
            "--titles-out".to_owned(),
            titles_file.display().to_string(),
        ];
        let lines = run_python(
            "patterns/web-scraper/python/bench_scrape.py".as_ref(),
            max_pages as u64,
            args.common.runs,
            &extra,
        )
        .context("python scrape")?;
        if lines.is_some() {
            let python_titles = read_titles(&titles_file)?;
            let same = python_titles == rust_titles;
            if !same {
                let only_rust: Vec<_> = rust_titles.difference(&python_titles).take(3).collect();
                let only_python: Vec<_> = python_titles.difference(&rust_titles).take(3).collect();
                eprintln!("titles differ: only Rust {only_rust:?}; only Python {only_python:?}");
            }
            for record in &mut records {
                record.titles_match = Some(same);
            }
        }
        let _ = std::fs::remove_file(&titles_file);
        lines
    };
    for record in records.iter().chain(python.iter().flatten()) {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}

fn read_titles(path: &std::path::Path) -> anyhow::Result<BTreeSet<(String, Option<String>)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .map(|line| Ok(serde_json::from_str(line)?))
        .collect()
}
