"""The lock benchmark's Python side: W workers x N increments under one asyncio.Lock.

Run: python patterns/lock-counter/python/bench_lock.py --items 800000 --workers 8
"""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


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


def main():
    parser = bench_harness.arguments(__doc__, items=800_000)
    parser.add_argument("--workers", type=int, default=8)
    args = bench_harness.parse(parser)
    per = args.items // args.workers
    n = per * args.workers

    durations = bench_harness.measure(
        args, lambda: hammer(args.workers, per),
        expect=n, lost="lost updates")
    bench_harness.emit(args, "lock", "python-asyncio-Lock", n, durations)

if __name__ == "__main__":
    main()
