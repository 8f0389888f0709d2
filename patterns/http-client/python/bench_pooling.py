"""The pooling benchmark's Python side: N sequential GETs through one session, and with a
new session per request.

Run: python patterns/http-client/python/bench_pooling.py --url http://127.0.0.1:8080 --items 500
"""

import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


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


def main():
    parser = bench_harness.arguments(__doc__, items=500, url=True)
    args = bench_harness.parse(parser)
    url = f"{args.url}/users/1"
    for variant, measure in (("python-aiohttp-one-session", shared), ("python-aiohttp-session-per-request", per_request)):
        durations = bench_harness.repeat(args, lambda: bench_harness.run_on(args.loop, measure(url, args.items)))
        bench_harness.emit(args, "pooling", variant, args.items, durations)

if __name__ == "__main__":
    main()
