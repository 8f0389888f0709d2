"""The lock benchmark's Python side: W workers x N increments under one asyncio.Lock.

Run: python patterns/lock-counter/python/bench_lock.py --items 800000 --workers 8
"""

import argparse
import asyncio
import json
import statistics
import time

import uvloop


# ANCHOR: bench
class Counter:
    def __init__(self):
        self.value = 0
        self.lock = asyncio.Lock()

    async def increment(self):
        async with self.lock:
            self.value += 1


async def hammer(workers: int, increments: int) -> int:
    counter = Counter()

    async def worker():
        for _ in range(increments):
            await counter.increment()

    await asyncio.gather(*(worker() for _ in range(workers)))
    return counter.value
# ANCHOR_END: bench


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=800_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    per = args.items // args.workers
    n = per * args.workers
    durations = []
    for _ in range(args.runs + 1):  # the first run warms up
        started = time.perf_counter()
        value = run_on(args.loop, hammer(args.workers, per))
        durations.append(time.perf_counter() - started)
        assert value == n, "lost updates"
    secs = statistics.median_low(durations[1:])
    print(json.dumps({
        "workload": "lock", "variant": "python-asyncio-Lock", "items": n, "secs": secs,
        "per_sec": n / secs, "runs": args.runs, "runtime": args.loop, "allocator": "pymalloc",
    }))


if __name__ == "__main__":
    main()
