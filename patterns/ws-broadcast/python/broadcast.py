"""The chat hub of patterns/ws-broadcast in asyncio: the `websockets` library for the
browser side, `asyncio.start_server` for TCP lines, and one bounded queue per client, so
a client that stops reading is dropped instead of slowing the room or growing memory.

    python broadcast.py                                  # scripted conversation, then exit
    python broadcast.py --serve 127.0.0.1:8000 [--loop uvloop]
"""

import argparse
import asyncio
import json
import re
import signal
import socket
import sys
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.datastructures import Headers

PAGE = (Path(__file__).resolve().parents[1] / "src" / "page.html").read_text()
NAME = re.compile(r"^[\w-]{1,32}$")
MAX_LINE = 4096


class JoinRefused(Exception):
    pass


class Removed:
    """Put in a member's queue when the hub removes it; its writer says goodbye."""

    def __init__(self, reason):
        self.reason = reason


class Member:
    def __init__(self, name, capacity):
        self.name = name
        self.outbox = asyncio.Queue(maxsize=capacity)
        # Set by the connection: what to do if its writer is stuck in a send (the client
        # stopped reading) when the hub removes it.
        self.abort = lambda: None


def reason_text(reason):
    if reason == "too_slow":
        return f"too slow: {CAPACITY} messages behind"
    return {"quit": "quit", "shutdown": "server shutting down"}[reason]


def as_line(event):
    """The TCP line for an event, as the Rust hub's Display writes it."""
    kind = event["kind"]
    if kind == "welcome":
        here = ", ".join(event["present"])
        return f"* welcome {event['you']}; " + (f"here: {here}" if here else "nobody else is here")
    if kind == "joined":
        return f"* {event['name']} joined"
    if kind == "left":
        reason = event["reason"]
        return f"* {event['name']} left ({reason_text('too_slow' if isinstance(reason, dict) else reason)})"
    return f"{event['from']}: {event['text']}"


def reason_json(reason):
    return {"too_slow": {"behind": CAPACITY}} if reason == "too_slow" else reason


class Hub:
    def __init__(self, capacity):
        self.capacity = capacity
        self.members = {}
        self.closed = False

    # ANCHOR: join
    def join(self, name):
        if not NAME.match(name):
            raise JoinRefused(f"a name is 1 to 32 letters, digits, '-' or '_' (got {name!r})")
        if self.closed:
            raise JoinRefused("the server is shutting down")
        if name in self.members:
            raise JoinRefused(f'the name "{name}" is taken')
        member = Member(name, self.capacity)
        member.outbox.put_nowait({"kind": "welcome", "you": name, "present": sorted(self.members)})
        self._deliver({"kind": "joined", "name": name})
        self.members[name] = member
        return member
    # ANCHOR_END: join

    def say(self, member, text):
        if self.members.get(member.name) is member:
            self._deliver({"kind": "message", "from": member.name, "text": text}, skip=member)

    def leave(self, member):
        if self.members.get(member.name) is member:
            del self.members[member.name]
            self._deliver({"kind": "left", "name": member.name, "reason": "quit"})

    # ANCHOR: shut_down
    def shut_down(self):
        self.closed = True
        for member in list(self.members.values()):
            self._remove(member, "shutdown")
        self.members.clear()
    # ANCHOR_END: shut_down

    # ANCHOR: deliver
    def _deliver(self, event, skip=None):
        # put_nowait never waits: a full queue means that member fell behind.
        too_slow = []
        for member in list(self.members.values()):
            if member is not skip:
                try:
                    member.outbox.put_nowait(event)
                except asyncio.QueueFull:
                    too_slow.append(member)
        for member in too_slow:
            if self.members.get(member.name) is member:
                del self.members[member.name]
                self._remove(member, "too_slow")
                self._deliver({"kind": "left", "name": member.name, "reason": reason_json("too_slow")})

    @staticmethod
    def _remove(member, reason):
        # Its backlog is dropped: the reason goes first, and there is room for it. A
        # writer stuck in a send never gets to it, so the connection is aborted in 1 s.
        while not member.outbox.empty():
            member.outbox.get_nowait()
        member.outbox.put_nowait(Removed(reason))
        asyncio.get_running_loop().call_later(1, member.abort)
    # ANCHOR_END: deliver


CAPACITY = 64


