"""The queue benchmark's Python side: N items through asyncio.Queue(capacity), with P
producers, C consumers, task_done() per item and one None sentinel per consumer.

Prints one JSON line in the bench harness's format, with the peak memory (ru_maxrss).
Run: python patterns/queue/python/bench_queue.py --items 1000000
"""

import argparse
import asyncio
import json
import resource
import statistics
import time

import uvloop


# ANCHOR: bench
async def move_items(n: int, producers: int, consumers: int, capacity: int) -> int:
    queue = asyncio.Queue(maxsize=capacity)
    per = n // producers

    async def produce(p):
        for i in range(per):
            await queue.put(p * per + i)

    async def consume():
        total = 0
        while (item := await queue.get()) is not None:
            total += item
            queue.task_done()
        queue.task_done()
        return total

    workers = [asyncio.create_task(consume()) for _ in range(consumers)]
    await asyncio.gather(*(produce(p) for p in range(producers)))
    for _ in range(consumers):
        await queue.put(None)
    await queue.join()
    return sum(await asyncio.gather(*workers))
# ANCHOR_END: bench


def run_on(event_loop: str, coroutine):
    """asyncio.run, or uvloop.run: the loop is a flag, the code is the same."""
    return (uvloop.run if event_loop == "uvloop" else asyncio.run)(coroutine)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=1024)
    args = parser.parse_args()
    n = args.items // args.producers * args.producers
    expected = n * (n - 1) // 2
    durations = []
    for _ in range(args.runs + 1):  # the first run warms up
        started = time.perf_counter()
        total = run_on(args.loop, move_items(n, args.producers, args.consumers, args.capacity))
        durations.append(time.perf_counter() - started)
        assert total == expected, "items lost or doubled"
    secs = statistics.median_low(durations[1:])
    print(json.dumps({
        "workload": "queue", "variant": "python-asyncio-Queue", "items": n, "secs": secs,
        "per_sec": n / secs, "runs": args.runs, "runtime": args.loop, "allocator": "pymalloc",
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
