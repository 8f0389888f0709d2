"""The pooling benchmark's Python side: N sequential GETs through one session, and with a
new session per request.

Run: python patterns/http-client/python/bench_pooling.py --url http://127.0.0.1:8080 --items 500
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
async def shared(url, n):
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for _ in range(n):
            async with session.get(url) as response:
                await response.read()
        return time.perf_counter() - started


async def per_request(url, n):
    started = time.perf_counter()
    for _ in range(n):
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                await response.read()
    return time.perf_counter() - started
# ANCHOR_END: bench


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("FIXTURE_URL"))
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    args = parser.parse_args()
    if not args.url:
        parser.error("no --url and no FIXTURE_URL")
    url = f"{args.url.rstrip('/')}/users/1"
    for variant, measure in (("python-aiohttp-one-session", shared), ("python-aiohttp-session-per-request", per_request)):
        durations = [run_on(args.loop, measure(url, args.items)) for _ in range(args.runs + 1)][1:]
        secs = statistics.median_low(durations)
        print(json.dumps({
            "workload": "pooling", "variant": variant, "items": args.items, "secs": secs,
            "per_sec": args.items / secs, "runs": args.runs, "runtime": args.loop, "allocator": "pymalloc",
        }))


if __name__ == "__main__":
    main()
