"""The spawn benchmark's Python side: create and gather N no-op tasks.

Prints one JSON line in the bench harness's format.
Run: python patterns/basics/python/bench_spawn.py --items 100000 --runs 5
"""

import argparse
import asyncio
import json
import statistics
import time

import uvloop


async def noop(i: int) -> int:
    return i


# ANCHOR: spawn_many
async def spawn_and_gather(n: int) -> int:
    tasks = [asyncio.create_task(noop(i)) for i in range(n)]
    return sum(await asyncio.gather(*tasks))
# ANCHOR_END: spawn_many


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    args = parser.parse_args()
    durations = []
    for _ in range(args.runs):
        started = time.perf_counter()
        total = run_on(args.loop, spawn_and_gather(args.items))
        durations.append(time.perf_counter() - started)
        assert total == args.items * (args.items - 1) // 2, "tasks lost"
    secs = statistics.median_low(durations)
    print(json.dumps({
        "workload": "spawn",
        "variant": "python-asyncio-gather",
        "items": args.items,
        "secs": secs,
        "per_sec": args.items / secs,
        "runs": args.runs,
        "runtime": args.loop,
        "allocator": "pymalloc",
    }))


if __name__ == "__main__":
    main()
