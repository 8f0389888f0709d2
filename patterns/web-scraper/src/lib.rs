//! A concurrent web crawler: the tutorials' "fetch pages at once and pull out the titles"
//! with aiohttp and BeautifulSoup, grown into one you can point at a real site.
//!
//! - [`crawl`]: breadth first from a start URL, same origin only, each URL once, within a
//!   depth and a page limit, `concurrency` fetches at once, optionally at a [`RateLimit`];
//! - [`extract`]: title, headings and links with the `scraper` crate, in a plain function:
//!   `scraper::Html` is not `Send`, so it must never live across an `.await`;
//! - [`PageReport`]: one per URL, whatever happened: a page, an error status, a response
//!   that is not HTML, a failed request. Nothing is fatal.
//!
//! Page bodies live only while their page is processed, so memory is bounded by the
//! concurrency; reports go to a callback as they come. Run `cargo run -p web-scraper`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, LazyLock};

pub use rate_limit::RateLimit;
use reqwest::{Client, Url, header};
use scraper::{Html, Selector};
use serde::Serialize;
use tokio::task::JoinSet;

use patterns_core::error::reason;

/// What was found at one URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageReport {
    /// The URL fetched.
    pub url: String,
    /// Links followed from the start page to here.
    pub depth: usize,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// What came back.
    pub kind: PageKind,
    /// The `<title>`, trimmed, when the page had one.
    pub title: Option<String>,
    /// `h1` to `h3` texts, in document order.
    pub headings: Vec<String>,
    /// Links on the page (all of them, followed or not).
    pub links: usize,
}

/// What came back from one URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// An HTML page, parsed (even when its markup was broken).
    Html,
    /// A response that is not HTML: not parsed, its content type kept.
    NotHtml(String),
    /// A 4xx or 5xx status: a broken link when 404.
    ErrorStatus,
    /// No response, or not all of it: DNS, refused, timeout, body cut off... (the reason).
    NoResponse(String),
}

// ANCHOR: extract
/// Title, headings and absolute links of one HTML document. Synchronous on purpose:
/// `Html` is not `Send`, and a function that returns before the next `.await` keeps it
/// off the future's state.
pub fn extract(html: &str, base: &Url) -> (Option<String>, Vec<String>, Vec<Url>) {
    static TITLE: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("title").expect("valid selector"));
    static HEADINGS: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("h1, h2, h3").expect("valid selector"));
    static LINKS: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("a[href]").expect("valid selector"));
    let document = Html::parse_document(html); // never fails: broken markup is repaired
    let text =
        |element: scraper::ElementRef<'_>| element.text().collect::<String>().trim().to_owned();
    let title = document
        .select(&TITLE)
        .next()
        .map(text)
        .filter(|t| !t.is_empty());
    let headings = document.select(&HEADINGS).map(text).collect();
    let links = document
        .select(&LINKS)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|href| base.join(href).ok())
        .collect();
    (title, headings, links)
}
// ANCHOR_END: extract

/// Where and how far to crawl.
#[derive(Debug)]
pub struct CrawlConfig {
    /// The first page; only URLs of the same origin (scheme, host, port) are followed.
    pub start: Url,
    /// The most URLs to fetch.
    pub max_pages: usize,
    /// The most links to follow from the start page.
    pub max_depth: usize,
    /// Fetches in flight at once.
    pub concurrency: usize,
    /// An optional limit on fetches started per second, shared by the fetch tasks.
    pub rate: Option<Arc<RateLimit>>,
}

/// Totals of a crawl.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CrawlSummary {
    /// URLs fetched (pages, errors and failures alike).
    pub fetched: usize,
    /// HTML pages parsed.
    pub pages: usize,
    /// Responses with an error status.
    pub error_statuses: usize,
    /// Responses that were not HTML.
    pub not_html: usize,
    /// Requests that got no response.
    pub failed: usize,
}

