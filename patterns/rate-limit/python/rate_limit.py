"""Bounding concurrency versus bounding rate: the Python side of patterns/rate-limit.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/rate-limit/python/rate_limit.py --url http://127.0.0.1:8080
"""

import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiolimiter import AsyncLimiter

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: semaphore
async def fetch_with_semaphore(session, urls, limit):
    semaphore = asyncio.Semaphore(limit)
    in_flight = peak = 0

    async def one(url):
        nonlocal in_flight, peak
        async with semaphore:
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await fixture_server.fetch(session, url)
            finally:
                in_flight -= 1

    results = await asyncio.gather(*(one(u) for u in urls))
    return results, peak
# ANCHOR_END: semaphore


# ANCHOR: rate
async def fetch_at_rate(session, urls, per_second, burst):
    # aiolimiter: `burst` requests per `burst / per_second` seconds, a leaky bucket.
    limiter = AsyncLimiter(burst, burst / per_second)

    async def one(url):
        async with limiter:
            return await fixture_server.fetch(session, url)

    return await asyncio.gather(*(one(u) for u in urls))
# ANCHOR_END: rate


async def main(args):
    base = args.url.rstrip("/")
    n = args.requests
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        results, peak = await fetch_with_semaphore(session, [f"{base}/delay/100"] * n, args.limit)
        print(f"1. Semaphore({args.limit}): {len(results)} requests of 100 ms in "
              f"{time.perf_counter() - started:.2f} s; max in flight {peak}")

    port = urlsplit(base).port
    urls = [f"http://127.0.0.1:{port}/delay/100"] * (n // 2) + [f"http://localhost:{port}/delay/100"] * (n // 2)
    # ANCHOR: host_limits
    connector = aiohttp.TCPConnector(limit=3, limit_per_host=2)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        results = await asyncio.gather(*(fixture_server.fetch(session, u) for u in urls))
        print(f"2. TCPConnector(limit=3, limit_per_host=2), two hosts: {len(results)} requests in "
              f"{time.perf_counter() - started:.2f} s")
    # ANCHOR_END: host_limits

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        results = await fetch_at_rate(session, [f"{base}/users/1"] * n, args.per_second, args.burst)
        print(f"3. {args.per_second} per second, burst {args.burst}: {len(results)} fast requests in "
              f"{time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--per-second", type=int, default=10)
    parser.add_argument("--burst", type=int, default=1)
    args = fixture_server.parse(parser)
    if min(args.requests, args.limit, args.per_second, args.burst) < 1:
        parser.error("--requests, --limit, --per-second and --burst must be at least 1")
    asyncio.run(main(args))
