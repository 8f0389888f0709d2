//! `scrape`: crawl one local site, Rust (`web_scraper::crawl`, scraper crate) against
//! Python (aiohttp + BeautifulSoup's html.parser) in the same run, with every page's title
//! compared. The default site is the Rust book that rustup installs with the toolchain's
//! docs (large, real documentation pages), served by the fixture's static mode; without it,
//! the fixture's generated site. The bound fetches the pages the crawl found, known in
//! advance, on hyper's bare client connections and parses them with the same `extract` on
//! every core.
//!
//! ```text
//! cargo bench -p web-scraper
//! cargo bench -p web-scraper -- --site /path/to/a/static/site --concurrency 16
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bench_harness::{
    Bench, Options, PythonLoop, Record, bare_http, measure, peak_rss_mib, python_script,
    reset_peak_rss,
};
use clap::Parser;
use fixture_server::{FixtureConfig, OwnedFixture};
use reqwest::Url;
use web_scraper::{CrawlConfig, CrawlSummary, PageKind, crawl, extract};

/// Crawl a local site: the scraper crate against aiohttp + BeautifulSoup, titles compared.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// A directory to crawl from its index.html (default: the installed Rust book).
    #[arg(long)]
    site: Option<PathBuf>,
    /// Fetches in flight at once, on both sides.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    concurrency: u16,
}

/// Each page's path and title.
type Titles = BTreeSet<(String, Option<String>)>;

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "scrape", &args.options)?;
    let max_pages = usize::try_from(bench.items(300, 60, 1_000_000)?)?;
    // The quick check crawls the small generated site; the full run, a real one.
    let site = match &args.site {
        Some(dir) => Some(dir.clone()),
        None if bench.is_quick() => None,
        None => installed_rust_book(),
    };
    let (config, start_path) = match &site {
        Some(dir) => {
            anyhow::ensure!(
                dir.join("index.html").is_file(),
                "{} has no index.html to start from",
                dir.display()
            );
            let config = FixtureConfig {
                static_dir: Some(dir.clone()),
                ..Default::default()
            };
            (config, "/static/index.html")
        }
        None => {
            // Half the page limit: the whole site is crawled, so both sides must find the
            // same pages (with a limit that cuts a crawl short, which pages make it in
            // depends on which responses come first).
            let config = FixtureConfig {
                site_pages: (max_pages / 2).max(1),
                ..Default::default()
            };
            (config, "/site/")
        }
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
    let crawl_config = CrawlConfig {
        start: start.clone(),
        max_pages,
        max_depth: 100,
        concurrency: args.concurrency.into(),
        rate: None,
    };
    let mut rust_titles = Titles::new();
    let mut records = Vec::new();
    for workers in [0, 2] {
        let (runtime_name, runtime) = bench_harness::runtime(workers)?;
        let mut pages = 0;
        reset_peak_rss();
        let run_once = || async {
            let mut found = Titles::new();
            let summary = crawl(&client, &crawl_config, |report| {
                if report.kind == PageKind::Html {
                    let path = Url::parse(&report.url).map(|u| u.path().to_owned());
                    found.insert((path.unwrap_or_default(), report.title.clone()));
                }
            })
            .await;
            (summary, found)
        };
        let check = |(summary, found): (CrawlSummary, Titles)| {
            anyhow::ensure!(summary.pages > 1, "the crawl found {} pages", summary.pages);
            pages = summary.pages;
            rust_titles = found;
            Ok(())
        };
        let mut durations = measure(&runtime, bench.runs(), run_once, check)?;
        let mut record = Record::from_runs(
            "scrape",
            "tokio-scraper-crate",
            pages as u64,
            &mut durations,
        )
        .on(runtime_name);
        record.peak_rss_mib = peak_rss_mib();
        records.push(record);
    }
    records.push(bound(
        &bench,
        &start,
        &rust_titles,
        args.concurrency.into(),
    )?);
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_scrape.py");
    let mut python = Vec::new();
    for event_loop in PythonLoop::BOTH {
        let titles_file = std::env::temp_dir().join(format!(
            "scrape-titles-{}-{}.jsonl",
            std::process::id(),
            event_loop.name()
        ));
        let extra = [
            "--url".to_owned(),
            start.to_string(),
            "--concurrency".to_owned(),
            args.concurrency.to_string(),
            "--titles-out".to_owned(),
            titles_file.display().to_string(),
        ];
        let lines = bench.python(&script, max_pages as u64, &extra, event_loop)?;
        let titles = lines
            .is_some()
            .then(|| read_titles(&titles_file))
            .transpose();
        let _ = std::fs::remove_file(&titles_file);
        let Some(lines) = lines else { break };
        let titles = titles?.unwrap_or_default();
        let same = titles == rust_titles;
        if !same {
            let only_rust: Vec<_> = rust_titles.difference(&titles).take(3).collect();
            let only_python: Vec<_> = titles.difference(&rust_titles).take(3).collect();
            eprintln!("titles differ: only Rust {only_rust:?}; only Python {only_python:?}");
        }
        for mut record in lines {
            record.titles_match = Some(same);
            python.push(record);
        }
    }
    if let Some(first) = python.first() {
        let same = first.titles_match;
        for record in &mut records {
            record.titles_match = same;
        }
        anyhow::ensure!(same == Some(true), "Rust and Python found different titles");
    }
    for record in records.into_iter().chain(python) {
        bench.record(record)?;
    }
    bench.finish()
}