// ANCHOR: crawl
/// Crawls breadth first from `config.start`, calling `on_report` for every URL fetched,
/// as soon as it is done. Returns the totals. Each fetch is a task, so on a multi-thread
/// runtime pages are parsed in parallel; a task's future must be `Send`, which the
/// compiler checks, so the non-`Send` `Html` provably never lives across an `.await`.
///
/// A panic in `on_report` is the caller's own code failing: it propagates out of `crawl`,
/// and the fetches in flight are aborted on the way.
///
/// # Cancel safety
///
/// This function is cancel safe: a losing `select!` branch drops the `JoinSet` of fetches,
/// which aborts them and closes their connections. Every report already handed to
/// `on_report` stays handed over; the pages in flight are lost, and no request is left
/// running.
pub async fn crawl(
    client: &Client,
    config: &CrawlConfig,
    mut on_report: impl FnMut(&PageReport),
) -> CrawlSummary {
    let mut frontier = Frontier::new(config);
    let mut in_flight = JoinSet::new();
    let mut summary = CrawlSummary::default();
    loop {
        frontier.start_fetches(client, config, &mut in_flight);
        let Some(joined) = in_flight.join_next().await else {
            break; // nothing in flight and nothing left to start
        };
        let (report, links) = match joined {
            Ok(done) => done,
            // fetch_page turns every failure into a report; a panic here is a bug to see.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        summary.count(&report);
        on_report(&report);
        frontier.follow(&report, links, config);
    }
    summary
}
// ANCHOR_END: crawl

// ANCHOR: crawl_frontier
/// What is left to crawl.
struct Frontier {
    seen: HashSet<Url>,            // every URL queued so far, once
    queue: VecDeque<(Url, usize)>, // to fetch, with its depth
    started: usize,                // fetches started, against `max_pages`
    level: usize,                  // the depth of the pages in flight
}

impl Frontier {
    fn new(config: &CrawlConfig) -> Self {
        Self {
            seen: HashSet::from([normalize(config.start.clone())]),
            queue: VecDeque::from([(config.start.clone(), 0)]),
            started: 0,
            level: 0,
        }
    }

    /// Keeps `concurrency` fetches going, one level at a time: a page's depth is then its
    /// shortest distance from the start, whatever order the answers come in.
    fn start_fetches(
        &mut self,
        client: &Client,
        config: &CrawlConfig,
        in_flight: &mut JoinSet<(PageReport, Vec<Url>)>,
    ) {
        while in_flight.len() < config.concurrency.max(1) && self.started < config.max_pages {
            match self.queue.front() {
                Some(&(_, depth)) if depth == self.level || in_flight.is_empty() => {
                    self.level = depth;
                }
                _ => break,
            }
            let Some((url, depth)) = self.queue.pop_front() else {
                break;
            };
            self.started += 1;
            in_flight.spawn(fetch_page(client.clone(), url, depth, config.rate.clone()));
        }
    }
    // ANCHOR_END: crawl_frontier

    // ANCHOR: crawl_collect
    /// Queues the links of a fetched page one level deeper, each URL once, if the page is
    /// not at the maximum depth and the link stays on the start's origin.
    fn follow(&mut self, report: &PageReport, links: Vec<Url>, config: &CrawlConfig) {
        if report.depth >= config.max_depth {
            return;
        }
        for link in links {
            let link = normalize(link);
            if same_origin(&link, &config.start) && self.seen.insert(link.clone()) {
                self.queue.push_back((link, report.depth + 1));
            }
        }
    }
    // ANCHOR_END: crawl_collect
}

impl CrawlSummary {
    fn count(&mut self, report: &PageReport) {
        self.fetched += 1;
        match report.kind {
            PageKind::Html => self.pages += 1,
            PageKind::NotHtml(_) => self.not_html += 1,
            PageKind::ErrorStatus => self.error_statuses += 1,
            PageKind::NoResponse(_) => self.failed += 1,
        }
    }
}

/// One URL in a canonical form: no fragment (`#top` is the same page).
fn normalize(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

fn same_origin(url: &Url, start: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.origin() == start.origin()
}

// ANCHOR: fetch_page
/// Fetches one URL and turns whatever happens into a report, plus the links to follow.
async fn fetch_page(
    client: Client,
    url: Url,
    depth: usize,
    rate: Option<Arc<RateLimit>>,
) -> (PageReport, Vec<Url>) {
    if let Some(rate) = rate {
        rate.until_ready().await;
    }
    let mut report = PageReport {
        url: url.to_string(),
        depth,
        status: None,
        kind: PageKind::Html,
        title: None,
        headings: Vec::new(),
        links: 0,
    };
    match client.get(url).send().await {
        Ok(response) => read_page(response, report).await,
        Err(error) => {
            report.kind = PageKind::NoResponse(reason(&error));
            (report, Vec::new())
        }
    }
}
// ANCHOR_END: fetch_page

// ANCHOR: fetch_page_body
/// Sorts a response by its status and content type, then reads and parses an HTML body.
async fn read_page(response: reqwest::Response, mut report: PageReport) -> (PageReport, Vec<Url>) {
    report.status = Some(response.status().as_u16());
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !response.status().is_success() {
        report.kind = PageKind::ErrorStatus;
        return (report, Vec::new());
    }
    if !content_type.is_empty() && !content_type.starts_with("text/html") {
        report.kind = PageKind::NotHtml(content_type);
        return (report, Vec::new());
    }
    let final_url = response.url().clone(); // after redirects: the base for relative links
    let body = match response.text().await {
        Ok(body) => body,
        Err(error) => {
            report.kind = PageKind::NoResponse(reason(&error));
            return (report, Vec::new());
        }
    };
    // Parsed between awaits: the non-Send `Html` is created and dropped inside `extract`.
    let (title, headings, links) = extract(&body, &final_url);
    report.title = title;
    report.headings = headings;
    report.links = links.len();
    (report, links)
}
// ANCHOR_END: fetch_page_body
