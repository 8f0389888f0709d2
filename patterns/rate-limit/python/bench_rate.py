"""The rate-limit benchmark's Python side: N GETs of /delay/{ms} bounded by Semaphore(c).

Run: python patterns/rate-limit/python/bench_rate.py --url http://127.0.0.1:8080 --items 200
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
async def bounded(url: str, n: int, concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        async def one():
            async with semaphore:
                async with session.get(url) as response:
                    response.raise_for_status()
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - started
# ANCHOR_END: bench


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("FIXTURE_URL"))
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    if not args.url:
        parser.error("no --url and no FIXTURE_URL")
    url = f"{args.url.rstrip('/')}/delay/{args.delay_ms}"
    durations = [run_on(args.loop, bounded(url, args.items, args.concurrency)) for _ in range(args.runs + 1)][1:]
    secs = statistics.median_low(durations)
    waves = -(-args.items // args.concurrency)
    print(json.dumps({
        "workload": "rate", "variant": "python-asyncio-Semaphore", "items": args.items, "secs": secs,
        "per_sec": args.items / secs, "runs": args.runs, "runtime": args.loop, "allocator": "pymalloc",
        "ideal_secs": waves * args.delay_ms / 1000,
    }))


if __name__ == "__main__":
    main()
