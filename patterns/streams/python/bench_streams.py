"""The streams benchmark's Python side: the first N items of the paginated collection (all
of it in the harness), through an async generator one page at a time, and with pages
fetched concurrently.

Run: python patterns/streams/python/bench_streams.py --url http://127.0.0.1:8080 --items 1000
"""

import argparse
import asyncio
import json
import os
import statistics
import time

import aiohttp
import uvloop


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


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("FIXTURE_URL"))
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--per-page", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    if not args.url:
        parser.error("no --url and no FIXTURE_URL")
    base = args.url.rstrip("/")
    for variant in ("sequential", "concurrent"):
        durations = []
        for _ in range(args.runs + 1):
            count, secs = run_on(args.loop, run(variant, base, args.items, args.per_page, args.in_flight))
            assert count == args.items, f"{count} items, expected {args.items}"
            durations.append(secs)
        secs = statistics.median_low(durations[1:])
        print(json.dumps({
            "workload": "streams", "variant": f"python-async-generator-{variant}", "items": args.items,
            "secs": secs, "per_sec": args.items / secs, "runs": args.runs, "runtime": args.loop,
            "allocator": "pymalloc",
        }))


if __name__ == "__main__":
    main()
