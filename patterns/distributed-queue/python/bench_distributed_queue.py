"""The distributed-queue benchmark's Python side: N items end to end through a Redis
Stream with redis.asyncio: one producer task XADDs them in pipelines of 100, C consumer
tasks XREADGROUP batches of 100 and XACK them per batch (pipelined) or per item.

Prints one JSON line per variant in the bench harness's format.
Run: python patterns/distributed-queue/python/bench_distributed_queue.py --redis-url redis://127.0.0.1:6379/
"""

import asyncio
import sys
import uuid
from pathlib import Path

import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)

GROUP = "workers"


# ANCHOR: bench
async def end_to_end(url, n, consumers, per_item):
    stream = f"bench:py:{uuid.uuid4().hex}"
    r = redis.from_url(url)
    await r.xgroup_create(stream, GROUP, id="0", mkstream=True)
    left = asyncio.Event()
    seen, readers = 0, []

    async def consume(name):
        nonlocal seen
        reader = redis.from_url(url, single_connection_client=True)
        readers.append(await reader.client_id())
        while not left.is_set():
            reply = await reader.xreadgroup(GROUP, name, {stream: ">"}, count=100, block=100)
            entries = [entry for _, batch in reply for entry, _ in batch]
            if per_item:
                for entry in entries:
                    await r.xack(stream, GROUP, entry)
            elif entries:
                await r.xack(stream, GROUP, *entries)
            seen += len(entries)
            if seen >= n and not left.is_set():
                left.set()
                for client_id in readers:  # the others' blocked reads return now
                    await r.client_unblock(client_id)
        await reader.aclose()

    workers = [asyncio.create_task(consume(f"c{c}")) for c in range(consumers)]
    for start in range(0, n, 100):
        async with r.pipeline(transaction=False) as pipe:
            for i in range(start, min(start + 100, n)):
                pipe.xadd(stream, {"id": f"item-{i}", "body": "x"})
            await pipe.execute()
    await asyncio.gather(*workers)
    await r.delete(stream)
    await r.aclose()
    return seen
# ANCHOR_END: bench


def main():
    parser = bench_harness.arguments(__doc__, items=20_000)
    parser.add_argument("--redis-url", required=True)
    args = bench_harness.parse(parser)
    for consumers in (1, 4):
        for per_item in (False, True):
            durations = bench_harness.measure(
                args, lambda: end_to_end(args.redis_url, args.items, consumers, per_item),
                expect=args.items, lost="items lost or doubled")
            ack = "ack-each" if per_item else "ack-batch"
            bench_harness.emit(args, "distributed-queue", f"python-redis-py-{consumers}-consumers-{ack}",
                               args.items, durations)


if __name__ == "__main__":
    main()
