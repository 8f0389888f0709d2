"""The spawn benchmark's Python side: create and gather N no-op tasks.

Prints one JSON line in the bench harness's format.
Run: python patterns/basics/python/bench_spawn.py --items 100000 --runs 5
"""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


async def noop(i: int) -> int:
    return i


# ANCHOR: spawn_many
async def spawn_and_gather(n: int) -> int:
    tasks = [asyncio.create_task(noop(i)) for i in range(n)]
    return sum(await asyncio.gather(*tasks))
# ANCHOR_END: spawn_many


def main():
    parser = bench_harness.arguments(__doc__, items=100_000)
    args = bench_harness.parse(parser)

    durations = bench_harness.measure(
        args, lambda: spawn_and_gather(args.items),
        expect=args.items * (args.items - 1) // 2, lost="tasks lost")
    bench_harness.emit(args, "spawn", "python-asyncio-gather", args.items, durations)

if __name__ == "__main__":
    main()
