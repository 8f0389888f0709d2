"""Time limits in asyncio: wait_for, asyncio.timeout, ClientTimeout, retries with backoff.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/timeout/python/timeout.py --url http://127.0.0.1:8080
"""

import asyncio
import random
import socket
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: deadline
async def steps_under_one_deadline(session, base, budget):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    for step, delay in enumerate([200, 200, 400], start=1):
        try:
            async with asyncio.timeout_at(deadline):
                await fixture_server.fetch(session, f"{base}/delay/{delay}")
            verdict = "done"
        except TimeoutError:
            verdict = "timed out"
        left = max(0.0, deadline - loop.time())
        print(f"2. one deadline, step {step} ({delay} ms): {verdict}, "
              f"{left * 1000:.0f} ms of the budget left")
# ANCHOR_END: deadline


# ANCHOR: retry
async def retry(attempt, retries, first_delay, max_delay, budget):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    for try_number in range(1, retries + 2):
        try:
            async with asyncio.timeout_at(deadline):
                return await attempt(try_number)
        except TimeoutError:
            if loop.time() >= deadline:
                raise
            if try_number == retries + 1:
                raise
        wait = random.uniform(0, min(first_delay * 2 ** (try_number - 1), max_delay))  # full jitter
        if loop.time() + wait >= deadline:
            raise TimeoutError("out of time")
        await asyncio.sleep(wait)
# ANCHOR_END: retry


def blackhole():
    """A listening socket that never accepts; its backlog filled, connects to it hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(listener.getsockname())
        queued.append(client)
    return listener, queued


async def main(args):
    base = args.url.rstrip("/")
    async with aiohttp.ClientSession() as session:
        # ANCHOR: wait_for
        try:
            await asyncio.wait_for(fixture_server.fetch(session, f"{base}/delay/1000"), timeout=0.3)
        except TimeoutError:
            print("1. wait_for: the request raised TimeoutError after 0.3 s, and was cancelled")
        # ANCHOR_END: wait_for

        await steps_under_one_deadline(session, base, 0.7)

        # ANCHOR: race
        cancelled = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, cancelled.set)
        work = asyncio.create_task(fixture_server.fetch(session, f"{base}/delay/500"))
        timer = asyncio.create_task(asyncio.sleep(1.0))
        token = asyncio.create_task(cancelled.wait())
        done, pending = await asyncio.wait({work, timer, token}, return_when=asyncio.FIRST_COMPLETED)
        for loser in pending:
            loser.cancel()  # asyncio.wait leaves the losers running
        await asyncio.gather(*pending, return_exceptions=True)
        # ANCHOR_END: race
        winner = {work: "the work finished first", timer: "the deadline came first",
                  token: "the token came first, cancelled"}[done.pop()]
        print(f"3. asyncio.wait(FIRST_COMPLETED) of a 500 ms request, a 1 s timer and an event set at 200 ms: {winner}")

        # ANCHOR: all_within
        def three():
            return [fixture_server.fetch(session, f"{base}/delay/{d}") for d in (100, 500, 200)]

        try:  # one limit for the whole group: all results, or none
            await asyncio.wait_for(asyncio.gather(*three()), timeout=0.3)
        except TimeoutError:
            print("4. wait_for(gather(...), 0.3): TimeoutError, nothing kept")

        # one limit per item: the fast ones keep their results
        each = await asyncio.gather(*(asyncio.wait_for(f, 0.3) for f in three()), return_exceptions=True)
        kept = sum(not isinstance(r, BaseException) for r in each)
        print(f"   with a limit each: {kept} of {len(each)} kept")
        # ANCHOR_END: all_within

    # ANCHOR: client_timeouts
    # aiohttp's three limits: connecting, the wait for the next bytes, the whole request.
    strict = aiohttp.ClientTimeout(connect=0.2, sock_read=0.3, total=0.5)
    # ANCHOR_END: client_timeouts
    listener, queued = blackhole()
    host, port = listener.getsockname()
    async with aiohttp.ClientSession(timeout=strict) as session:
        started = time.perf_counter()
        try:
            await fixture_server.fetch(session, f"http://{host}:{port}/")
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            print(f"5. connect timeout: gave up after {(time.perf_counter() - started) * 1000:.0f} ms ({type(error).__name__})")
    for sock in queued + [listener]:
        sock.close()

    trickle = f"{base}/fault/trickle?chunks=5&interval_ms=200"
    patient = aiohttp.ClientTimeout(connect=0.2, sock_read=0.3, total=60)
    async with aiohttp.ClientSession(timeout=patient) as session:
        async with session.get(trickle) as response:
            body = await response.text()
        print(f"6. read timeout 0.3 s: a body trickling every 200 ms arrived whole ({len(body.splitlines())} lines)")
    async with aiohttp.ClientSession(timeout=strict) as session:
        started = time.perf_counter()
        try:
            async with session.get(trickle) as response:
                await response.text()
        except asyncio.TimeoutError:
            print(f"7. total timeout 0.5 s: the same 1 s body timed out after {(time.perf_counter() - started) * 1000:.0f} ms")

    async with aiohttp.ClientSession() as session:
        async def attempt(try_number):
            delay = 800 - 200 * min(try_number, 3)
            return await asyncio.wait_for(fixture_server.fetch(session, f"{base}/delay/{delay}"), timeout=0.3)

        started = time.perf_counter()
        await retry(attempt, retries=4, first_delay=0.1, max_delay=1.0, budget=3.0)
        print(f"8. retry with backoff and jitter: succeeded after {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    args = fixture_server.parse(parser)
    asyncio.run(main(args))
