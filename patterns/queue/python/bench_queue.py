"""The queue benchmark's Python side: N items through asyncio.Queue(capacity), with P
producers, C consumers, task_done() per item and one None sentinel per consumer.

Prints one JSON line in the bench harness's format, with the peak memory (ru_maxrss).
Run: python patterns/queue/python/bench_queue.py --items 1000000
"""

import asyncio
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


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


def main():
    parser = bench_harness.arguments(__doc__, items=1_000_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=1024)
    args = bench_harness.parse(parser)
    n = args.items // args.producers * args.producers
    expected = n * (n - 1) // 2

    durations = bench_harness.measure(
        args, lambda: move_items(n, args.producers, args.consumers, args.capacity),
        expect=expected, lost="items lost or doubled")
    bench_harness.emit(args, "queue", "python-asyncio-Queue", n, durations,
                       peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

if __name__ == "__main__":
    main()
