"""The distributed queue with redis-py's asyncio client (redis.asyncio): a stream, a
consumer group, XADD, XREADGROUP, XACK, XAUTOCLAIM, a dead-letter stream and a sink
that records each item once. Consumer c1 reads a batch and is cancelled before it
acknowledges anything: to Redis that is a crash, and the others claim its items.

Run: REDIS_URL=redis://127.0.0.1:6379/ python patterns/distributed-queue/python/distributed_queue.py
(the workspace tests start a throwaway Redis and set REDIS_URL).
"""

import asyncio
import os
import sys

import redis.asyncio as redis
from redis.exceptions import ResponseError

STREAM, GROUP, DEAD, SINK = "py:jobs", "workers", "py:jobs:dead", "py:jobs:sink"
BATCH, BLOCK_MS, CLAIM_IDLE_MS, MAX_DELIVERIES = 100, 1000, 200, 3
ITEMS = 2000


# ANCHOR: open
async def open_queue(url):
    r = redis.from_url(url)
    kind = (await r.type(STREAM)).decode()
    if kind not in ("stream", "none"):
        raise SystemExit(f"error: key {STREAM!r} holds a {kind}, not a stream")
    try:
        await r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as e:
        if "BUSYGROUP" not in str(e):  # the group is there already: keep it
            raise
    return r
# ANCHOR_END: open


# ANCHOR: put
async def put_many(r, items):
    async with r.pipeline(transaction=False) as pipe:  # one round trip for the lot
        for item_id, body in items:
            pipe.xadd(STREAM, {"id": item_id, "body": body})
        return await pipe.execute()
# ANCHOR_END: put


# ANCHOR: reader
async def open_reader(url):
    # Its own connection: the blocked read holds it. redis-py waits for a reply without
    # limit by default; a socket_timeout shorter than BLOCK_MS would cut every read short.
    reader = redis.from_url(url, single_connection_client=True)
    return reader, await reader.client_id()
# ANCHOR_END: reader


# ANCHOR: get
async def get(reader, name):
    reply = await reader.xreadgroup(GROUP, name, {STREAM: ">"}, count=BATCH, block=BLOCK_MS)
    return [(entry, fields, 1) for _, entries in reply for entry, fields in entries]
# ANCHOR_END: get


# ANCHOR: done
async def done(r, entries):
    if entries:
        await r.xack(STREAM, GROUP, *entries)  # task_done(), for the whole batch
# ANCHOR_END: done


# ANCHOR: reclaim
async def reclaim(r, name):
    _, claimed, _ = await r.xautoclaim(STREAM, GROUP, name, CLAIM_IDLE_MS, "0-0", count=BATCH)
    retry, dead = [], []
    for entry, fields in claimed:
        [pending] = await r.xpending_range(STREAM, GROUP, entry, entry, 1)
        attempt = pending["times_delivered"]
        if attempt > MAX_DELIVERIES:
            await dead_letter(r, entry, fields, attempt - 1)
            dead.append(fields[b"id"].decode())
        else:
            retry.append((entry, fields, attempt))
    return retry, dead
# ANCHOR_END: reclaim


# ANCHOR: dead_letter
async def dead_letter(r, entry, fields, deliveries):
    async with r.pipeline(transaction=True) as tx:  # MULTI … EXEC
        tx.xadd(DEAD, {**fields, "entry": entry, "deliveries": deliveries})
        tx.xack(STREAM, GROUP, entry)
        await tx.execute()
# ANCHOR_END: dead_letter


# ANCHOR: sink
async def record(r, item_id, value):
    return await r.hsetnx(SINK, item_id, value)  # 1 the first time, 0 for a duplicate
# ANCHOR_END: sink


# ANCHOR: consume
async def consume(url, name, stop, stats):
    r = await open_queue(url)
    reader, client_id = await open_reader(url)
    read = None
    while not stop.is_set():
        batch, dead = await reclaim(r, name)
        stats["dead"] += dead
        # ANCHOR: unblock
        if not batch:
            read = asyncio.ensure_future(get(reader, name))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({read, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set() and not read.done():
                await r.client_unblock(client_id)  # the read returns now, not dropped
            stopping.cancel()
            batch = await read
        # ANCHOR_END: unblock
        finished = []
        for entry, fields, attempt in batch:
            if fields[b"body"] == b"poison":
                continue  # left pending: redelivered, then dead-lettered
            if not await record(r, fields[b"id"], name):
                stats["duplicates"] += 1
            finished.append(entry)
        await done(r, finished)
    await reader.aclose()
    await r.aclose()
# ANCHOR_END: consume


# ANCHOR: crash
async def crash_after_one_batch(url):
    """c1 reads a batch and is cancelled holding it, as a killed process would."""
    reader, _ = await open_reader(url)
    batch = await get(reader, "c1")
    await reader.aclose()
    return len(batch)
# ANCHOR_END: crash


# ANCHOR: wait_drained
async def wait_drained(r):
    while True:  # queue.join(), across processes
        [group] = [g for g in await r.xinfo_groups(STREAM) if g["name"] == GROUP.encode()]
        if group["lag"] == 0 and group["pending"] == 0:
            return group
        await asyncio.sleep(0.02)
# ANCHOR_END: wait_drained


async def main():
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("error: set REDIS_URL to a Redis the demo may write py:jobs* keys to")
    r = await open_queue(url)
    await r.delete(STREAM, DEAD, SINK)
    r = await open_queue(url)

    items = [(f"item-{i}", f"job {i}") for i in range(ITEMS)]
    await asyncio.gather(*(put_many(r, items[i:i + 100]) for i in range(0, ITEMS, 100)))
    await put_many(r, [("poison-1", "poison")])
    held = await crash_after_one_batch(url)
    print(f"1. put {ITEMS} items and 1 poison item; consumer c1 abandoned {held} "
          "unacknowledged items")

    stop, stats = asyncio.Event(), {"dead": [], "duplicates": 0}
    workers = [asyncio.create_task(consume(url, f"c{n}", stop, stats)) for n in (2, 3)]
    group = await wait_drained(r)
    stop.set()
    await asyncio.gather(*workers)

    stored = await r.hlen(SINK)
    print(f"2. drained: {stored} of {ITEMS} items in the sink, each once: {stored == ITEMS}; "
          f"pending {group['pending']}")
    for _, fields in await r.xrange(DEAD):
        print(f"3. {fields[b'id'].decode()} dead-lettered after "
              f"{fields[b'deliveries'].decode()} deliveries")
    print(f"4. {stats['duplicates']} items were processed twice, and recorded once")
    print(f"nothing lost: {stored == ITEMS and stats['dead'] == ['poison-1']}")
    await r.delete(STREAM, DEAD, SINK)
    await r.aclose()


if __name__ == "__main__":
    asyncio.run(main())
