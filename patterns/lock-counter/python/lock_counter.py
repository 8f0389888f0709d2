"""Shared state in asyncio: the AsyncCounter, the lost update it prevents, threading.Lock.

Run: python patterns/lock-counter/python/lock_counter.py [--workers 8 --increments 1000]
"""

import argparse
import asyncio
import threading
import time


# ANCHOR: racy
class RacyCounter:
    def __init__(self):
        self.value = 0

    async def increment(self):
        current = self.value
        await asyncio.sleep(0)  # other tasks run here, and read the same value
        self.value = current + 1

    async def get(self):
        return self.value
# ANCHOR_END: racy


# ANCHOR: async_counter
class AsyncCounter:
    def __init__(self):
        self.value = 0
        self.lock = asyncio.Lock()

    async def increment(self):
        async with self.lock:
            current = self.value
            await asyncio.sleep(0)
            self.value = current + 1

    async def get(self):
        return self.value
# ANCHOR_END: async_counter


# ANCHOR: thread_lock
class ThreadLockCounter:
    """threading.Lock works in a coroutine only when nothing awaits while holding it."""

    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    async def increment(self):
        with self.lock:
            self.value += 1

    async def get(self):
        return self.value
# ANCHOR_END: thread_lock


# ANCHOR: actor
class ActorCounter:
    """One task owns the value; everyone else sends it messages through a queue."""

    def __init__(self):
        self.inbox = asyncio.Queue(maxsize=1024)
        self.task = asyncio.create_task(self._own())

    async def _own(self):
        value = 0
        while True:
            message, reply = await self.inbox.get()
            if message == "increment":
                value += 1
            else:
                reply.set_result(value)

    async def increment(self):
        await self.inbox.put(("increment", None))

    async def get(self):
        reply = asyncio.get_running_loop().create_future()
        await self.inbox.put(("get", reply))
        return await reply

    def close(self):
        self.task.cancel()  # nothing ends it on its own: no handle counting here
# ANCHOR_END: actor


async def hammer(counter, workers, increments):
    async def worker():
        for _ in range(increments):
            await counter.increment()

    await asyncio.gather(*(worker() for _ in range(workers)))
    return await counter.get()


async def main(args):
    expected = args.workers * args.increments
    print(f"{args.workers} tasks x {args.increments} increments: {expected} expected")
    racy = await hammer(RacyCounter(), args.workers, args.increments)
    print(f"1. read, await, write without a lock: {racy} ({expected - racy} lost updates)")
    for label, counter in (("2. AsyncCounter (asyncio.Lock held across the await)", AsyncCounter()),
                           ("3. threading.Lock (no await inside)", ThreadLockCounter())):
        started = time.perf_counter()
        value = await hammer(counter, args.workers, args.increments)
        exact = "exact" if value == expected else "WRONG"
        print(f"{label}: {value}, {exact}, in {time.perf_counter() - started:.3f} s")
    actor = ActorCounter()
    started = time.perf_counter()
    value = await hammer(actor, args.workers, args.increments)
    actor.close()
    exact = "exact" if value == expected else "WRONG"
    print(f"4. actor (one task owns the value): {value}, {exact}, in {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--increments", type=int, default=1000)
    args = parser.parse_args()
    if args.workers < 1 or args.increments < 1:
        parser.error("--workers and --increments must be at least 1")
    asyncio.run(main(args))
