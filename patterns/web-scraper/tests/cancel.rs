//! `crawl` dropped mid-fetch: its fetch tasks are aborted and their connections closed.

use std::time::Duration;

use fixture_server::FixtureServer;
use reqwest::{Client, Url};
use web_scraper::{CrawlConfig, crawl};

#[tokio::test]
async fn crawl_dropped_mid_fetch_closes_every_connection() {
    let server = FixtureServer::start().await.unwrap();
    let config = CrawlConfig {
        start: Url::parse(&server.url("/delay/20000")).unwrap(),
        max_pages: 10,
        max_depth: 1,
        concurrency: 4,
        rate: None,
    };
    let mut reports = 0;
    let client = Client::new();
    let dropped = server
        .drop_once_connected(
            crawl(&client, &config, |_| reports += 1),
            1,
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(dropped, Ok(()));
    assert_eq!(reports, 0, "nothing was reported for the page in flight");
}
