"""The streams benchmark's Python side: the first N items of the paginated collection (all
of it in the harness), through an async generator one page at a time, and with pages
fetched concurrently.

Run: python patterns/streams/python/bench_streams.py --url http://127.0.0.1:8080 --items 1000
"""

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


async def page(session, base, number, per_page):
    params = {"page": number, "per_page": per_page}
    async with session.get(f"{base}/items", params=params) as response:
        response.raise_for_status()
        return await response.json()


# ANCHOR: bench
async def sequential(session, base, per_page):
    number = 1
    while number is not None:
        body = await page(session, base, number, per_page)
        for item in body["items"]:
            yield item
        number = body["next_page"]


async def concurrent(session, base, per_page, in_flight):
    first = await page(session, base, 1, per_page)
    semaphore = asyncio.Semaphore(in_flight)

    async def bounded(number):
        async with semaphore:
            return await page(session, base, number, per_page)

    rest = [asyncio.create_task(bounded(n)) for n in range(2, first["total_pages"] + 1)]
    for body in [first] + [await task for task in rest]:  # in order
        for item in body["items"]:
            yield item
# ANCHOR_END: bench


async def run(variant, base, items, per_page, in_flight):
    """Streams the first `items` items (the harness sizes the collection to exactly that)."""
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        if variant == "sequential":
            stream = sequential(session, base, per_page)
        else:
            stream = concurrent(session, base, per_page, in_flight)
        count = 0
        async for _ in stream:
            count += 1
            if count == items:
                break
        await stream.aclose()
        return count, time.perf_counter() - started


def main():
    parser = bench_harness.arguments(__doc__, items=1000, url=True)
    parser.add_argument("--per-page", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=8)
    args = bench_harness.parse(parser)
    for variant in ("sequential", "concurrent"):
        def run_once():
            count, secs = bench_harness.run_on(args.loop, run(variant, args.url, args.items, args.per_page, args.in_flight))
            assert count == args.items, f"{count} items, expected {args.items}"
            return secs

        durations = bench_harness.repeat(args, run_once)
        bench_harness.emit(args, "streams", f"python-async-generator-{variant}", args.items, durations)

if __name__ == "__main__":
    main()
