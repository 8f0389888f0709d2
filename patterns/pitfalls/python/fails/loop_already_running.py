# expect: RuntimeError: This event loop is already running
# Rust: "Cannot start a runtime from within a runtime" (tests/runtime_in_runtime.rs)
import asyncio


async def answer():
    return 42


def sync_helper():
    # a synchronous function that wants a result from async code
    loop = asyncio.get_event_loop()
    return loop.run_until_complete(answer())


async def main():
    print(sync_helper())


asyncio.run(main())
