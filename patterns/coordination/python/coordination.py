"""Coordination between tasks in asyncio: Event, Condition, Barrier, PriorityQueue and
LifoQueue, Futures with callbacks, TaskGroup, wait(FIRST_EXCEPTION), task ids, semaphores.

Run: .venv/bin/python patterns/coordination/python/coordination.py [--tasks 4]
"""

import argparse
import asyncio


# ANCHOR: event
async def event_demo(tasks: int) -> None:
    event = asyncio.Event()
    waiters = [asyncio.create_task(event.wait()) for _ in range(tasks)]
    await asyncio.sleep(0)  # let them start waiting
    event.set()
    woke = len(await asyncio.gather(*waiters))
    print(f"event: {woke} of {tasks} waiters woke at set()")
# ANCHOR_END: event

    event.clear()
    waiter = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    event.set()
    event.clear()  # the waiter was woken by set(): it still returns
    woke = await asyncio.wait_for(waiter, 5)
    print(f"event set then cleared at once: the waiter woke: {woke}")


# ANCHOR: condition
async def condition_demo(tasks: int) -> None:
    condition = asyncio.Condition()
    stock = 0

    async def buyer(wanted):
        async with condition:
            await condition.wait_for(lambda: stock >= wanted)
            return stock

    buyers = [asyncio.create_task(buyer(n)) for n in range(1, tasks + 1)]
    for _ in range(tasks):
        async with condition:
            stock += 1
            condition.notify_all()
# ANCHOR_END: condition
    saw = await asyncio.gather(*buyers)
    held = all(n > i for i, n in enumerate(saw))
    print(f"condition: {tasks} waiters, each woke when its predicate held: {held}")


# ANCHOR: barrier
async def barrier_demo(tasks: int) -> None:
    barrier = asyncio.Barrier(tasks)
    arrived = 0

    async def party():
        nonlocal arrived
        arrived += 1
        index = await barrier.wait()  # 0 for exactly one party, like is_leader()
        return index == 0, arrived
# ANCHOR_END: barrier

    passed = await asyncio.gather(*(party() for _ in range(tasks)))
    leaders = sum(leader for leader, _ in passed)
    together = all(n == tasks for _, n in passed)
    print(f"barrier: {tasks} tasks passed after all arrived: {together}, leaders: {leaders}")


# ANCHOR: future
async def future_demo() -> None:
    result = asyncio.get_running_loop().create_future()
    seen = []
    result.add_done_callback(lambda done: seen.append(done.result()))
    awaiters = [asyncio.create_task(asyncio.wait_for(result, 5)) for _ in range(3)]
    result.set_result(42)
    got = await asyncio.gather(*awaiters)
# ANCHOR_END: future
    print(f"future: 3 awaiters got {got}; callback saw {seen}")


# ANCHOR: ordered_queues
def ordered_queues() -> None:
    urgent_first, newest_first = asyncio.PriorityQueue(), asyncio.LifoQueue()
    for n in (5, 1, 3):
        urgent_first.put_nowait(n)
        newest_first.put_nowait(n)
    print("priority queue, put 5 1 3:", [urgent_first.get_nowait() for _ in range(3)])
    print("lifo queue, put 5 1 3:", [newest_first.get_nowait() for _ in range(3)])
    full = asyncio.PriorityQueue(maxsize=1)
    full.put_nowait(1)
    try:
        full.put_nowait(9)
    except asyncio.QueueFull:
        print("put_nowait on a full queue: QueueFull, the item stays with the caller")
    try:
        asyncio.LifoQueue().get_nowait()
    except asyncio.QueueEmpty:
        print("get_nowait on an empty queue: QueueEmpty")
# ANCHOR_END: ordered_queues


# ANCHOR: task_group
async def task_group_demo() -> None:
    cleanups = 0

    async def quick():
        return "quick"

    async def failing():
        await asyncio.sleep(0.01)
        raise ValueError("a failure")

    async def slow():
        nonlocal cleanups
        try:
            await asyncio.sleep(3600)
        finally:
            cleanups += 1  # runs when the group cancels this task

    try:
        async with asyncio.TaskGroup() as group:
            first = group.create_task(quick())
            group.create_task(failing())
            group.create_task(slow())
    except* ValueError as errors:
        print(f"task group: failures {[str(e) for e in errors.exceptions]}, "
              f"finished {[first.result()]}, cleanups run {cleanups}")
# ANCHOR_END: task_group


# ANCHOR: first_exception
async def first_failure_demo() -> None:
    async def one():
        return 1

    async def failing():
        await asyncio.sleep(0.01)
        raise ValueError("a failure")

    tasks = {asyncio.create_task(c) for c in (one(), failing(), asyncio.sleep(3600))}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    values = [t.result() for t in done if t.exception() is None]
    failures = [str(t.exception()) for t in done if t.exception() is not None]
    print(f"wait(FIRST_EXCEPTION): done {values}, failure {failures}, still running {len(pending)}")
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
# ANCHOR_END: first_exception


# ANCHOR: sleep_zero
async def sleep_zero_demo() -> None:
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    for _ in range(100):
        sum(range(1_000))  # a slice of CPU work
        await asyncio.sleep(0)  # let the other tasks run
    print(f"sleep(0): the ticker ran {ticks} times between 100 slices of work")
    ticking.cancel()
    await asyncio.gather(ticking, return_exceptions=True)  # gone before the next demo
# ANCHOR_END: sleep_zero


# ANCHOR: task_ids
async def task_ids_demo(tasks: int) -> None:
    release = asyncio.Event()

    async def waiting():
        await release.wait()
        return id(asyncio.current_task())

    running = [asyncio.create_task(waiting()) for _ in range(tasks)]
    alive = len(asyncio.all_tasks()) - 1  # all_tasks() includes this coroutine's own task
    release.set()
    ids = set(await asyncio.gather(*running))
# ANCHOR_END: task_ids
    print(f"task ids: {len(ids)} distinct of {tasks}; tasks alive while they waited: {alive}")


# ANCHOR: semaphore
async def semaphore_demo() -> None:
    semaphore = asyncio.BoundedSemaphore(2)
    for _ in range(3):
        async with semaphore:
            pass
    try:
        semaphore.release()  # one release too many
    except ValueError:
        print("semaphore: a release too many raises ValueError; 2 of 2 permits left")
# ANCHOR_END: semaphore


async def main(tasks: int) -> None:
    await event_demo(tasks)
    await condition_demo(tasks)
    await barrier_demo(tasks)
    await future_demo()
    ordered_queues()
    await task_group_demo()
    await first_failure_demo()
    await sleep_zero_demo()
    await task_ids_demo(tasks)
    await semaphore_demo()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=4, help="tasks that wait (1 to 10000)")
    args = parser.parse_args()
    if not 1 <= args.tasks <= 10_000:
        parser.error(f"--tasks {args.tasks}: must be from 1 to 10000")
    asyncio.run(main(args.tasks))
