//! Demo: crawl the embedded fixture's generated site, or any site, and report every page.
//!
//! ```text
//! cargo run -p web-scraper                                     # the generated site, as text
//! cargo run -p web-scraper -- --format jsonl > pages.jsonl     # JSON lines (no progress bar)
//! cargo run -p web-scraper -- --static-dir ./site --format csv # a directory from disk
//! cargo run -p web-scraper -- --url https://www.rust-lang.org --max-pages 50 --per-second 2
//! ```

use std::io::{IsTerminal, Write};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use fixture_server::{FixtureConfig, FixtureServer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patterns_core::cli::{self, Url};
use patterns_core::error::has_io_kind;
use patterns_core::{app, timed};
use web_scraper::{CrawlConfig, PageKind, PageReport, RateLimit, crawl};

/// Crawl a site concurrently and extract titles, headings and links.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Where to start (default: the embedded fixture's generated site).
    #[arg(long, value_parser = cli::http_url)]
    url: Option<Url>,
    /// Serve this directory with the embedded fixture and crawl it from its index.html.
    #[arg(long, conflicts_with = "url", value_parser = cli::existing_dir)]
    static_dir: Option<PathBuf>,
    /// Pages of the embedded fixture's generated site.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    site_pages: u32,
    /// The most URLs to fetch.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_pages: u32,
    /// The most links to follow from the start page.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=1000))]
    max_depth: u32,
    /// Fetches in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    concurrency: u16,
    /// Fetches started per second at most (default: no limit).
    #[arg(long)]
    per_second: Option<NonZeroU32>,
    /// How to write the reports to stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// One readable line per URL.
    Text,
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let config = FixtureConfig {
        static_dir: args.static_dir.clone(),
        site_pages: args.site_pages as usize,
        ..Default::default()
    };
    let fixture = FixtureServer::start_with(config).await?;
    let start = match (&args.url, &args.static_dir) {
        (Some(url), _) => url.clone(),
        (None, Some(_)) => Url::parse(&fixture.url("/static/index.html"))?,
        (None, None) => Url::parse(&fixture.url("/site/"))?,
    };
    let crawl_config = CrawlConfig {
        start: start.clone(),
        max_pages: args.max_pages as usize,
        max_depth: args.max_depth as usize,
        concurrency: args.concurrency.into(),
        rate: args
            .per_second
            .map(|rate| std::sync::Arc::new(RateLimit::new(rate, NonZeroU32::MIN))),
    };
    let progress = progress_bar(u64::from(args.max_pages));
    let mut out = Writer::new(args.format);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let mut write_error = None;
    let mut start_failed = None;
    let crawled = crawl(&client, &crawl_config, |report| {
        progress.inc(1);
        if report.depth == 0 {
            start_failed = start_page_failure(report);
        }
        // The bar is cleared while a line is written, then drawn again below it.
        if let Err(e) = progress.suspend(|| out.write(report)) {
            write_error.get_or_insert(e);
        }
    });
    // The bar goes before the timer logs its line, or that line would land beside it.
    let (summary, took) = timed("crawl", async {
        let summary = crawled.await;
        progress.finish_and_clear();
        summary
    })
    .await;
    // A reader that closed the pipe (`| head`) has what it wanted: stop quietly, as
    // `app::run` does for `println!`. Any other failure is an error.
    if let Some(error) = write_error.or_else(|| out.flush().err()) {
        if has_io_kind(error.as_ref(), std::io::ErrorKind::BrokenPipe) {
            return Ok(());
        }
        return Err(error).context("cannot write to stdout");
    }
    // Nothing was crawled if the start page itself failed: that is the demo failing.
    if let Some(why) = start_failed {
        anyhow::bail!("the start page {start} {why}");
    }
    let line = format!(
        "crawled {} in {:.2} s: {} pages, {} broken or error statuses, {} not HTML, {} failed",
        cli::count(summary.fetched, "URL"),
        took.as_secs_f64(),
        summary.pages,
        summary.error_statuses,
        summary.not_html,
        summary.failed
    );
    // Text goes to people: summary included. JSON lines and CSV are data: the summary aside.
    match args.format {
        Format::Text => println!("{line}"),
        Format::Jsonl | Format::Csv => eprintln!("{line}"),
    }
    Ok(())
}

/// Why the start page gives nothing to crawl, if it does not.
fn start_page_failure(report: &PageReport) -> Option<String> {
    match &report.kind {
        PageKind::Html => None,
        PageKind::NotHtml(kind) => Some(format!("is not HTML ({kind})")),
        PageKind::ErrorStatus => Some(format!(
            "answered HTTP {}",
            report.status.map_or_else(|| "?".into(), |s| s.to_string())
        )),
        PageKind::NoResponse(error) => Some(format!("could not be fetched: {error}")),
    }
}

/// A progress bar on a terminal; hidden when stderr is piped or redirected.
fn progress_bar(length: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} pages fetched {elapsed} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Writes reports as text, JSON lines or CSV.
enum Writer {
    Text(std::io::Stdout),
    Jsonl(std::io::Stdout),
    Csv(Box<csv::Writer<std::io::Stdout>>),
}

impl Writer {
    fn new(format: Format) -> Self {
        match format {
            Format::Text => Self::Text(std::io::stdout()),
            Format::Jsonl => Self::Jsonl(std::io::stdout()),
            Format::Csv => Self::Csv(Box::new(csv::Writer::from_writer(std::io::stdout()))),
        }
    }

    fn write(&mut self, report: &PageReport) -> anyhow::Result<()> {
        match self {
            Self::Text(out) => {
                let status = report
                    .status
                    .map_or_else(|| "---".to_owned(), |s| s.to_string());
                let what = match &report.kind {
                    PageKind::Html => report.title.clone().unwrap_or_else(|| "(no title)".into()),
                    PageKind::NotHtml(kind) => format!("(not HTML: {kind})"),
                    PageKind::ErrorStatus => "(broken or error status)".into(),
                    PageKind::NoResponse(error) => format!("(failed: {error})"),
                };
                writeln!(out, "{status} {} {what}", report.url)?;
            }
            Self::Jsonl(out) => writeln!(out, "{}", serde_json::to_string(report)?)?,
            Self::Csv(out) => out.serialize(CsvRow::from(report))?,
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Self::Text(out) | Self::Jsonl(out) => out.flush()?,
            Self::Csv(out) => out.flush()?,
        }
        Ok(())
    }
}

/// A flat row for CSV: headings joined, the kind as text.
#[derive(serde::Serialize)]
struct CsvRow<'a> {
    url: &'a str,
    depth: usize,
    status: Option<u16>,
    kind: String,
    title: Option<&'a str>,
    headings: String,
    links: usize,
}

impl<'a> From<&'a PageReport> for CsvRow<'a> {
    fn from(report: &'a PageReport) -> Self {
        Self {
            url: &report.url,
            depth: report.depth,
            status: report.status,
            kind: match &report.kind {
                PageKind::Html => "html".into(),
                PageKind::NotHtml(kind) => format!("not_html: {kind}"),
                PageKind::ErrorStatus => "error_status".into(),
                PageKind::NoResponse(error) => format!("no_response: {error}"),
            },
            title: report.title.as_deref(),
            headings: report.headings.join(" | "),
            links: report.links,
        }
    }
}
