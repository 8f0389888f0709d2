"""Don't block the event loop: the Python side of patterns/blocking.

Run: .venv/bin/python patterns/blocking/python/blocking.py [--block-ms 200 --tick-ms 10 --window 4]
"""

import argparse
import asyncio
import concurrent.futures
import time


def busy_for(seconds: float) -> int:
    """CPU work that never awaits."""
    started, spins = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        spins += 1
    return spins


async def ticker(period: float, worst: list):
    loop = asyncio.get_running_loop()
    scheduled = loop.time() + period
    while True:
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        worst[0] = max(worst[0], loop.time() - scheduled)
        scheduled = max(scheduled + period, loop.time())


async def lateness(period, work):
    worst = [0.0]
    task = asyncio.create_task(ticker(period, worst))
    await asyncio.sleep(period * 2)
    await work()
    await asyncio.sleep(period * 2)
    task.cancel()
    return worst[0] * 1000


# ANCHOR: offload
async def offloaded(seconds):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, busy_for, seconds)  # the default thread pool


async def to_thread(seconds):
    await asyncio.to_thread(busy_for, seconds)  # the same, since Python 3.9
# ANCHOR_END: offload


# ANCHOR: process_pool
async def in_process_pool(pool, seconds):
    # CPU work in parallel: a process per core, since the GIL keeps threads on one.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, busy_for, seconds)
# ANCHOR_END: process_pool


# ANCHOR: batches
async def fixed_batches(durations, size):
    for start in range(0, len(durations), size):
        await asyncio.gather(*(asyncio.sleep(d) for d in durations[start:start + size]))


async def sliding_window(durations, size):
    semaphore = asyncio.Semaphore(size)

    async def one(d):
        async with semaphore:
            await asyncio.sleep(d)

    await asyncio.gather(*(one(d) for d in durations))
# ANCHOR_END: batches


async def main(args):
    work, tick = args.block_ms / 1000, args.tick_ms / 1000

    async def inline():
        busy_for(work)

    late = await lateness(tick, inline)
    print(f"1. blocking inside async: the ticker was up to {late:.0f} ms late")
    late = await lateness(tick, lambda: offloaded(work))
    print(f"2. run_in_executor: the ticker was up to {late:.0f} ms late "
          "(the GIL still shares one core)")
    late = await lateness(tick, lambda: to_thread(work))
    print(f"3. to_thread: the ticker was up to {late:.0f} ms late")
    with concurrent.futures.ProcessPoolExecutor() as pool:
        await in_process_pool(pool, 0)  # start the worker before measuring
        late = await lateness(tick, lambda: in_process_pool(pool, work))
    print(f"4. ProcessPoolExecutor: the ticker was up to {late:.0f} ms late")

    durations = [0.4 if i % 4 == 0 else 0.05 for i in range(16)]
    started = time.perf_counter()
    await fixed_batches(durations, args.window)
    batches = time.perf_counter() - started
    started = time.perf_counter()
    await sliding_window(durations, args.window)
    window = time.perf_counter() - started
    print(f"5. 16 items (every 4th slow), {args.window} at a time: fixed batches {batches:.2f} s, "
          f"sliding window {window:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--block-ms", type=int, default=200, help="how long each blocking call takes")
    parser.add_argument("--tick-ms", type=int, default=10, help="the ticker's period")
    parser.add_argument("--window", type=int, default=4, help="items in flight at once")
    args = parser.parse_args()
    if min(args.block_ms, args.tick_ms, args.window) < 1:
        parser.error("--block-ms, --tick-ms and --window must be at least 1")
    asyncio.run(main(args))
