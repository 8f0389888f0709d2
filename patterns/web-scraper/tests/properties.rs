//! Link normalisation and deduplication as a property: for random site sizes, limits and
//! concurrency, the crawl fetches every URL of the generated site at most once, finds
//! exactly its pages and broken links when nothing limits it, and never exceeds its page
//! budget. The site's links include cycles, `./`, `/site/`, `#top`, a relative link and
//! links off the site, so normalisation is exercised on every page.

use std::collections::BTreeSet;

use fixture_server::{FixtureConfig, FixtureServer};
use proptest::prelude::*;
use reqwest::{Client, Url};
use web_scraper::{CrawlConfig, PageKind, crawl};

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn each_url_is_fetched_once_and_the_site_is_found_whole(
        site_pages in 1..150usize,
        concurrency in 1..12usize,
        max_pages in 1..400usize,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (reports, site) = runtime.block_on(async {
            let config = FixtureConfig { site_pages, ..Default::default() };
            let server = FixtureServer::start_with(config).await.unwrap();
            let crawl_config = CrawlConfig {
                start: Url::parse(&server.url("/site/")).unwrap(),
                max_pages,
                max_depth: 1000,
                concurrency,
                rate: None,
            };
            let mut reports = Vec::new();
            crawl(&Client::new(), &crawl_config, |r| reports.push(r.clone())).await;
            (reports, server.site())
        });
        let urls: Vec<&str> = reports.iter().map(|r| r.url.as_str()).collect();
        let unique: BTreeSet<&str> = urls.iter().copied().collect();
        prop_assert_eq!(unique.len(), urls.len(), "a URL fetched twice");
        prop_assert!(urls.len() <= max_pages);
        prop_assert!(urls.iter().all(|u| !u.contains('#')), "fragments are dropped");
        let whole_site = site_pages + site.broken_links().len();
        if max_pages >= whole_site {
            let pages: BTreeSet<String> = reports
                .iter()
                .filter(|r| r.kind == PageKind::Html)
                .map(|r| Url::parse(&r.url).unwrap().path().to_owned())
                .collect();
            let expected: BTreeSet<String> = site.pages().map(|(path, _)| path).collect();
            prop_assert_eq!(pages, expected);
            prop_assert_eq!(urls.len(), whole_site);
        }
    }
}
