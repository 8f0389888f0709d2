"""Tasks in asyncio: create_task, cancel, CancelledError, exceptions, shutdown, executors.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/tasks/python/tasks.py --url http://127.0.0.1:8080
"""

import asyncio
import sys
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: background
async def fetch_in_background(session, urls, other_work):
    tasks = [asyncio.create_task(fixture_server.fetch(session, url)) for url in urls]
    other = await other_work  # the tasks run meanwhile
    return other, await asyncio.gather(*tasks, return_exceptions=True)
# ANCHOR_END: background


# ANCHOR: cooperative
async def fetch_until_cancelled(name, session, url, checkpoint_url, report):
    completed = 0
    try:
        while True:
            await fixture_server.fetch(session, url)
            completed += 1
    except asyncio.CancelledError:
        # The async cleanup: it may await, then the cancellation must go on.
        await fixture_server.fetch(session, checkpoint_url)
        report.append((name, completed))
        raise
# ANCHOR_END: cooperative


async def stubborn(session, url):
    ignored = False
    while True:
        try:
            await fixture_server.fetch(session, url)
        except asyncio.CancelledError:
            # Swallowing the first cancellation: asyncio cannot force this task to stop;
            # only another cancel() at a later await can.
            if ignored:
                raise
            ignored = True


# ANCHOR: shutdown
async def run_workers(session, url, checkpoint_url, run_for, grace):
    report = []
    workers = [
        asyncio.create_task(
            fetch_until_cancelled(f"worker {i}", session, url, checkpoint_url, report))
        for i in range(3)
    ]
    straggler = asyncio.create_task(stubborn(session, url))
    await asyncio.sleep(run_for)
    everyone = workers + [straggler]
    for task in everyone:
        task.cancel()
    done, pending = await asyncio.wait(everyone, timeout=grace)
    for task in pending:
        task.cancel()  # ask again: asyncio has no forceful abort
    await asyncio.gather(*pending, return_exceptions=True)
    return report, len(pending)
# ANCHOR_END: shutdown


# ANCHOR: executor
def sum_until_stopped(limit, stop: threading.Event):
    total = 0
    for step in range(limit):
        if step % 4096 == 0 and stop.is_set():
            return f"stopped after {step} steps"
        total += step
    return total
# ANCHOR_END: executor


async def main(args):
    base = args.url.rstrip("/")
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        _, results = await fetch_in_background(session, [f"{base}/delay/300"] * 3, asyncio.sleep(0.2))
        ok = sum(1 for r in results if not isinstance(r, BaseException))
        print(f"1. background: {ok} tasks ran during 0.2 s of other work, all done in {time.perf_counter() - started:.2f} s")

        # ANCHOR: cancel
        cleaned = []

        async def cancellable():
            try:
                await asyncio.Event().wait()
            finally:
                cleaned.append("cancelled task cleaned up")

        task = asyncio.create_task(cancellable())
        await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            print(f"2. cancel: awaiting the task raised CancelledError; finally ran: {cleaned}")
        # ANCHOR_END: cancel

        # ANCHOR: exception
        async def broken():
            raise RuntimeError("something broke")

        try:
            await asyncio.create_task(broken())
        except RuntimeError as error:
            print(f"3. an exception inside a task is raised again by await: {error!r}")
        # ANCHOR_END: exception

        report, pending = await run_workers(session, f"{base}/delay/100", f"{base}/status/200",
                                            args.run_ms / 1000, args.grace_ms / 1000)
        for name, completed in report:
            print(f"4. {name} handled CancelledError after {completed} requests and ran its async cleanup")
        print(f"5. shutdown: {len(report)} workers stopped by themselves, {pending} had to be cancelled again")

        stop = threading.Event()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, sum_until_stopped, 2**62, stop)
        await asyncio.sleep(0.05)
        stop.set()  # future.cancel() would not stop the thread
        print(f"6. run_in_executor work checked its flag: {await future}")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    parser.add_argument("--run-ms", type=int, default=400)
    parser.add_argument("--grace-ms", type=int, default=300)
    args = fixture_server.parse(parser)
    asyncio.run(main(args))
