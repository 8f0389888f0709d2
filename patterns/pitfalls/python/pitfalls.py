"""Each classic asyncio mistake made on purpose and caught, then its fix: the Python beside
`cargo run -p pitfalls`. The scripts in fails/ make the same mistakes uncaught.

    python patterns/pitfalls/python/pitfalls.py
"""

import asyncio
import gc
import logging
import threading
import time
import types
import warnings


async def answer():
    return 42


def compile_error():
    # ANCHOR: await_outside
    try:
        compile("def main():\n    await answer()\n", "<demo>", "exec")
    except SyntaxError as error:
        print(f"await in a plain def: SyntaxError: {error.msg}")
    # ANCHOR_END: await_outside


async def forgotten_await():
    ran = []

    async def work():
        ran.append(1)

    # ANCHOR: forgotten
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        work()  # a coroutine object, created and dropped: its body never runs
        gc.collect()
    # ANCHOR_END: forgotten
    forgotten = len(ran)
    await work()
    print(f"forgot await: the work ran {forgotten} times; awaited: {len(ran)} time")
    for warning in caught:
        print(f"  {warning.category.__name__}: {warning.message}")


async def loop_in_a_loop():
    # ANCHOR: nested
    coroutine = answer()
    try:
        asyncio.get_running_loop().run_until_complete(coroutine)
    except RuntimeError as error:
        print(f"run_until_complete inside a running loop: RuntimeError: {error}")
    finally:
        coroutine.close()
    # ANCHOR_END: nested
    # ANCHOR: nested_fixes
    awaited = await answer()
    task = await asyncio.create_task(answer())
    loop = asyncio.get_running_loop()
    from_thread = await asyncio.to_thread(
        lambda: asyncio.run_coroutine_threadsafe(answer(), loop).result()
    )
    # ANCHOR_END: nested_fixes
    fixes = [awaited, task, from_thread]
    print(f"the fixes (await, create_task, run_coroutine_threadsafe): {fixes}; "
          f"every fix returned 42: {all(n == 42 for n in fixes)}")


@types.coroutine
def bad_yield():
    yield 1


async def task_got_bad_yield():
    try:
        await asyncio.create_task(bad_yield())
    except RuntimeError as error:
        print(f"a coroutine that yields a plain value: RuntimeError: {error}")


async def blocking_the_loop(block_s=0.2):
    # ANCHOR: slow_callback
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 0.05
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("asyncio").addHandler(handler)

    async def hasher():
        time.sleep(block_s)  # no await for the whole computation

    await asyncio.create_task(hasher(), name="hasher")
    # ANCHOR_END: slow_callback
    logging.getLogger("asyncio").removeHandler(handler)
    loop.set_debug(False)
    slow = [r.getMessage() for r in records if "took" in r.getMessage()]
    for message in slow:
        print(f"  asyncio debug: {message[:100]}...")
    named = len(slow) == 1 and "name='hasher'" in slow[0]
    print(f"the slow callback was named: {named}")


class Accounts:
    def __init__(self, step=0.05):
        self.balances = [100, 100]
        self.step = step

    def total(self):
        return sum(self.balances)

    # ANCHOR: naive
    async def transfer_naive(self, source, target, amount):
        self.balances[source] -= amount
        await asyncio.sleep(self.step)  # a cancellation here loses `amount`
        self.balances[target] += amount
    # ANCHOR_END: naive

    # ANCHOR: guarded
    async def transfer_guarded(self, source, target, amount):
        self.balances[source] -= amount
        try:
            await asyncio.sleep(self.step)
        except asyncio.CancelledError:
            self.balances[source] += amount  # undo, then let the cancellation go on
            raise
        self.balances[target] += amount
    # ANCHOR_END: guarded


async def cancellation():
    def report(variant, accounts):
        verdict = "money lost: True" if accounts.total() != 200 else "nothing lost: True"
        print(f"{variant} transfer cut short: {verdict} (balances {accounts.balances})")

    for variant, transfer in (("naive", Accounts.transfer_naive),
                              ("guarded", Accounts.transfer_guarded)):
        accounts = Accounts()
        try:
            await asyncio.wait_for(transfer(accounts, 0, 1, 50), 0.01)
        except TimeoutError:
            pass
        report(variant, accounts)

    # ANCHOR: shield
    accounts = Accounts()
    transfer = asyncio.ensure_future(accounts.transfer_naive(0, 1, 50))
    try:
        await asyncio.wait_for(asyncio.shield(transfer), 0.01)
    except TimeoutError:
        pass  # the wait was cancelled, the transfer was not
    await transfer
    # ANCHOR_END: shield
    report("shielded", accounts)


# ANCHOR: select_loop
async def read_while_ticking(reader, count, size):
    """asyncio.wait(FIRST_COMPLETED) in a loop: the read is a task, and a tick that wins
    leaves it running, so nothing it has read is lost."""
    messages, ticks = [], 0
    read = asyncio.ensure_future(reader.readexactly(size))
    while True:
        tick = asyncio.ensure_future(asyncio.sleep(0.005))
        done, _ = await asyncio.wait({read, tick}, return_when=asyncio.FIRST_COMPLETED)
        if tick in done:
            ticks += 1
        else:
            tick.cancel()
        if read in done:
            messages.append(read.result())
            if len(messages) == count:
                return messages, ticks
            read = asyncio.ensure_future(reader.readexactly(size))
# ANCHOR_END: select_loop


async def select_loop():
    reader = asyncio.StreamReader()
    sent = [bytes([n]) * 8 for n in range(10)]

    async def write_in_halves():
        for message in sent:
            reader.feed_data(message[:4])
            await asyncio.sleep(0.01)
            reader.feed_data(message[4:])
        reader.feed_eof()

    writing = asyncio.create_task(write_in_halves())
    got, ticks = await read_while_ticking(reader, len(sent), 8)
    await writing
    print(f"select loop: every message read whole while a timer ticked: "
          f"{got == sent and ticks > 0}")


def sync_and_async():
    # ANCHOR: sync_calls_async
    result = {}
    thread = threading.Thread(target=lambda: result.update(got=asyncio.run(answer())))
    thread.start()
    thread.join()
    # ANCHOR_END: sync_calls_async
    print(f"sync code got {result['got']} from async code: {result['got'] == 42}")


async def main():
    compile_error()
    await forgotten_await()
    await loop_in_a_loop()
    await task_got_bad_yield()
    await blocking_the_loop()
    await cancellation()
    await select_loop()


if __name__ == "__main__":
    asyncio.run(main())
    sync_and_async()
