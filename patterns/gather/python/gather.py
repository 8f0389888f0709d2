"""asyncio.gather and friends, the Python side of patterns/gather.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/gather/python/gather.py --url http://127.0.0.1:8080
"""

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: fetch
async def fetch(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        response.raise_for_status()
        return len(await response.read())
# ANCHOR_END: fetch


# ANCHOR: user_and_posts
async def fetch_json(session: aiohttp.ClientSession, url: str):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def user_and_posts(session, base, user_id):
    return await asyncio.gather(
        fetch_json(session, f"{base}/users/{user_id}"),
        fetch_json(session, f"{base}/posts?user_id={user_id}"),
    )
# ANCHOR_END: user_and_posts


# ANCHOR: sequential
async def sequential(session, urls):
    return [await fetch(session, url) for url in urls]
# ANCHOR_END: sequential


# ANCHOR: gather
async def gather_outcomes(session, urls):
    return await asyncio.gather(*(fetch(session, u) for u in urls), return_exceptions=True)
# ANCHOR_END: gather


# ANCHOR: gather_all
async def gather_all(session, urls):
    # The first exception is raised here; the other fetches keep running.
    return await asyncio.gather(*(fetch(session, u) for u in urls))
# ANCHOR_END: gather_all


# ANCHOR: as_completed
async def as_completed(session, urls):
    async def indexed(i, url):
        return i, await fetch(session, url)

    tasks = [asyncio.create_task(indexed(i, u)) for i, u in enumerate(urls)]
    return [await next_done for next_done in asyncio.as_completed(tasks)]
# ANCHOR_END: as_completed


# ANCHOR: semaphore
async def bounded(session, urls, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(url):
        async with semaphore:
            return await fetch(session, url)

    return await asyncio.gather(*(one(u) for u in urls))
# ANCHOR_END: semaphore


def report(urls, results):
    failed = [(u, r) for u, r in zip(urls, results) if isinstance(r, BaseException)]
    return f"{len(urls) - len(failed)} of {len(urls)} collected, {len(failed)} failed", failed


async def main(args):
    base = args.url.rstrip("/")
    n, longest = args.count, args.delay_ms
    urls = [f"{base}/delay/{longest - (longest // 2) * i // n}" for i in range(n)]
    timeout = aiohttp.ClientTimeout(total=args.timeout_secs)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        user, posts = await user_and_posts(session, base, 1)
        print(f"0. gather of two: {user['name']} and {len(posts)} of their posts")

        started = time.perf_counter()
        results = await sequential(session, urls)
        print(f"1. sequential: {len(results)} of {n} collected, 0 failed in {time.perf_counter() - started:.2f} s")

        started = time.perf_counter()
        await gather_all(session, urls)
        print(f"2. gather: {n} of {n} collected, 0 failed in {time.perf_counter() - started:.2f} s, in input order")

        started = time.perf_counter()
        done = await as_completed(session, urls)
        print(f"3. as_completed: {n} tasks in {time.perf_counter() - started:.2f} s, completion order {[i for i, _ in done]}")

        started = time.perf_counter()
        await bounded(session, urls, args.limit)
        print(f"4. semaphore({args.limit}): {n} requests in {time.perf_counter() - started:.2f} s")

        started = time.perf_counter()
        try:
            await gather_all(session, [f"{base}/status/500"] + urls)
        except aiohttp.ClientResponseError as error:
            # The other requests are still running: gather does not cancel them.
            print(f"5. gather raised in {time.perf_counter() - started:.2f} s: {error.status} {error.message}")

        mixed = urls + [f"{base}/status/404", "http://127.0.0.1:1/refused"]
        line, failed = report(mixed, await gather_outcomes(session, mixed))
        print(f"6. gather(return_exceptions=True), every outcome kept: {line}")
        for url, error in failed:
            print(f"   failed: {url}: {type(error).__name__}: {error}")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--timeout-secs", type=int, default=10)
    args = fixture_server.parse(parser)
    asyncio.run(main(args))
