"""The caching sidecar in asyncio: a TTL cache with retries and one fetch per id in flight,
served over a line protocol (`GET 7` -> `OK {json}`), in front of the fixture server's
JSON API. The Python beside `cargo run -p testing`; its tests are test_cache_service.py.

    FIXTURE_URL=http://127.0.0.1:8080 python patterns/testing/python/cache_service.py
"""

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass

import aiohttp


@dataclass(frozen=True)
class User:
    """The part of the origin's user this service keeps; other fields are left behind."""

    id: int
    name: str
    email: str


class NotFound(Exception):
    """The origin has no such user: an answer, never retried."""


class Transient(Exception):
    """A failure that may pass: retried."""


class Permanent(Exception):
    """A failure that retrying will not fix."""


# ANCHOR: origin
class HttpOrigin:
    def __init__(self, session, base):
        self.session = session
        self.base = base.rstrip("/")

    async def fetch(self, user_id):
        try:
            async with self.session.get(f"{self.base}/users/{user_id}") as response:
                if response.status == 404:
                    raise NotFound(user_id)
                if response.status >= 500:
                    raise Transient(f"HTTP {response.status}")
                if response.status >= 400:
                    raise Permanent(f"HTTP {response.status}")
                data = await response.json()
        except aiohttp.ClientError as error:
            raise Transient(str(error)) from error
        return User(data["id"], data["name"], data["email"])
# ANCHOR_END: origin


class UserCache:
    def __init__(self, origin, ttl=30.0, retries=2, first_delay=0.1, attempt_timeout=5.0,
                 clock=time.monotonic, sleep=asyncio.sleep):
        self.origin = origin
        self.ttl = ttl
        self.retries = retries
        self.first_delay = first_delay
        self.attempt_timeout = attempt_timeout
        self.clock = clock  # injected, so tests can move time: asyncio has no paused clock
        self.sleep = sleep
        self.fresh = {}  # id -> (user, expires)
        self.loading = {}  # id -> Task
        self.stats = {"hits": 0, "misses": 0, "joined": 0, "fetches": 0}

    # ANCHOR: cache_get
    async def get(self, user_id):
        entry = self.fresh.get(user_id)
        if entry and self.clock() < entry[1]:
            self.stats["hits"] += 1
            return entry[0]
        task = self.loading.get(user_id)
        if task:
            self.stats["joined"] += 1
        else:
            self.stats["misses"] += 1
            task = asyncio.create_task(self._fetch_and_store(user_id))
            self.loading[user_id] = task
        # shield: a caller cancelled while waiting must not cancel the shared fetch
        return await asyncio.shield(task)

    async def _fetch_and_store(self, user_id):
        try:
            user = await self._fetch_with_retries(user_id)
            self.fresh[user_id] = (user, self.clock() + self.ttl)
            return user
        finally:
            del self.loading[user_id]
    # ANCHOR_END: cache_get

    # ANCHOR: cache_retries
    async def _fetch_with_retries(self, user_id):
        wait = self.first_delay
        for attempt in range(1, self.retries + 2):
            self.stats["fetches"] += 1
            try:
                return await asyncio.wait_for(self.origin.fetch(user_id), self.attempt_timeout)
            except TimeoutError:
                error = Transient(f"no answer within {int(self.attempt_timeout * 1000)} ms")
            except Transient as transient:
                error = transient
            if attempt == self.retries + 1:
                raise error
            await self.sleep(wait)
            wait *= 2
    # ANCHOR_END: cache_retries


# ANCHOR: protocol
def reply_line(user=None, error=None):
    if error is None:
        return "OK " + json.dumps(asdict(user), separators=(",", ":"))
    if isinstance(error, NotFound):
        return f"NOT_FOUND {error.args[0]}"
    return f"ERR {error}"


async def serve_connection(reader, writer, cache):
    try:
        while line := await reader.readline():
            text = line.decode(errors="replace").strip()
            verb, _, user_id = text.partition(" ")
            if verb != "GET" or not user_id.strip().isdigit():
                reply = f'ERR bad request "{text}": expected GET <id>'
            else:
                try:
                    reply = reply_line(user=await cache.get(int(user_id)))
                except (NotFound, Transient, Permanent) as error:
                    reply = reply_line(error=error)
            writer.write(reply.encode() + b"\n")
            await writer.drain()
    finally:
        writer.close()
# ANCHOR_END: protocol


async def request(reader, writer, line):
    writer.write(line.encode() + b"\n")
    await writer.drain()
    return (await reader.readline()).decode().strip()


async def main():
    base = os.environ.get("FIXTURE_URL", "http://127.0.0.1:8080")
    async with aiohttp.ClientSession() as session:
        cache = UserCache(HttpOrigin(session, base))
        server = await asyncio.start_server(
            lambda r, w: serve_connection(r, w, cache), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for line in ["GET 1", "GET 1", "GET 404", "GET x"]:
            print(f"{line} → {(await request(reader, writer, line))[:60]}")
        print(f"second lookup served from the cache: {cache.stats['hits'] == 1}")

        async def one_client():
            r, w = await asyncio.open_connection("127.0.0.1", port)
            reply = await request(r, w, "GET 2")
            w.close()
            return reply

        before = cache.stats["fetches"]
        replies = await asyncio.gather(*(one_client() for _ in range(10)))
        fetches = cache.stats["fetches"] - before
        all_found = all(r.startswith('OK {"id":2') for r in replies)
        print(f"10 lookups at once, {fetches} fetch: {fetches == 1 and all_found}")
        print(f"origin requests: {cache.stats['fetches']}")
        writer.close()
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
