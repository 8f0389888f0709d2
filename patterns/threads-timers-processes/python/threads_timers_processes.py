"""The edges of the asyncio loop: call_later, threads, subprocesses, SIGTERM, contextvars.

Run: .venv/bin/python patterns/threads-timers-processes/python/threads_timers_processes.py
"""

import argparse
import asyncio
import contextvars
import os
import shlex
import signal
import threading


# ANCHOR: call_later
async def timers() -> None:
    loop = asyncio.get_running_loop()
    ran = []
    handles = [loop.call_later(ms / 1000, ran.append, ms) for ms in (30, 10, 40, 20)]
    handles[2].cancel()  # the 40 ms call
    await asyncio.sleep(0.06)
    print(f"call_later: ran in deadline order {ran} ms; the cancelled 40 ms call never ran")
# ANCHOR_END: call_later


# ANCHOR: sessions
async def deadlines() -> None:
    loop = asyncio.get_running_loop()
    expired, handles = [], {}

    def expire_after(name, seconds):  # touching a session is cancel, then schedule again
        if name in handles:
            handles[name].cancel()
        handles[name] = loop.call_later(seconds, expired.append, name)

    for name in ("a", "b", "c"):
        expire_after(name, 0.03)
    await asyncio.sleep(0.01)
    expire_after("b", 0.05)
    handles.pop("c").cancel()
    await asyncio.sleep(0.08)
# ANCHOR_END: sessions
    print(f"deadlines: expired {expired}; c was cancelled")


# ANCHOR: call_soon_threadsafe
async def from_a_thread() -> None:
    loop = asyncio.get_running_loop()
    received: asyncio.Queue = asyncio.Queue()

    def plain_thread():
        for n in (1, 2, 3):
            loop.call_soon_threadsafe(received.put_nowait, n)
        loop.call_soon_threadsafe(received.put_nowait, None)  # the end

    threading.Thread(target=plain_thread).start()
    got = []
    while (n := await received.get()) is not None:
        got.append(n)
# ANCHOR_END: call_soon_threadsafe
    print(f"call_soon_threadsafe: events from a plain thread, in order: {got}")


# ANCHOR: run_coroutine_threadsafe
async def coroutine_from_a_thread() -> None:
    loop = asyncio.get_running_loop()

    async def answer():
        await asyncio.sleep(0.01)
        return 42

    def plain_thread():
        result = asyncio.run_coroutine_threadsafe(answer(), loop).result(timeout=5)
        slow = asyncio.run_coroutine_threadsafe(asyncio.sleep(3600), loop)
        try:
            slow.result(timeout=0.02)
        except TimeoutError:
            timed_out = "TimeoutError"
        slow.cancel()  # a timed-out result() does not stop the coroutine: cancel does
        return result, timed_out

    result, timed_out = await asyncio.to_thread(plain_thread)
# ANCHOR_END: run_coroutine_threadsafe
    print(f"run_coroutine_threadsafe: {result}; with a 20 ms limit: {timed_out}")


# ANCHOR: subprocess
async def output_within(argv, limit):
    child = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = await asyncio.wait_for(child.communicate(), limit)
    except TimeoutError:
        child.kill()  # wait_for stopped waiting; without this the child runs on
        await child.wait()
        raise
    if child.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({child.returncode}): {stderr.decode().strip()}")
    return stdout
# ANCHOR_END: subprocess


async def child_processes(run: str, limit: float) -> None:
    stdout = await output_within(shlex.split(run), limit)
    print(f"subprocess `{run}` said: {stdout.decode().rstrip()}")
    try:
        await output_within(["sleep", "3600"], 0.1)
    except TimeoutError:
        print("subprocess: sleep did not finish within 100 ms, and was killed")
    # ANCHOR: lines
    child = await asyncio.create_subprocess_exec(
        "sh", "-c", "for n in 1 2 3; do echo line $n; done", stdout=asyncio.subprocess.PIPE)
    count = 0
    async for _line in child.stdout:
        count += 1
    await child.wait()
    # ANCHOR_END: lines
    print(f"subprocess lines as they came: {count}")


# ANCHOR: contextvars
request_id: contextvars.ContextVar = contextvars.ContextVar("request_id", default=None)


async def context() -> None:
    async def handle_request():
        request_id.set(7)
        # create_task copies the current context: the new task sees 7.
        return await asyncio.create_task(asyncio.sleep(0, result=request_id.get()))

    inherited = await asyncio.create_task(handle_request())
    print(f"contextvars: outside {request_id.get()}; a new task inherits {inherited}")
# ANCHOR_END: contextvars


# ANCHOR: signal
async def stop_on_signal(wait: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: stop.done() or stop.set_result(s.name))
    if wait:
        print(f"waiting for SIGTERM or Ctrl-C: kill -TERM {os.getpid()}")
    else:
        os.kill(os.getpid(), signal.SIGTERM)  # as a service manager would
    name = await stop
    print(f"{name} caught: cleaning up and exiting with 0, not killed")
# ANCHOR_END: signal


async def main(args) -> None:
    await timers()
    await deadlines()
    await from_a_thread()
    await coroutine_from_a_thread()
    await child_processes(args.run, args.limit_ms / 1000)
    await context()
    await stop_on_signal(args.until_signal)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="echo hello from a child process")
    parser.add_argument("--limit-ms", type=int, default=2_000)
    parser.add_argument("--until-signal", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.limit_ms <= 600_000:
        parser.error(f"--limit-ms {args.limit_ms}: must be from 1 to 600000")
    if not args.run.strip():
        parser.error("--run is empty: give a program to run")
    asyncio.run(main(args))
