"""asyncio basics, the Python side of patterns/basics.

Run: python patterns/basics/python/basics.py [--names Ada,Grace] [--pause-ms 200]
"""

import argparse
import asyncio
import threading
import time


# ANCHOR: greet
async def greet(name: str, pause: float) -> str:
    await asyncio.sleep(pause)
    return f"Hello, {name}!"
# ANCHOR_END: greet


# ANCHOR: one_after_another
async def greet_one_after_another(names, pause):
    return [await greet(name, pause) for name in names]
# ANCHOR_END: one_after_another


# ANCHOR: gather
async def greet_with_gather(names, pause):
    # gather wraps each coroutine in a task; results keep the input order.
    return await asyncio.gather(*(greet(name, pause) for name in names))
# ANCHOR_END: gather


# ANCHOR: create_task
async def greet_in_tasks(names, pause):
    # create_task schedules at once; awaiting the task only collects the result.
    tasks = [asyncio.create_task(greet(name, pause)) for name in names]
    return [await task for task in tasks]
# ANCHOR_END: create_task


async def timed(coroutine):
    started = time.perf_counter()
    result = await coroutine
    return result, time.perf_counter() - started


async def async_sections(names, pause):
    n = len(names)
    _, took = await timed(greet_one_after_another(names, pause))
    print(f"1. one after another: {n} greetings in {took:.2f} s (the pauses add up)")
    greetings, took = await timed(greet_with_gather(names, pause))
    print(f"2. gather: {n} greetings in {took:.2f} s, in input order: {' '.join(greetings)}")
    _, took = await timed(greet_in_tasks(names, pause))
    print(f"3. create_task: {n} tasks in {took:.2f} s")

    ran = 0

    async def counted():
        nonlocal ran
        ran += 1

# ANCHOR: lazy
    coroutine = counted()
    before = ran  # 0: calling an async def runs nothing
    await coroutine
# ANCHOR_END: lazy
    print(f"4. coroutines are lazy: built one, it ran {before} times; awaited it, it ran {ran} time")


# ANCHOR: nested_run
def nested_run_is_refused():
    async def inner():
        coroutine = asyncio.sleep(0)
        try:
            asyncio.run(coroutine)
        except RuntimeError as error:
            coroutine.close()  # avoid "coroutine was never awaited"
            return str(error)
        return "not refused"

    return asyncio.run(inner())
# ANCHOR_END: nested_run


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", default="Alice,Bob,Carol")
    parser.add_argument("--pause-ms", type=int, default=200)
    args = parser.parse_args()
    names = [n for n in args.names.split(",") if n.strip()]
    if not names or not 0 <= args.pause_ms <= 10_000:
        parser.error("--names needs names and --pause-ms must be from 0 to 10000")

    # ANCHOR: asyncio_run
    # asyncio has one model: a single-threaded event loop, like Tokio's current-thread runtime.
    asyncio.run(async_sections(names, args.pause_ms / 1000))
    print(f"5. asyncio.run: one event loop on thread {threading.current_thread().name}")
    # ANCHOR_END: asyncio_run
    print(f"6. asyncio.run from sync code: {asyncio.run(greet('from sync code', 0))}")
    print(f"7. asyncio.run inside a running loop is refused: {nested_run_is_refused()}")


if __name__ == "__main__":
    main()
