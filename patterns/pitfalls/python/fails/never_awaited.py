# expect: RuntimeWarning: coroutine 'save' was never awaited
# Rust: unused_must_use (tests/compile_fail/future_not_awaited.rs)
# Run with -W error::RuntimeWarning it is still only printed ("Exception ignored in"),
# so this script fails on purpose once it has shown that nothing was saved.
import asyncio
import gc
import sys

saved = []


async def save():
    saved.append("row")


async def main():
    save()  # forgot await
    gc.collect()
    print(f"rows saved: {len(saved)}")


asyncio.run(main())
sys.exit(1 if not saved else 0)
