# expect: SyntaxError: 'await' outside async function
# Rust: error[E0728] (tests/compile_fail/await_outside_async.rs)
import asyncio


async def fetch():
    return 42


def main():
    answer = await fetch()
    print(answer)


asyncio.run(main())
