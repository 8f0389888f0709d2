"""The timers benchmark's Python side: N loop.call_later callbacks due over 10 ms.

Run: python patterns/threads-timers-processes/python/bench_timers.py --items 100000
"""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)

SPREAD_MS = 10


# ANCHOR: bench
async def timers(n: int) -> int:
    loop = asyncio.get_running_loop()
    all_fired = loop.create_future()
    fired = 0

    def callback():
        nonlocal fired
        fired += 1
        if fired == n:
            all_fired.set_result(None)

    for i in range(n):
        loop.call_later((i % SPREAD_MS) / 1000, callback)
    await all_fired
    return fired
# ANCHOR_END: bench


def main():
    parser = bench_harness.arguments(__doc__, items=100_000)
    args = bench_harness.parse(parser)

    durations = bench_harness.measure(
        args, lambda: timers(args.items),
        expect=args.items, lost="timers lost")
    bench_harness.emit(args, "timers", "python-call_later", args.items, durations)


if __name__ == "__main__":
    main()
