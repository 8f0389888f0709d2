"""The priority benchmark's Python side: 4 producers, 4 consumers, asyncio.PriorityQueue(256).

Run: python patterns/coordination/python/bench_priority.py --items 400000
"""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)

PRODUCERS = 4
CONSUMERS = 4
CAPACITY = 256
LAST = float("inf")  # the sentinel: a priority queue sorts it, so it must sort last


def item(p: int, i: int, per: int) -> int:
    return (i * 0x9E3779B9 % per) * PRODUCERS + p


# ANCHOR: bench
async def through(per: int) -> int:
    queue = asyncio.PriorityQueue(maxsize=CAPACITY)

    async def produce(p):
        for i in range(per):
            await queue.put(item(p, i, per))

    async def consume():
        total = 0
        while True:
            n = await queue.get()
            if n == LAST:  # one sentinel per consumer, put after every item
                return total
            total += n

    consumers = [asyncio.create_task(consume()) for _ in range(CONSUMERS)]
    await asyncio.gather(*(produce(p) for p in range(PRODUCERS)))
    for _ in range(CONSUMERS):
        await queue.put(LAST)
    return sum(await asyncio.gather(*consumers))
# ANCHOR_END: bench


def main():
    parser = bench_harness.arguments(__doc__, items=400_000)
    args = bench_harness.parse(parser)
    per = args.items // PRODUCERS
    n = per * PRODUCERS
    expected = sum(item(p, i, per) for p in range(PRODUCERS) for i in range(per))

    durations = bench_harness.measure(
        args, lambda: through(per),
        expect=expected, lost="items lost")
    bench_harness.emit(args, "priority", "python-asyncio-PriorityQueue", n, durations)


if __name__ == "__main__":
    main()
