"""The gather benchmark's Python side: N concurrent GETs of /delay/{ms} with aiohttp.

Three variants: aiohttp's default connector (at most 100 connections, what a tutorial
script gets), an unlimited one (limit=0), and one unlimited session reused across runs,
its pool warm as a service would run it: Python at its best.
Run: python patterns/gather/python/bench_gather.py --url http://127.0.0.1:8080 --items 1000
"""

import argparse
import asyncio
import json
import os
import statistics
import time

import aiohttp
import uvloop


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


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("FIXTURE_URL"))
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--variant", default="all",
                        choices=["default", "unlimited", "unlimited-pooled", "all"])
    args = parser.parse_args()
    if not args.url:
        parser.error("no --url and no FIXTURE_URL")
    url = f"{args.url.rstrip('/')}/delay/{args.delay_ms}"
    variants = {
        "default": ("python-aiohttp-gather", lambda: fresh_sessions(url, args.items, 100, args.runs)),
        "unlimited": ("python-aiohttp-gather-unlimited", lambda: fresh_sessions(url, args.items, 0, args.runs)),
        "unlimited-pooled": ("python-aiohttp-gather-pooled", lambda: one_pooled_session(url, args.items, args.runs)),
    }
    chosen = variants.values() if args.variant == "all" else [variants[args.variant]]
    for variant, measure in chosen:
        secs = statistics.median_low(run_on(args.loop, measure()))
        print(json.dumps({
            "workload": "gather", "variant": variant, "items": args.items, "secs": secs,
            "per_sec": args.items / secs, "runs": args.runs, "runtime": args.loop,
            "allocator": "pymalloc", "ideal_secs": args.delay_ms / 1000,
        }))


if __name__ == "__main__":
    main()