/// The bound: the HTML pages the crawl found, fetched on `concurrency` bare connections
/// (opened before the clock), then each parsed by `extract`, the pages split over every
/// core. No link discovery, no queue of URLs, no client layers; the titles must match.
fn bound(
    bench: &Bench,
    start: &Url,
    titles: &Titles,
    concurrency: usize,
) -> anyhow::Result<Record> {
    let (runtime_name, runtime) = bench_harness::runtime(2)?;
    let paths: Vec<String> = titles.iter().map(|(path, _)| path.clone()).collect();
    let origin = start.origin().ascii_serialization();
    let connections = runtime.block_on(bare_http::open_many(&origin, concurrency))?;
    let fetch_and_parse = || async {
        let bodies = bare_http::get_spread(&connections, &paths).await?;
        parse_on_every_core(start, &paths, &bodies)
    };
    let check = |found: anyhow::Result<Titles>| {
        anyhow::ensure!(&found? == titles, "the bound found other titles");
        Ok(())
    };
    let mut durations = measure(&runtime, bench.runs(), fetch_and_parse, check)?;
    let variant = "bound-bare-hyper-known-pages";
    let record = Record::from_runs("scrape", variant, paths.len() as u64, &mut durations);
    Ok(record.on(runtime_name))
}

/// Each page's path and title, the pages parsed in as many chunks as there are cores.
fn parse_on_every_core<B: AsRef<[u8]> + Sync>(
    start: &Url,
    paths: &[String],
    bodies: &[B],
) -> anyhow::Result<Titles> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = paths.len().div_ceil(cores).max(1);
    let parse = |(paths, bodies): (&[String], &[B])| -> anyhow::Result<Titles> {
        let mut found = Titles::new();
        for (path, body) in paths.iter().zip(bodies) {
            let (title, _headings, _links) =
                extract(std::str::from_utf8(body.as_ref())?, &start.join(path)?);
            found.insert((path.clone(), title));
        }
        Ok(found)
    };
    std::thread::scope(|scope| {
        let chunks: Vec<_> = paths
            .chunks(chunk)
            .zip(bodies.chunks(chunk))
            .map(|pair| scope.spawn(move || parse(pair)))
            .collect();
        let mut found = Titles::new();
        for chunk in chunks {
            found.extend(
                chunk
                    .join()
                    .map_err(|_| anyhow::anyhow!("a parser panicked"))??,
            );
        }
        Ok(found)
    })
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

fn read_titles(path: &Path) -> anyhow::Result<Titles> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .map(|line| Ok(serde_json::from_str(line)?))
        .collect()
}
