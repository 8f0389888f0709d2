# expect: RuntimeError: asyncio.run() cannot be called from a running event loop
# Rust: the same panic as loop_already_running.py; SyncBridge documents it.
import asyncio


async def answer():
    return 42


def sync_helper():
    return asyncio.run(answer())


async def main():
    print(sync_helper())


asyncio.run(main())
