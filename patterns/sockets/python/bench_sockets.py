"""The sockets benchmark's Python side: loopback round trips, client and server in one
event loop, written with streams and with the Protocol API.

Run: python patterns/sockets/python/bench_sockets.py --kind echo --size 64 --connections 100
"""

import asyncio
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)


# ANCHOR: echo_streams
async def echo_handler(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def ping_pong(host, port, size, trips):
    reader, writer = await asyncio.open_connection(host, port)
    message = b"\x07" * size
    for _ in range(trips):
        writer.write(message)
        await writer.drain()
        back = await reader.readexactly(size)
    writer.close()
    assert back == message
    return trips
# ANCHOR_END: echo_streams


async def frame_handler(reader, writer):
    try:
        while True:
            header = await reader.readexactly(4)
            (length,) = struct.unpack(">I", header)
            writer.write(header + await reader.readexactly(length))
            await writer.drain()
    except asyncio.IncompleteReadError:
        writer.close()


async def framed_requests(host, port, size, trips):
    reader, writer = await asyncio.open_connection(host, port)
    request = struct.pack(">I", size) + b"\x07" * size
    for _ in range(trips):
        writer.write(request)
        await writer.drain()
        (length,) = struct.unpack(">I", await reader.readexactly(4))
        await reader.readexactly(length)
    writer.close()
    return trips


# ANCHOR: echo_protocol
class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


class PingPong(asyncio.Protocol):
    """The client as callbacks: a message out, and the next once all of it is back."""

    def __init__(self, message, trips, done):
        self.message, self.left, self.done = message, trips, done
        self.pending = 0

    def connection_made(self, transport):
        self.transport = transport
        self.send()

    def send(self):
        self.pending = len(self.message)
        self.transport.write(self.message)

    def data_received(self, data):
        self.pending -= len(data)
        if self.pending == 0:
            self.left -= 1
            if self.left:
                self.send()
            else:
                self.transport.close()
                self.done.set_result(True)
# ANCHOR_END: echo_protocol


class Frames(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) < 4 + length:
                return
            self.transport.write(self.buffer[:4 + length])
            self.buffer = self.buffer[4 + length:]


class UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class UdpClient(asyncio.DatagramProtocol):
    """Sends tagged requests one after another; each answer sends the next."""

    def __init__(self, size, trips, done):
        self.payload, self.trips, self.done, self.id = b"\x07" * size, trips, done, 0

    def connection_made(self, transport):
        self.transport = transport
        self.send()

    def send(self):
        self.transport.sendto(struct.pack(">I", self.id) + self.payload)

    def datagram_received(self, data, addr):
        if data[:4] != struct.pack(">I", self.id):
            return  # a late answer to another request
        self.id += 1
        if self.id == self.trips:
            self.transport.close()
            self.done.set_result(True)
        else:
            self.send()


class UdpAnswers(asyncio.DatagramProtocol):
    """The streams-style UDP client: datagrams into a queue a coroutine awaits."""

    def __init__(self):
        self.queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)


async def udp_requests(address, size, trips):
    loop = asyncio.get_running_loop()
    transport, answers = await loop.create_datagram_endpoint(UdpAnswers, remote_addr=address)
    payload = b"\x07" * size
    for request_id in range(trips):
        tag = struct.pack(">I", request_id)
        transport.sendto(tag + payload)
        async with asyncio.timeout(1):
            while (await answers.queue.get())[:4] != tag:
                pass
    transport.close()
    return trips


async def one_run(kind, style, size, connections, per):
    loop = asyncio.get_running_loop()
    if kind == "udp":
        server, _ = await loop.create_datagram_endpoint(UdpEcho, local_addr=("127.0.0.1", 0))
        address = server.get_extra_info("sockname")
        if style == "streams":
            done = await asyncio.gather(
                *(udp_requests(address, size, per) for _ in range(connections)))
            total = sum(done)
        else:
            futures = [loop.create_future() for _ in range(connections)]
            for future in futures:
                await loop.create_datagram_endpoint(
                    lambda f=future: UdpClient(size, per, f), remote_addr=address)
            await asyncio.gather(*futures)
            total = per * connections
        server.close()
        return total
    if style == "streams":
        handler = echo_handler if kind == "echo" else frame_handler
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        client = ping_pong if kind == "echo" else framed_requests
        done = await asyncio.gather(*(client(host, port, size, per) for _ in range(connections)))
        total = sum(done)
    else:
        factory = Echo if kind == "echo" else Frames
        server = await loop.create_server(factory, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        message = b"\x07" * size
        if kind == "framed":
            message = struct.pack(">I", size) + message
        futures = [loop.create_future() for _ in range(connections)]
        for future in futures:
            await loop.create_connection(
                lambda f=future: PingPong(message, per, f), host, port)
        await asyncio.gather(*futures)
        total = per * connections
    server.close()
    return total


def workload_name(kind, size, connections):
    if kind == "echo":
        label = f"{size // 1024}kib" if size >= 1024 else f"{size}b"
        return f"echo-{label}-{connections}"
    return f"{kind}-{connections}"


def main():
    parser = bench_harness.arguments(__doc__, items=20_000)
    parser.add_argument("--kind", default="echo", choices=["echo", "framed", "udp"])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--connections", type=int, default=1)
    args = bench_harness.parse(parser)
    per = args.items // args.connections
    n = per * args.connections
    name = workload_name(args.kind, args.size, args.connections)
    for style in ("streams", "protocol"):
        durations = bench_harness.measure(
            args, lambda: one_run(args.kind, style, args.size, args.connections, per),
            expect=n, lost="round trips lost")
        bench_harness.emit(args, name, f"python-{style}", n, durations)


if __name__ == "__main__":
    main()