async def pair(reader, writer):
    """Runs a connection's reader and writer; when one ends, the other is cancelled.
    An exception in the one that ended is raised here, not lost."""
    tasks = [asyncio.create_task(reader), asyncio.create_task(writer)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not task.cancelled() and isinstance(task.exception(), Exception):
            if not isinstance(task.exception(), (ConnectionError, ConnectionClosed)):
                raise task.exception()


# ANCHOR: websocket
async def websocket_client(hub, websocket):
    query = parse_qs(urlsplit(websocket.request.path).query)
    try:
        member = hub.join(query.get("name", [""])[0])
    except JoinRefused as error:
        await websocket.close(1008, str(error))
        return
    member.abort = websocket.transport.abort

    async def read():
        async for text in websocket:
            if isinstance(text, str) and text.strip():
                hub.say(member, text.strip())

    async def write():
        while True:
            event = await member.outbox.get()
            if isinstance(event, Removed):
                code = 1001 if event.reason == "shutdown" else 1008
                await websocket.close(code, reason_text(event.reason))
                return
            await websocket.send(json.dumps(event))

    try:
        await pair(read(), write())
    finally:
        hub.leave(member)
# ANCHOR_END: websocket


# ANCHOR: lines
async def line_client(hub, reader, writer):
    peer = writer.get_extra_info("peername")  # what a log line would show
    async def goodbye(line):
        writer.write(f"{line}\n".encode())
        try:
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except ConnectionError:
            pass

    try:
        name = (await asyncio.wait_for(reader.readline(), 10)).decode().strip()
        member = hub.join(name)
    except (JoinRefused, asyncio.TimeoutError, ValueError) as error:
        await goodbye(f"* error: {error}")
        return
    member.abort = writer.transport.abort

    async def read():
        while line := await reader.readline():  # ValueError past MAX_LINE
            if line.strip():
                hub.say(member, line.decode(errors="replace").strip())

    async def write():
        while True:
            event = await member.outbox.get()
            if isinstance(event, Removed):
                await goodbye(f"* disconnected: {reason_text(event.reason)}")
                return
            writer.write(f"{as_line(event)}\n".encode())
            await writer.drain()

    try:
        await pair(read(), write())
    except ValueError:
        await goodbye(f"* error: lines are at most {MAX_LINE} bytes")
    finally:
        hub.leave(member)
        del peer
# ANCHOR_END: lines


# ANCHOR: origin
def page(connection, request):
    """Serves the chat page at `/`; anything else goes on to the WebSocket handshake,
    from the server's own pages or from a client that is not a browser (no Origin).
    With a fixed address, `serve(..., origins=[None, "https://chat.example.com"])`
    does the same check."""
    if request.path == "/":
        headers = Headers([("Content-Type", "text/html; charset=utf-8")])
        return Response(200, "OK", headers, PAGE.encode())
    origin = request.headers.get("Origin")
    if origin is not None and origin.partition("://")[2] != request.headers.get("Host"):
        return connection.respond(HTTPStatus.FORBIDDEN, f"origin {origin!r} is not allowed\n")
    return None
# ANCHOR_END: origin


# ANCHOR: upgrade
async def start(hub, http_host, http_port, tcp_port):
    ws_server = await serve(
        lambda ws: websocket_client(hub, ws),
        http_host,
        http_port,
        process_request=page,
        max_size=MAX_LINE,
        ping_interval=5,
        ping_timeout=5,
        close_timeout=1,
    )
    tcp_server = await asyncio.start_server(
        lambda r, w: line_client(hub, r, w), http_host, tcp_port, limit=MAX_LINE
    )
    return ws_server, tcp_server
# ANCHOR_END: upgrade


# ANCHOR: shut_down
async def stop(hub, ws_server, tcp_server):
    tcp_server.close()
    hub.shut_down()
    ws_server.close(close_connections=False)
    await asyncio.sleep(0)  # let the writers see their goodbyes
    await asyncio.wait_for(ws_server.wait_closed(), 5)
    await tcp_server.wait_closed()
# ANCHOR_END: shut_down


async def serve_until_signal(address):
    host, _, port = address.rpartition(":")
    hub = Hub(CAPACITY)
    ws_server, tcp_server = await start(hub, host, int(port), 0 if port == "0" else int(port) + 1)
    http = ws_server.sockets[0].getsockname()
    tcp = tcp_server.sockets[0].getsockname()
    print(f"chat page: http://{http[0]}:{http[1]}/", flush=True)
    print(f"TCP lines: nc {tcp[0]} {tcp[1]}", flush=True)
    stopped = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stopped.set)
    await stopped.wait()
    await stop(hub, ws_server, tcp_server)


