"""The gather benchmark's Python side: N concurrent GETs of /delay/{ms} with aiohttp.

Three variants: aiohttp's default connector (at most 100 connections, what a tutorial
script gets), an unlimited one (limit=0), and one unlimited session reused across runs,
its pool warm as a service would run it: Python at its best.
Run: python patterns/gather/python/bench_gather.py --url http://127.0.0.1:8080 --items 1000
"""

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


# ANCHOR: bench
async def gather_with(session: aiohttp.ClientSession, url: str, n: int) -> float:
    async def one():
        async with session.get(url) as response:
            response.raise_for_status()
            await response.read()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - started
# ANCHOR_END: bench


async def fresh_sessions(url: str, n: int, limit: int, runs: int):
    """A new session (an empty connection pool) for the warm-up and for every run."""
    durations = []
    for _ in range(runs + 1):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as session:
            durations.append(await gather_with(session, url, n))
    return durations[1:]


async def one_pooled_session(url: str, n: int, runs: int):
    """One session whose pool the warm-up run fills, reused by every run."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        durations = [await gather_with(session, url, n) for _ in range(runs + 1)]
    return durations[1:]


def main():
    parser = bench_harness.arguments(__doc__, items=1000, url=True)
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--variant", default="all",
                        choices=["default", "unlimited", "unlimited-pooled", "all"])
    args = bench_harness.parse(parser)
    url = f"{args.url}/delay/{args.delay_ms}"
    variants = {
        "default": ("python-aiohttp-gather", lambda: fresh_sessions(url, args.items, 100, args.runs)),
        "unlimited": ("python-aiohttp-gather-unlimited", lambda: fresh_sessions(url, args.items, 0, args.runs)),
        "unlimited-pooled": ("python-aiohttp-gather-pooled", lambda: one_pooled_session(url, args.items, args.runs)),
    }
    chosen = variants.values() if args.variant == "all" else [variants[args.variant]]
    for variant, measure in chosen:
        durations = bench_harness.run_on(args.loop, measure())
        bench_harness.emit(args, "gather", variant, args.items, durations,
                           ideal_secs=args.delay_ms / 1000)

if __name__ == "__main__":
    main()
