//! The crawler against the fixture: the generated site exactly, cycles once, broken links
//! reported, the concurrency bound held, and bad pages turned into reports, never panics.

use std::collections::BTreeSet;

use fixture_server::{FixtureConfig, FixtureServer};
use reqwest::{Client, Url};
use web_scraper::{CrawlConfig, PageKind, PageReport, crawl};

fn config(start: String, max_pages: usize, max_depth: usize, concurrency: usize) -> CrawlConfig {
    CrawlConfig {
        start: Url::parse(&start).unwrap(),
        max_pages,
        max_depth,
        concurrency,
        rate: None,
    }
}

async fn reports_of(config: &CrawlConfig) -> Vec<PageReport> {
    let mut reports = Vec::new();
    crawl(&Client::new(), config, |report| {
        reports.push(report.clone())
    })
    .await;
    reports
}

#[tokio::test]
async fn crawling_the_generated_site_finds_exactly_its_pages_and_titles() {
    let server = FixtureServer::start().await.unwrap();
    let site = server.site();
    let reports = reports_of(&config(server.url("/site/"), 1000, 100, 8)).await;
    let pages: BTreeSet<(String, String)> = reports
        .iter()
        .filter(|r| r.kind == PageKind::Html)
        .map(|r| {
            (
                Url::parse(&r.url).unwrap().path().to_owned(),
                r.title.clone().unwrap(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = site.pages().collect();
    assert_eq!(pages, expected);
    // Cycles visited once: one report per URL.
    let urls: BTreeSet<&str> = reports.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls.len(), reports.len());
    // Broken links reported, with their 404.
    let broken: BTreeSet<String> = reports
        .iter()
        .filter(|r| r.kind == PageKind::ErrorStatus && r.status == Some(404))
        .map(|r| Url::parse(&r.url).unwrap().path().to_owned())
        .collect();
    assert_eq!(broken, site.broken_links().into_iter().collect());
    assert!(
        reports.iter().all(|r| !r.url.contains("example.com")),
        "external links are not followed"
    );
}

#[tokio::test]
async fn the_concurrency_bound_holds_at_the_server() {
    let server = FixtureServer::start_with(FixtureConfig {
        site_pages: 200,
        ..Default::default()
    })
    .await
    .unwrap();
    let reports = reports_of(&config(server.url("/site/"), 1000, 100, 4)).await;
    assert!(reports.len() > 200);
    let max = server.stats().max_in_flight;
    assert!((1..=4).contains(&max), "max in flight {max}");
}

#[tokio::test]
async fn page_and_depth_limits_hold() {
    let server = FixtureServer::start().await.unwrap();
    assert_eq!(
        reports_of(&config(server.url("/site/"), 7, 100, 3))
            .await
            .len(),
        7
    );
    let shallow = reports_of(&config(server.url("/site/"), 1000, 1, 3)).await;
    assert!(shallow.iter().all(|r| r.depth <= 1));
    assert_eq!(shallow.iter().filter(|r| r.depth == 0).count(), 1);
}

#[tokio::test]
async fn malformed_html_and_non_html_become_reports_not_panics() {
    let server = FixtureServer::start().await.unwrap();
    let malformed = reports_of(&config(server.url("/fault/malformed-html"), 10, 0, 2)).await;
    assert_eq!(malformed[0].kind, PageKind::Html);
    assert_eq!(
        malformed[0].title.as_deref(),
        Some("Malformed but readable")
    );
    let bytes = reports_of(&config(server.url("/bytes/64"), 10, 0, 2)).await;
    assert_eq!(
        bytes[0].kind,
        PageKind::NotHtml("application/octet-stream".into())
    );
    let refused = reports_of(&config("http://127.0.0.1:1/".into(), 10, 0, 2)).await;
    assert!(
        matches!(&refused[0].kind, PageKind::NoResponse(e) if e.contains("refused")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_directory_served_by_the_fixture_can_be_crawled() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        r#"<title>Index</title><a href="a.html">a</a><a href="b.html">b</a>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.html"),
        r#"<title>A</title><a href="index.html">back</a>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.html"),
        r#"<title>B</title><a href="a.html">a</a><a href="missing.html">gone</a>"#,
    )
    .unwrap();
    let config_dir = FixtureConfig {
        static_dir: Some(dir.path().into()),
        ..Default::default()
    };
    let server = FixtureServer::start_with(config_dir).await.unwrap();
    let reports = reports_of(&config(server.url("/static/index.html"), 100, 10, 2)).await;
    let titles: BTreeSet<String> = reports.iter().filter_map(|r| r.title.clone()).collect();
    assert_eq!(titles, ["A", "B", "Index"].map(String::from).into());
    assert_eq!(reports.iter().filter(|r| r.status == Some(404)).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_optional_rate_limit_spaces_the_fetches() {
    let server = FixtureServer::start().await.unwrap();
    let per_second = std::num::NonZeroU32::new(10).unwrap();
    let mut limited = config(server.url("/site/"), 5, 100, 8);
    limited.rate = Some(std::sync::Arc::new(web_scraper::RateLimit::new(
        per_second,
        std::num::NonZeroU32::MIN,
    )));
    let started = tokio::time::Instant::now();
    assert_eq!(reports_of(&limited).await.len(), 5);
    // One fetch now, then one every 100 ms: 400 ms for five, despite 8 allowed in flight.
    assert_eq!(started.elapsed(), std::time::Duration::from_millis(400));
}

/// Each URL with the depth the crawl gave it.
fn depths(reports: &[PageReport]) -> BTreeSet<(String, usize)> {
    reports.iter().map(|r| (r.url.clone(), r.depth)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depths_are_shortest_distances_whatever_order_the_answers_come_in() {
    // One page at a time is breadth first exactly: the reference.
    let server = FixtureServer::start().await.unwrap();
    let start = server.url("/site/");
    let reference = depths(&reports_of(&config(start.clone(), 1000, 4, 1)).await);
    // Eight at once, behind a rate limiter that wakes its waiters in no set order: the
    // answers come back in another order every run, and the depths must not change.
    for _ in 0..5 {
        let mut limited = config(start.clone(), 1000, 4, 8);
        limited.rate = Some(std::sync::Arc::new(web_scraper::RateLimit::new(
            std::num::NonZeroU32::new(400).unwrap(),
            std::num::NonZeroU32::MIN,
        )));
        assert_eq!(depths(&reports_of(&limited).await), reference);
    }
}