async def conversation():
    hub = Hub(CAPACITY)
    ws_server, tcp_server = await start(hub, "127.0.0.1", 0, 0)
    url = "ws://127.0.0.1:%d/ws" % ws_server.sockets[0].getsockname()[1]
    tcp_port = tcp_server.sockets[0].getsockname()[1]

    def show(who, event):
        print(f"{who} <- {as_line(event)}")

    ada = await connect(f"{url}?name=ada")
    show("ada", json.loads(await ada.recv()))
    bob_reader, bob = await asyncio.open_connection("127.0.0.1", tcp_port)
    bob.write(b"bob\n")
    print("bob <-", (await bob_reader.readline()).decode().strip())
    show("ada", json.loads(await ada.recv()))
    cy = await connect(f"{url}?name=cy")
    show("cy", json.loads(await cy.recv()))
    show("ada", json.loads(await ada.recv()))
    print("bob <-", (await bob_reader.readline()).decode().strip())

    await ada.send("hello from a WebSocket")
    print("bob <-", (await bob_reader.readline()).decode().strip())
    show("cy", json.loads(await cy.recv()))
    bob.write(b"hello from a TCP line\n")
    show("ada", json.loads(await ada.recv()))
    show("cy", json.loads(await cy.recv()))

    # slowpoke: a WebSocket handshake by hand, then it never reads (asyncio's stream
    # stops taking bytes once its buffer is full; a small socket buffer fills fast).
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ws_server.sockets[0].getsockname())
    slow_reader, slowpoke = await asyncio.open_connection(sock=sock, limit=4096)
    slowpoke.write(
        b"GET /ws?name=slowpoke HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    await slow_reader.readuntil(b"\r\n\r\n")
    print("bob <-", (await bob_reader.readline()).decode().strip())
    show("cy", json.loads(await cy.recv()))
    show("ada", json.loads(await ada.recv()))

    counts = {"bob": 0, "cy": 0}
    progressed = asyncio.Condition()

    async def bob_counts():
        while (line := (await bob_reader.readline()).decode().strip()) != "ada: done":
            if line.startswith("ada: flood "):
                counts["bob"] += 1
                async with progressed:
                    progressed.notify_all()
            elif line.startswith("* slowpoke left"):
                print("bob <-", line)

    async def cy_counts():
        while (event := json.loads(await cy.recv())).get("text") != "done":
            if event.get("text", "").startswith("flood "):
                counts["cy"] += 1
                async with progressed:
                    progressed.notify_all()

    readers = [asyncio.create_task(bob_counts()), asyncio.create_task(cy_counts())]
    sent, padding = 0, "x" * 200
    while "slowpoke" in hub.members and sent < 100_000:
        for _ in range(32):
            await ada.send(f"flood {sent} {padding}")
            sent += 1
        async with progressed:
            await progressed.wait_for(lambda: min(counts.values()) >= sent)
    await ada.send("done")
    await asyncio.gather(*readers)
    print(f"ada sent {sent} messages; bob got {counts['bob']}, cy got {counts['cy']}")
    print(f"nothing lost: {str(counts['bob'] == sent == counts['cy']).lower()}")
    show("ada", json.loads(await ada.recv()))

    await stop(hub, ws_server, tcp_server)
    print("bob <-", (await bob_reader.readline()).decode().strip())
    for who, client in (("cy", cy), ("ada", ada)):
        try:
            while True:
                await client.recv()
        except ConnectionClosed as closed:
            print(f"{who} <- closed {closed.rcvd.code} ({closed.rcvd.reason})")
    print(f"hub empty: {str(not hub.members).lower()}")
    slowpoke.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", metavar="HOST:PORT", help="serve until Ctrl-C")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--outbox", type=int, default=64, help="events a client may fall behind")
    args = parser.parse_args()
    if not 1 <= args.outbox <= 1_000_000:
        parser.error(f"--outbox is 1 to 1000000, got {args.outbox}")
    global CAPACITY
    CAPACITY = args.outbox
    if args.serve and not re.match(r"^[\w.\-]+:\d{1,5}$", args.serve):
        parser.error(f"--serve wants HOST:PORT, got {args.serve!r}")
    work = serve_until_signal(args.serve) if args.serve else conversation()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(work)
    else:
        asyncio.run(work)


if __name__ == "__main__":
    sys.exit(main())
