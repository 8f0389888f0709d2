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

use fixture_server::api::{Item, Page};
use futures::{Stream, StreamExt, TryStreamExt, stream};
pub use gather::Order;
use gather::{FetchError, fetch, fetch_json};
use reqwest::Client;
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

// ANCHOR: pages
/// after the page whose `next_page` is empty; an error is yielded as the last item.
/// `query` is appended to every page's URL (`"&sort=asc"`, an API key...), or empty.
/// after the page whose `next_page` is empty; an error is yielded as the last item.
pub fn pages(
    client: Client,
    base_url: String,
    per_page: usize,
    query: String,
) -> impl Stream<Item = Result<Page, FetchError>> {
    stream::try_unfold(Some(1), move |next| {
        let (client, base_url, query) = (client.clone(), base_url.clone(), query.clone());
        async move {
            let Some(number) = next else { return Ok(None) };
            let url = format!("{base_url}/items?page={number}&per_page={per_page}{query}");
            let page: Page = fetch_json(&client, url).await?;
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
    query: String,
) -> impl Stream<Item = Result<Item, FetchError>> {
    pages(client, base_url, per_page, query)
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}
// ANCHOR_END: pages

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
    query: String,
) -> impl Stream<Item = Result<Item, FetchError>> {
    let page = move |number: usize| {
        let url = format!("{base_url}/items?page={number}&per_page={per_page}{query}");
        let client = client.clone();
        async move { fetch_json::<Page>(&client, url).await }
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
) -> impl Stream<Item = (&'a str, Result<usize, FetchError>)> + 'a {
    stream::iter(urls)
        .map(move |url| async move { (url.as_str(), fetch(client, url).await) })
        .buffer_unordered(in_flight.max(1))
}
// ANCHOR_END: fetch_each
