//! `asyncio.gather` in Rust: run many futures at once and collect their results.
//!
//! | you want | use | results |
//! |---|---|---|
//! | a fixed set of futures | [`tokio::try_join!`](user_and_posts) / `tokio::join!` | a tuple |
//! | a dynamic set, every outcome (`return_exceptions=True`) | [`join_all`](fetch_join_all) | input order |
//! | a dynamic set, stop at the first error | [`try_join_all`](fetch_try_join_all) | input order |
//! | spawned tasks, results as they finish | [`JoinSet`](fetch_join_set) | completion order |
//! | at most `n` in flight | [`buffered` / `buffer_unordered`](fetch_bounded) | input / completion order |
//!
//! The functions fetch URLs with one shared `reqwest::Client`, the workload of the
//! tutorials; the shapes work for any futures. Run the demo with `cargo run -p gather`.

use std::fmt;

use futures::future::{join_all, try_join_all};
use futures::{StreamExt, stream};
use reqwest::Client;
use serde::Deserialize;
use tokio::task::JoinSet;

// ANCHOR: fetch
/// A failed fetch, with the URL it was for. Displays as one line: the URL, then every
/// cause down to the root (`connection refused`, `operation timed out`...).
#[derive(Debug, thiserror::Error)]
#[error("{url}: {}", patterns_core::error::chain(.error))]
pub struct FetchError {
    /// What was fetched.
    pub url: String,
    /// Why it failed; ask it `is_timeout()`, `is_connect()`, `status()`...
    pub error: reqwest::Error,
}

/// GETs `url` and returns the body's length; a non-2xx status is an error.
///
/// # Cancel safety
///
/// This method is cancel safe: a GET has no effect to lose, so a losing `select!` branch
/// only drops the request; reqwest closes a connection whose response is not complete, so
/// nothing stays open or half-read.
pub async fn fetch(client: &Client, url: &str) -> Result<usize, FetchError> {
    let attempt = async {
        let response = client.get(url).send().await?.error_for_status()?;
        Ok(response.bytes().await?.len())
    };
    attempt.await.map_err(|error: reqwest::Error| FetchError {
        url: url.to_owned(),
        error: error.without_url(), // the URL is ours to print, once
    })
}
// ANCHOR_END: fetch

/// A user of the JSON API: only the fields this code reads (serde skips the others).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: u32,
    /// Full name.
    pub name: String,
}

/// A post of the JSON API, likewise trimmed to what is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Post {
    /// The author's id.
    pub user_id: u32,
    /// One line.
    pub title: String,
}

// ANCHOR: try_join
/// A user and their posts: two requests of different types at once. For a fixed set,
/// `tokio::try_join!` returns a tuple, and the first error drops the other request.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops both GETs; reqwest closes a
/// connection whose response is not complete, so nothing stays open or half-read.
pub async fn user_and_posts(
    client: &Client,
    base_url: &str,
    user_id: u32,
) -> Result<(User, Vec<Post>), FetchError> {
    let user = fetch_json(client, format!("{base_url}/users/{user_id}"));
    let posts = fetch_json(client, format!("{base_url}/posts?user_id={user_id}"));
    tokio::try_join!(user, posts)
}
// ANCHOR_END: try_join

/// GETs `url` and decodes its JSON body into `T`.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the GET; reqwest closes a
/// connection whose response is not complete, so nothing stays open or half-read.
pub async fn fetch_json<T: serde::de::DeserializeOwned>(
    client: &Client,
    url: String,
) -> Result<T, FetchError> {
    let attempt = async {
        client
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    };
    attempt.await.map_err(|error: reqwest::Error| FetchError {
        url,
        error: error.without_url(),
    })
}

// ANCHOR: sequential
/// One after another: the baseline the concurrent versions are measured against.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the GET in flight, and the
/// bodies read so far are lost with it; reqwest closes a connection whose response is not
/// complete, so nothing stays open or half-read.
pub async fn fetch_sequential(client: &Client, urls: &[String]) -> Vec<Result<usize, FetchError>> {
    let mut results = Vec::with_capacity(urls.len());
    for url in urls {
        results.push(fetch(client, url).await);
    }
    results
}
// ANCHOR_END: sequential

