"""Async iterators and generators: the Python side of patterns/streams.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/streams/python/streams.py --url http://127.0.0.1:8080
"""

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: generator
async def async_range(start, end, delay):
    for i in range(start, end):
        await asyncio.sleep(delay)
        yield i
# ANCHOR_END: generator


# ANCHOR: class
class AsyncRange:
    def __init__(self, start, end, delay):
        self.next, self.end, self.delay = start, end, delay

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.next >= self.end:
            raise StopAsyncIteration
        await asyncio.sleep(self.delay)
        self.next += 1
        return self.next - 1
# ANCHOR_END: class


# ANCHOR: pages
async def items(session, base_url, per_page, requests):
    page = 1
    while page is not None:
        requests.append(page)  # counted, to show the laziness
        query = {"page": page, "per_page": per_page}
        async with session.get(f"{base_url}/items", params=query) as response:
            response.raise_for_status()
            body = await response.json()
        for item in body["items"]:
            yield item
        page = body["next_page"]
# ANCHOR_END: pages


async def get_page(session, base_url, number, per_page):
    query = {"page": number, "per_page": per_page}
    async with session.get(f"{base_url}/items", params=query) as response:
        response.raise_for_status()
        return await response.json()


# ANCHOR: concurrent_pages
async def items_concurrently(session, base_url, per_page, in_flight):
    first = await get_page(session, base_url, 1, per_page)
    for item in first["items"]:
        yield item
    rest = range(2, first["total_pages"] + 1)
    for start in range(0, len(rest), in_flight):  # in waves: a wave waits for its slowest
        wave = rest[start:start + in_flight]
        for page in await asyncio.gather(*(get_page(session, base_url, n, per_page) for n in wave)):
            for item in page["items"]:
                yield item
# ANCHOR_END: concurrent_pages


# ANCHOR: fetch_each
async def fetch_each(session, urls, in_flight):
    semaphore = asyncio.Semaphore(in_flight)

    async def body_length(url):
        async with semaphore, session.get(url) as response:
            response.raise_for_status()
            return url, len(await response.read())

    for next_done in asyncio.as_completed([body_length(u) for u in urls]):
        yield await next_done
# ANCHOR_END: fetch_each


async def main(args):
    n, delay = args.count, args.delay_ms / 1000
    started = time.perf_counter()
    values = [i async for i in async_range(0, n, delay)]
    print(f"1. async generator: {values} in {time.perf_counter() - started:.2f} s")
    values = []
    async for value in AsyncRange(0, n, delay):  # until __anext__ raises StopAsyncIteration
        values.append(value)
    print(f"2. __aiter__/__anext__ class, ended by StopAsyncIteration: {values}")
    it = aiter(async_range(0, n, 0))
    print(f"3. aiter/anext: first {await anext(it)}, second {await anext(it)}")

    base = args.url.rstrip("/")
    async with aiohttp.ClientSession() as session:
        requests = []
        stream = items(session, base, args.per_page, requests)
        print(f"4. the page generator is lazy: {len(requests)} requests before the first item")
        listed = [item async for item in stream]
        print(f"   {len(listed)} items over {len(requests)} pages, one page at a time")
        requests = []
        first = []
        stream = items(session, base, args.per_page, requests)
        async for item in stream:
            first.append(item)
            if len(first) == 3:
                break
        await stream.aclose()  # an abandoned generator should be closed
        print(f"   the first 3 items took {len(requests)} page request")

        listed = [item async for item in items_concurrently(session, base, args.per_page, 4)]
        in_order = [item["id"] for item in listed] == list(range(1, len(listed) + 1))
        print(f"5. pages 4 at a time: {len(listed)} items, in order: {in_order}")

        urls = [f"{base}/delay/{ms}" for ms in (300, 100, 200, 50, 250, 150)]
        done = [url async for url, _ in fetch_each(session, urls, 3)]
        print(f"6. one session, 3 in flight over {len(urls)} URLs: {len(done)} responses as they completed")

        # ANCHOR: combinators
        evens = (item["value"] async for item in items_concurrently(session, base, args.per_page, 4)
                 if item["value"] % 2 == 0)
        values = []
        async for value in evens:
            values.append(value)
            if len(values) == 20:
                break
        await evens.aclose()
        sums = [sum(values[i:i + 5]) for i in range(0, len(values), 5)]
        # ANCHOR_END: combinators
        print(f"7. filter, take(20), chunks(5), sum: sums {sums}")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--delay-ms", type=int, default=100)
    parser.add_argument("--per-page", type=int, default=10)
    args = fixture_server.parse(parser)
    if args.count < 0 or not 1 <= args.per_page <= 100:
        parser.error("--count must be at least 0 and --per-page from 1 to 100")
    asyncio.run(main(args))
