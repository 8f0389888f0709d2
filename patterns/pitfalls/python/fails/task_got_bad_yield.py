# expect: RuntimeError: Task got bad yield: 1
# Rust: no such error; the nearest mistakes are in tests/wake_ups.rs.
import asyncio
import types


@types.coroutine
def hand_written():
    # a generator-based coroutine that yields a value the event loop cannot wait on
    yield 1


async def main():
    await hand_written()


asyncio.run(main())
