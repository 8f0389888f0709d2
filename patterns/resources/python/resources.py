"""Async context managers, the Python side of patterns/resources.

Needs the fixture server: start it with `cargo run -p fixture-server` and pass its URL,
or set FIXTURE_URL (the workspace tests do).
Run: python patterns/resources/python/resources.py --url http://127.0.0.1:8080
"""

import asyncio
import os
import shutil
import sys
import tempfile
import time
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import aiofiles

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/fixtures/python"))
import fixture_server  # noqa: E402  (found through the line above)


# ANCHOR: connection
class AsyncConnection:
    """One HTTP/1.1 connection, reused for every request until the `async with` ends."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{base_url!r}: plain http://host:port only")
        self.host, self.port = parts.hostname, parts.port or 80

    # ANCHOR: enter_exit
    async def __aenter__(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        print(f"   connected to {self.host}:{self.port}")
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.writer.close()
        await self.writer.wait_closed()
        print(f"   disconnected from {self.host}:{self.port}")
    # ANCHOR_END: enter_exit

    async def fetch(self, path: str) -> str:
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n"
        self.writer.write(request.encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = (await self.reader.readexactly(length)).decode()
        if not 200 <= status < 300:
            raise RuntimeError(f"GET {path}: {status}")
        return body
# ANCHOR_END: connection


# ANCHOR: timer
@asynccontextmanager
async def timer(label: str, results: dict):
    started = time.perf_counter()
    try:
        yield
    finally:
        results[label] = time.perf_counter() - started
# ANCHOR_END: timer


@asynccontextmanager
async def scratch_dir():
    path = tempfile.mkdtemp(prefix="resources-")
    try:
        yield path
    finally:
        await asyncio.to_thread(shutil.rmtree, path)


async def write_files(directory: str, sizes):
    async def write(i, size):
        path = os.path.join(directory, f"file{i + 1}.txt")
        async with aiofiles.open(path, "w") as f:
            await f.write("x" * size)
        return path

    return await asyncio.gather(*(write(i, s) for i, s in enumerate(sizes)))


# ANCHOR: process_file
async def process_file(path: str, work: float, timings: dict):
    name = os.path.basename(path)
    async with timer(name, timings):
        async with aiofiles.open(path) as f:
            content = await f.read()
        await asyncio.sleep(work)
    return name, len(content)
# ANCHOR_END: process_file


# ANCHOR: critical_section
async def critical_section(lock: asyncio.Lock, journal: list, name: str, hold: float):
    async with lock:
        journal.append(f"{name} acquired")
        await asyncio.sleep(hold)
        journal.append(f"{name} released")
# ANCHOR_END: critical_section


# ANCHOR: exit_stack
async def fetch_through_stack(urls, path):
    async with AsyncExitStack() as stack:
        scratch = await stack.enter_async_context(scratch_dir())
        connections = [await stack.enter_async_context(AsyncConnection(u)) for u in urls]
        sizes = []
        for i, connection in enumerate(connections):
            body = await connection.fetch(path)
            async with aiofiles.open(os.path.join(scratch, f"response-{i}.txt"), "w") as f:
                await f.write(body)
            sizes.append(len(body))
        return sizes
# ANCHOR_END: exit_stack


async def main(args):
    async with AsyncConnection(args.url) as connection:
        body = await connection.fetch(args.path)
    print(f"1. connected, fetched {len(body)} bytes of {args.path}, disconnected")

    timings = {}
    async with timer("all files", timings):
        async with scratch_dir() as directory:
            paths = await write_files(directory, [100 * (i + 1) for i in range(args.files)])
            reports = await asyncio.gather(*(process_file(p, args.work_ms / 1000, timings) for p in paths))
    each = ", ".join(f"{name} {size} B {timings[name]:.2f} s" for name, size in reports)
    print(f"2. {len(reports)} files processed concurrently in {timings['all files']:.2f} s: {each}")

    lock, journal = asyncio.Lock(), []
    await asyncio.gather(*(critical_section(lock, journal, n, 0.1) for n in ("task A", "task B")))
    print(f"3. the lock let one task in at a time: {', '.join(journal)}")

    urls = [args.url] * args.connections
    sizes = await fetch_through_stack(urls, args.path)
    print(f"4. exit stack released {len(urls)} connections and a scratch directory, after fetching {sizes} bytes")


if __name__ == "__main__":
    parser = fixture_server.arguments(__doc__)
    parser.add_argument("--path", default="/users/1")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--work-ms", type=int, default=300)
    parser.add_argument("--connections", type=int, default=2)
    args = fixture_server.parse(parser)
    asyncio.run(main(args))
