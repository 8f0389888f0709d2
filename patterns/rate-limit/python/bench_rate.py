"""The rate-limit benchmark's Python side: N GETs of /delay/{ms} bounded by Semaphore(c).

Run: python patterns/rate-limit/python/bench_rate.py --url http://127.0.0.1:8080 --items 200
"""

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


# ANCHOR: bench
async def bounded(url: str, n: int, concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        async def one():
            # The permit first, then the request: at most `concurrency` in flight.
            async with semaphore, session.get(url) as response:
                response.raise_for_status()
                return await response.read()

        started = time.perf_counter()
        bodies = await asyncio.gather(*(one() for _ in range(n)))
        assert len(bodies) == n
        return time.perf_counter() - started
# ANCHOR_END: bench


def main():
    parser = bench_harness.arguments(__doc__, items=200, url=True)
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    args = bench_harness.parse(parser)
    url = f"{args.url}/delay/{args.delay_ms}"
    durations = bench_harness.repeat(
        args, lambda: bench_harness.run_on(args.loop, bounded(url, args.items, args.concurrency)))
    waves = -(-args.items // args.concurrency)
    bench_harness.emit(args, "rate", "python-asyncio-Semaphore", args.items, durations,
                       ideal_secs=waves * args.delay_ms / 1000)

if __name__ == "__main__":
    main()