// ANCHOR: join_all
/// All at once, every outcome kept in input order: `gather(..., return_exceptions=True)`.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops every GET at once, as
/// cancelling `gather` cancels its children; reqwest closes a connection whose response is
/// not complete, so nothing stays open or half-read.
pub async fn fetch_join_all(client: &Client, urls: &[String]) -> Vec<Result<usize, FetchError>> {
    join_all(urls.iter().map(|url| fetch(client, url))).await
}
// ANCHOR_END: join_all

// ANCHOR: try_join_all
/// All at once, stopping at the first error: plain `gather(...)`. The other futures are
/// dropped at that moment, which cancels their requests (asyncio's `gather` lets them run on).
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops every GET; reqwest closes a
/// connection whose response is not complete, so nothing stays open or half-read.
pub async fn fetch_try_join_all(
    client: &Client,
    urls: &[String],
) -> Result<Vec<usize>, FetchError> {
    try_join_all(urls.iter().map(|url| fetch(client, url))).await
}
// ANCHOR_END: try_join_all

// ANCHOR: join_set
/// Spawned tasks, collected as they finish (`asyncio.as_completed` over tasks). Each
/// result carries its index, because completion order is not input order. Dropping the
/// set aborts the tasks still running.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the `JoinSet`, which aborts
/// the tasks and with them their GETs; reqwest closes a connection whose response is not
/// complete, so nothing stays open or half-read.
pub async fn fetch_join_set(
    client: &Client,
    urls: &[String],
) -> Vec<(usize, Result<usize, FetchError>)> {
    let mut set = JoinSet::new();
    for (index, url) in urls.iter().enumerate() {
        // A task must own what it uses: Client is an Arc inside, cloning it is cheap.
        let (client, url) = (client.clone(), url.clone());
        set.spawn(async move { (index, fetch(&client, &url).await) });
    }
    let mut results = Vec::with_capacity(urls.len());
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(result) => results.push(result),
            // fetch never panics; a panic here would be a bug worth seeing.
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
    results
}
// ANCHOR_END: join_set

/// Whether a bounded fetch keeps input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `buffered`: results in input order (a slow early one holds back the rest).
    Input,
    /// `buffer_unordered`: results as they complete.
    Completion,
}

// ANCHOR: bounded
/// At most `limit` requests in flight: a stream of futures, polled `limit` at a time.
/// Results carry their index; with [`Order::Input`] they also come back in that order.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the `limit` GETs in flight,
/// and no other starts; reqwest closes a connection whose response is not complete, so
/// nothing stays open or half-read.
pub async fn fetch_bounded(
    client: &Client,
    urls: &[String],
    limit: usize,
    order: Order,
) -> Vec<(usize, Result<usize, FetchError>)> {
    let requests = stream::iter(urls.iter().enumerate())
        .map(|(index, url)| async move { (index, fetch(client, url).await) });
    match order {
        Order::Input => requests.buffered(limit).collect().await,
        Order::Completion => requests.buffer_unordered(limit).collect().await,
    }
}
// ANCHOR_END: bounded

// ANCHOR: report
/// Every outcome split into successes and failures: what a script does after
/// `gather(..., return_exceptions=True)`.
#[derive(Debug)]
pub struct Report {
    /// Bytes received per successful URL, in input order.
    pub succeeded: Vec<(String, usize)>,
    /// Every failure, in input order.
    pub failed: Vec<FetchError>,
}

impl Report {
    /// Splits results that are in input order.
    pub fn new(urls: &[String], results: Vec<Result<usize, FetchError>>) -> Self {
        let mut report = Self {
            succeeded: Vec::new(),
            failed: Vec::new(),
        };
        for (url, result) in urls.iter().zip(results) {
            match result {
                Ok(bytes) => report.succeeded.push((url.clone(), bytes)),
                Err(error) => report.failed.push(error),
            }
        }
        report
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.succeeded.len() + self.failed.len();
        write!(
            f,
            "{} of {total} collected, {} failed",
            self.succeeded.len(),
            self.failed.len()
        )
    }
}
// ANCHOR_END: report
