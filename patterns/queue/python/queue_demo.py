"""Producers and consumers with asyncio.Queue: the Python side of patterns/queue.

Run: python patterns/queue/python/queue_demo.py [--producers 2 --consumers 3 --items 10]
"""

import argparse
import asyncio
import time


# ANCHOR: queue_api
async def one_item():
    queue = asyncio.Queue(maxsize=4)
    await queue.put("job")  # waits while the queue is full
    item = await queue.get()  # waits while it is empty
    queue.task_done()  # this item is finished
    await queue.join()  # waits until every item put is finished
    return item
# ANCHOR_END: queue_api


# ANCHOR: put_nowait
def put_nowait_on_a_full_queue():
    queue = asyncio.Queue(maxsize=2)
    queue.put_nowait("a")
    queue.put_nowait("b")
    item = "c"
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        return item  # not queued: the caller still holds it
# ANCHOR_END: put_nowait


# ANCHOR: producer
async def producer(queue, p, items, stop):
    put = 0
    for i in range(items):
        if stop.is_set():
            break
        await queue.put((p, i))
        put += 1
    return put
# ANCHOR_END: producer


# ANCHOR: consumer
async def consumer(queue, work, fail_every, aborted, tally):
    while True:
        item = await queue.get()
        try:
            if item is None:
                return
            if aborted.is_set():
                tally["unprocessed"].append(item)
                continue
            await asyncio.sleep(work)
            if fail_every and (item[1] + 1) % fail_every == 0:
                tally["failed"].append((item, f"item {item[0]}-{item[1]} could not be processed"))
            else:
                tally["processed"] += 1
        finally:
            queue.task_done()
# ANCHOR_END: consumer


# ANCHOR: run
async def run(args, items, stop_after=None, abort=False):
    queue = asyncio.Queue(maxsize=args.capacity)
    stop, aborted = asyncio.Event(), asyncio.Event()
    tally = {"processed": 0, "failed": [], "unprocessed": []}
    consumers = [asyncio.create_task(consumer(queue, args.work_ms / 1000, args.fail_every, aborted, tally))
                 for _ in range(args.consumers)]
    if stop_after is not None:
        def signal():
            stop.set()
            if abort:
                aborted.set()
        asyncio.get_running_loop().call_later(stop_after, signal)
    started = time.perf_counter()
    produced = sum(await asyncio.gather(*(producer(queue, p, items, stop) for p in range(args.producers))))
    await queue.join()  # every item processed, not only taken
    joined_after = time.perf_counter() - started
    for _ in consumers:
        await queue.put(None)  # one sentinel per consumer
    await asyncio.gather(*consumers)
    return produced, tally, joined_after
# ANCHOR_END: run


async def main(args):
    print(f"0. one item through put, get, task_done and join: {await one_item()}; "
          f"put_nowait on a full queue raised QueueFull, {put_nowait_on_a_full_queue()!r} still in hand")
    produced, tally, joined_after = await run(args, args.items)
    print(f"1. join returned after {joined_after:.2f} s: produced {produced}, "
          f"processed {tally['processed']}, failed {len(tally['failed'])}")
    for _, error in tally["failed"]:
        print(f"   failed: {error}")

    for label, abort in (("2. drained on stop", False), ("3. aborted", True)):
        produced, tally, _ = await run(args, 1_000_000, stop_after=0.1, abort=abort)
        accounted = tally["processed"] + len(tally["failed"]) + len(tally["unprocessed"])
        print(f"{label}: produced {produced}, processed {tally['processed']}, failed {len(tally['failed'])}, "
              f"left unprocessed {len(tally['unprocessed'])}: nothing lost: {produced == accounted}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--consumers", type=int, default=3)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--capacity", type=int, default=4)
    parser.add_argument("--work-ms", type=int, default=20)
    parser.add_argument("--fail-every", type=int, default=7)
    args = parser.parse_args()
    if min(args.producers, args.consumers, args.items, args.capacity) < 1:
        parser.error("--producers, --consumers, --items and --capacity must be at least 1")
    asyncio.run(main(args))
