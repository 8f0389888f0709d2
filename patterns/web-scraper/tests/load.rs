//! Load held: a crawl of a generated 100,000-page site keeps its memory to what the chapter
//! states. Page bodies live only while a page is parsed, so what grows is the set of URLs
//! seen: the chapter measures about 270 bytes per URL in a release build. The bound here,
//! 540 bytes per URL (twice that), leaves room for this debug build; keeping the bodies (several KB a
//! page) would break it many times over.

use bench_harness::{peak_rss_mib, reset_peak_rss};
use fixture_server::{FixtureConfig, FixtureServer};
use reqwest::{Client, Url};
use web_scraper::{CrawlConfig, crawl};

const PAGES: usize = 100_000;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_page_crawl_stays_within_the_chapters_memory() {
    if peak_rss_mib().is_none() {
        eprintln!("SKIPPED: no /proc/self/status to read the peak memory from");
        return;
    }
    let config = FixtureConfig {
        site_pages: PAGES,
        ..Default::default()
    };
    let server = FixtureServer::start_with(config).await.unwrap();
    let crawl_config = CrawlConfig {
        start: Url::parse(&server.url("/site/")).unwrap(),
        max_pages: PAGES,
        max_depth: 1000,
        concurrency: 8,
        rate: None,
    };
    let client = Client::new();
    reset_peak_rss();
    let before = rss_mib();
    let mut pages = 0;
    let summary = crawl(&client, &crawl_config, |_| pages += 1).await;
    let grown = peak_rss_mib().unwrap() - before;
    let per_url = grown * 1024.0 * 1024.0 / summary.fetched as f64;
    eprintln!(
        "{} URLs crawled; peak memory grew {grown:.1} MiB, {per_url:.0} bytes per URL",
        summary.fetched
    );
    assert_eq!((summary.fetched, pages), (PAGES, PAGES));
    assert!(per_url <= 540.0, "{per_url:.0} bytes per URL");
}
