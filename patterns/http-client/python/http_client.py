"""aiohttp the way production code needs it: the Python side of patterns/http-client.

Needs the fixture server: `cargo run -p fixture-server`, then pass --url or set FIXTURE_URL.
Run: python patterns/http-client/python/http_client.py --url http://127.0.0.1:8080
"""

import asyncio
import json
import random
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: session
def make_session():
    timeout = aiohttp.ClientTimeout(connect=1, sock_read=1, total=2)
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=10)
    return aiohttp.ClientSession(timeout=timeout, connector=connector)
# ANCHOR_END: session


# ANCHOR: errors
async def get_json(session, url):
    try:
        async with session.get(url) as response:
            response.raise_for_status()
            body = await response.read()
        return json.loads(body)
    except aiohttp.InvalidURL as error:
        return f"{url}: InvalidURL: {error}"
    except aiohttp.ClientConnectorError as error:  # DNS failures and refused connections
        return f"{url}: {type(error).__name__}: {error.os_error}"
    except asyncio.TimeoutError:
        return f"{url}: TimeoutError"
    except aiohttp.ClientResponseError as error:
        return f"{url}: ClientResponseError: {error.status}"
    except aiohttp.ClientPayloadError as error:
        return f"{url}: ClientPayloadError: {error}"
    except json.JSONDecodeError as error:
        return f"{url}: JSONDecodeError: {error}"
# ANCHOR_END: errors


# ANCHOR: retry
IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}


def is_transient(error):
    if isinstance(error, aiohttp.ClientResponseError):
        return error.status >= 500
    if isinstance(error, aiohttp.ClientConnectorError):
        return isinstance(error.os_error, ConnectionRefusedError)  # not a DNS failure
    return isinstance(error, (asyncio.TimeoutError, aiohttp.ClientPayloadError))


async def send_with_retry(session, method, url, retries=2, first=0.05, cap=0.5):
    """The body, or (tries, the last error): a POST is sent once, whatever happens."""
    for tries in range(1, retries + 2):
        try:
            async with session.request(method, url) as response:
                response.raise_for_status()
                return await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            if method not in IDEMPOTENT or not is_transient(error) or tries > retries:
                return tries, error
        await asyncio.sleep(random.uniform(0, min(cap, first * 2 ** (tries - 1))))  # full jitter
# ANCHOR_END: retry


async def main(args):
    base = args.url.rstrip("/")
    url = f"{base}/users/1"
    async with make_session() as session:
        started = time.perf_counter()
        for _ in range(50):
            await get_json(session, url)
        pooled = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(50):
        async with make_session() as session:
            await get_json(session, url)
    fresh = time.perf_counter() - started
    print(f"1. 50 requests through one session's pool: {pooled:.3f} s; a session per request: {fresh:.3f} s")

    async with make_session() as session:
        # ANCHOR: typed
        user, *posts = await asyncio.gather(get_json(session, url),
                                            *(get_json(session, f"{base}/posts/{i}") for i in range(1, 6)))
        # ANCHOR_END: typed
        print(f"2. typed JSON (dicts, in Python): {user['name']} <{user['email']}> and {len(posts)} posts")

        failing = ["not a url", "http://no-such-host.invalid/", "http://127.0.0.1:1/",
                   f"{base}/delay/3000", f"{base}/status/503", f"{base}/fault/drop", f"{base}/fault/invalid-json"]
        print("3. every failure caught, and none stopped the others:")
        for line in await asyncio.gather(*(get_json(session, u) for u in failing)):
            print(f"   {line}")

        for method in ["GET", "POST"]:
            tries, error = await send_with_retry(session, method, f"{base}/status/503")
            verdict = (f"retried, gave up after {tries} tries" if tries > 1
                       else "sent once, not retried (not idempotent)")
            print(f"4. {method} of a 503: {verdict}: {type(error).__name__} {error.status}")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    args = fixture_server.parse(parser)
    asyncio.run(main(args))
