"""The asyncio sidecar tested with pytest and pytest-asyncio: the Python beside the Rust
crate's tests/. Run by the workspace tests with FIXTURE_URL set:

    FIXTURE_URL=http://127.0.0.1:8080 python -m pytest patterns/testing/python
"""

import asyncio
import json
import os
from unittest.mock import AsyncMock, MagicMock

import aiohttp
import pytest

from cache_service import (HttpOrigin, NotFound, Permanent, Transient, User, UserCache,
                           serve_connection)


# ANCHOR: first_tests
@pytest.mark.asyncio
async def test_an_async_function_is_awaited_in_a_test():
    async def double(n):
        await asyncio.sleep(0)
        return 2 * n

    assert await double(21) == 42


@pytest.mark.asyncio
async def test_a_timeout_fires_without_waiting_for_it():
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):  # real time: asyncio has no paused clock
            await asyncio.sleep(3600)
# ANCHOR_END: first_tests


async def hang(_user_id):
    await asyncio.Event().wait()  # never set


def user(user_id):
    return User(user_id, f"User {user_id}", f"user{user_id}@example.com")


class FakeClock:
    """asyncio has no paused clock: the cache takes its clock as a parameter instead."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


# ANCHOR: fixtures
@pytest.fixture
def origin():
    fake = MagicMock()
    fake.fetch = AsyncMock(side_effect=user)
    return fake


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fixture_url():
    url = os.environ.get("FIXTURE_URL")
    if not url:
        pytest.skip("FIXTURE_URL is not set: start the fixture server")
    return url
# ANCHOR_END: fixtures


# ANCHOR: ttl
@pytest.mark.asyncio
async def test_an_entry_is_fresh_until_its_ttl(origin, clock):
    cache = UserCache(origin, ttl=30, clock=clock)
    await cache.get(1)
    clock.advance(29.999)
    await cache.get(1)
    assert origin.fetch.await_count == 1
    clock.advance(0.001)
    await cache.get(1)
    assert origin.fetch.await_count == 2
# ANCHOR_END: ttl


# ANCHOR: retries
@pytest.mark.asyncio
async def test_retries_wait_their_backoff(origin):
    origin.fetch.side_effect = [Transient("HTTP 503"), Transient("HTTP 503"), user(1)]
    sleep = AsyncMock()
    cache = UserCache(origin, first_delay=0.1, sleep=sleep)
    assert await cache.get(1) == user(1)
    assert origin.fetch.await_count == 3
    assert [c.args[0] for c in sleep.await_args_list] == [0.1, 0.2]
# ANCHOR_END: retries


@pytest.mark.asyncio
async def test_not_found_and_permanent_failures_are_not_retried(origin):
    origin.fetch.side_effect = [NotFound(1), Permanent("HTTP 400")]
    cache = UserCache(origin, sleep=AsyncMock())
    with pytest.raises(NotFound):
        await cache.get(1)
    with pytest.raises(Permanent):
        await cache.get(2)
    assert origin.fetch.await_count == 2


@pytest.mark.asyncio
async def test_concurrent_misses_share_one_fetch(origin):
    async def slow(user_id):
        await asyncio.sleep(0.01)
        return user(user_id)

    origin.fetch.side_effect = slow
    cache = UserCache(origin)
    users = await asyncio.gather(*(cache.get(7) for _ in range(100)))
    assert all(u.id == 7 for u in users)
    assert origin.fetch.await_count == 1
    assert cache.stats["joined"] == 99


# ANCHOR: timeouts
@pytest.mark.asyncio
async def test_a_hung_origin_is_cut_by_the_attempt_timeout(origin):
    origin.fetch.side_effect = hang
    cache = UserCache(origin, retries=1, attempt_timeout=0.01, sleep=AsyncMock())
    with pytest.raises(Transient, match="no answer within 10 ms"):
        await cache.get(1)


@pytest.mark.asyncio
async def test_a_deadline_around_the_lookup_raises_timeout_error(origin):
    origin.fetch.side_effect = hang
    cache = UserCache(origin)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(cache.get(1), 0.01)
# ANCHOR_END: timeouts


@pytest.mark.asyncio
async def test_a_cancelled_lookup_still_fills_the_cache(origin):
    release = asyncio.Event()

    async def gated(user_id):
        await release.wait()
        return user(user_id)

    origin.fetch.side_effect = gated
    cache = UserCache(origin)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(cache.get(1), 0.01)
    release.set()
    assert await cache.get(1) == user(1)
    assert origin.fetch.await_count == 1


# ANCHOR: stream_mock
@pytest.mark.asyncio
async def test_each_request_line_gets_its_reply_line(origin):
    reader = asyncio.StreamReader()
    reader.feed_data(b"GET 1\nPUT 1\n")
    reader.feed_eof()
    writer = MagicMock()
    writer.drain = AsyncMock()
    await serve_connection(reader, writer, UserCache(origin))
    written = [c.args[0] for c in writer.write.call_args_list]
    assert written == [
        b"OK " + json.dumps(user(1).__dict__, separators=(",", ":")).encode() + b"\n",
        b'ERR bad request "PUT 1": expected GET <id>\n',
    ]
    writer.close.assert_called_once()
# ANCHOR_END: stream_mock


# ANCHOR: real_http
@pytest.mark.asyncio
async def test_a_hundred_lookups_of_ten_users_reach_the_origin_ten_times(fixture_url):
    async with aiohttp.ClientSession() as session:
        origin = HttpOrigin(session, fixture_url)
        counted = MagicMock(wraps=origin)
        counted.fetch = AsyncMock(side_effect=origin.fetch)
        cache = UserCache(counted)
        users = await asyncio.gather(*(cache.get(i % 10 + 1) for i in range(100)))
        assert [u.id for u in users[:10]] == list(range(1, 11))
        assert counted.fetch.await_count == 10
        with pytest.raises(NotFound):
            await cache.get(404)
# ANCHOR_END: real_http
