//! Async iterators and generators: Python's `async def ...: yield`, `__aiter__`/`__anext__`
//! and `async for`, as `futures::Stream`.
//!
//! - an async range three ways: [`range_unfold`] (`stream::unfold`), [`range_macro`]
//!   (the `async-stream` crate's `stream!`), [`AsyncRange`] (a hand-written `Stream`, the
//!   `__anext__` class);
//! - [`pages`] and [`items`]: a paginated API, one page fetched at a time only when
//!   polled, flattened into items, ending on the last page, errors as `Err` items;
//! - [`items_concurrently`]: the same items in order, with `n` page requests in flight;
//! - [`fetch_each`]: a stream of responses over URLs, sharing one client.
//!
//! Consume a stream with `while let Some(x) = stream.next().await` (`async for`), or with
//! combinators. Run the demo with `cargo run -p streams`.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::Client;
use serde::Deserialize;
use tokio::time::{Instant, Sleep, sleep};

// ANCHOR: unfold
/// `async_range` with `stream::unfold`: the state is the next number; each step waits,
/// then yields it.
pub fn range_unfold(start: u64, end: u64, delay: Duration) -> impl Stream<Item = u64> {
    stream::unfold(start, move |next| async move {
        if next >= end {
            return None;
        }
        sleep(delay).await;
        Some((next, next + 1))
    })
}
// ANCHOR_END: unfold

// ANCHOR: macro
/// `async_range` with the `async-stream` crate: reads like the Python generator.
pub fn range_macro(start: u64, end: u64, delay: Duration) -> impl Stream<Item = u64> {
    async_stream::stream! {
        for i in start..end {
            sleep(delay).await;
            yield i;
        }
    }
}
// ANCHOR_END: macro

// ANCHOR: by_hand
/// `async_range` by hand: the class with `__aiter__` and `__anext__`. `poll_next` is
/// `__anext__`; `Poll::Ready(None)` is `raise StopAsyncIteration`.
#[derive(Debug)]
pub struct AsyncRange {
    next: u64,
    end: u64,
    delay: Duration,
    /// The wait before the next item. Boxed so that `AsyncRange` is `Unpin`.
    timer: Pin<Box<Sleep>>,
}

impl AsyncRange {
    /// Yields `start..end`, each after `delay`.
    pub fn new(start: u64, end: u64, delay: Duration) -> Self {
        Self {
            next: start,
            end,
            delay,
            timer: Box::pin(sleep(delay)),
        }
    }
}

impl Stream for AsyncRange {
    type Item = u64;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        if self.next >= self.end {
            return Poll::Ready(None);
        }
        ready!(self.timer.as_mut().poll(cx)); // Pending until the timer fires
        let item = self.next;
        self.next += 1;
        let deadline = Instant::now() + self.delay;
        self.timer.as_mut().reset(deadline);
        Poll::Ready(Some(item))
    }
}
// ANCHOR_END: by_hand

/// One item of the paginated collection (the fields this code reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Item {
    /// From 1 to the collection's size.
    pub id: usize,
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: u64,
}

/// One page of the collection: its items and where to go next.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Page {
    /// Pages in the whole collection.
    pub total_pages: usize,
    /// The page to ask for next; `None` after the last one.
    pub next_page: Option<usize>,
    /// This page's items.
    pub items: Vec<Item>,
}

/// `GET {base_url}/items?page={number}&per_page={per_page}`, decoded.
async fn get_page(
    client: &Client,
    base_url: &str,
    number: usize,
    per_page: usize,
) -> reqwest::Result<Page> {
    let url = format!("{base_url}/items?page={number}&per_page={per_page}");
    client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

// ANCHOR: pages
/// Every page of the collection, fetched one at a time, each only when the stream is
/// polled for it (an async generator). The stream ends after the page whose `next_page`
/// is empty; an error is yielded as the last item.
pub fn pages(
    client: Client,
    base_url: String,
    per_page: usize,
) -> impl Stream<Item = reqwest::Result<Page>> {
    stream::try_unfold(Some(1), move |next| {
        let (client, base_url) = (client.clone(), base_url.clone());
        async move {
            let Some(number) = next else { return Ok(None) };
            let page = get_page(&client, &base_url, number, per_page).await?;
            let after = page.next_page;
            Ok(Some((page, after)))
        }
    })
}

/// Every item of the collection, in order: the pages, flattened.
pub fn items(
    client: Client,
    base_url: String,
    per_page: usize,
) -> impl Stream<Item = reqwest::Result<Item>> {
    pages(client, base_url, per_page)
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}
// ANCHOR_END: pages

/// Whether results keep the order of their requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `buffered`: in request order (a slow page holds back the ones after it).
    Input,
    /// `buffer_unordered`: as each page arrives.
    Completion,
}

// ANCHOR: concurrent_pages
/// The same items with up to `in_flight` pages requested at once: the first page tells how
/// many there are, the rest are fetched `buffered` (items in order) or `buffer_unordered`
/// (each page's items as soon as that page arrives).
pub fn items_concurrently(
    client: Client,
    base_url: String,
    per_page: usize,
    in_flight: usize,
    order: Order,
) -> impl Stream<Item = reqwest::Result<Item>> {
    let page = move |number: usize| {
        let (client, base_url) = (client.clone(), base_url.clone());
        async move { get_page(&client, &base_url, number, per_page).await }
    };
    stream::once(page(1))
        .map_ok(move |first| {
            let requests = stream::iter(2..=first.total_pages).map(page.clone());
            let rest = match order {
                Order::Input => requests.buffered(in_flight.max(1)).left_stream(),
                Order::Completion => requests.buffer_unordered(in_flight.max(1)).right_stream(),
            };
            stream::iter(std::iter::once(Ok(first))).chain(rest)
        })
        .try_flatten()
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}
// ANCHOR_END: concurrent_pages

// ANCHOR: fetch_each
/// One response per URL, `in_flight` at a time, as they complete, all sharing `client`
/// (and so its connection pool).
pub fn fetch_each<'a>(
    client: &'a Client,
    urls: &'a [String],
    in_flight: usize,
) -> impl Stream<Item = (&'a str, reqwest::Result<usize>)> + 'a {
    let body_length = async |url: &str| {
        let response = client.get(url).send().await?.error_for_status()?;
        Ok(response.bytes().await?.len())
    };
    stream::iter(urls)
        .map(move |url| async move { (url.as_str(), body_length(url).await) })
        .buffer_unordered(in_flight.max(1))
}
// ANCHOR_END: fetch_each
