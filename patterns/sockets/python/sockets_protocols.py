"""The sockets demo with asyncio's callback API: the same servers as sockets_streams.py,
each written as a Protocol (connection_made, data_received, connection_lost,
pause_writing), driven by the same clients. The Rust side has one form for both: a task
per connection.

    .venv/bin/python patterns/sockets/python/sockets_protocols.py
"""

import asyncio
import json
import os
import struct
import tempfile

import sockets_streams as streams

IDLE = 10.0  # seconds a peer may take to send a whole line


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        self.transport.close()  # the peer half-closed: close our side too


# ANCHOR: protocol
class Shout(asyncio.Protocol):
    """Lines in capitals, with an idle timer and backpressure, as callbacks."""

    def __init__(self, counts, done):
        self.counts, self.done = counts, done
        self.buffer = b""
        self.skipping = False  # inside a line already refused as too long

    def connection_made(self, transport):
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(IDLE, transport.close)

    def data_received(self, data):
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.answer(line)
            # A whole line came: the peer gets IDLE again for the next one.
            self.timer.cancel()
            self.timer = asyncio.get_running_loop().call_later(IDLE, self.transport.close)
        if len(self.buffer) > streams.MAX_LINE:
            # Too long: drop what came; the rest of the line is dropped up to its newline.
            self.buffer = b""
            self.skipping = True

    # ANCHOR_END: protocol

    # ANCHOR: protocol_write
    def answer(self, line):
        if self.skipping or len(line) > streams.MAX_LINE:
            self.skipping = False
            self.reply(f"error: a line is over the limit of {streams.MAX_LINE} bytes")
            self.counts["refused"] += 1
            return
        try:
            text = line.rstrip(b"\r").decode()
        except UnicodeDecodeError:
            self.reply("error: a line is not UTF-8")
            self.counts["refused"] += 1
            return
        self.reply(text.upper())
        self.counts["answered"] += 1

    def reply(self, text):
        # write() never waits: while the peer reads slowly, the transport buffers
        # without bound and calls pause_writing. Stop reading until it resumes.
        self.transport.write((text + "\n").encode())

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()

    def eof_received(self):
        if self.buffer:  # a last line without its newline
            self.answer(self.buffer)
        self.transport.close()

    def connection_lost(self, exc):
        self.timer.cancel()
        self.done.set()
# ANCHOR_END: protocol_write


class Frames(asyncio.Protocol):
    """JSON frames behind a 4-byte length, cut out of data_received's chunks by hand."""

    def __init__(self, served):
        self.served, self.buffer = served, b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">I", self.buffer[:4])
            if length > streams.MAX_FRAME:
                self.served["over_limit"] += 1
                self.transport.close()  # refused from the header alone
                self.buffer = b""
                return
            if len(self.buffer) < 4 + length:
                return
            frame, self.buffer = self.buffer[4:4 + length], self.buffer[4 + length:]
            try:
                reply = streams.answer_request(json.loads(frame))
            except ValueError as not_json:
                reply = {"error": str(not_json)}
            body = json.dumps(reply, separators=(",", ":")).encode()
            self.transport.write(struct.pack(">I", len(body)) + body)
            self.served["answered"] += 1

    def eof_received(self):
        if self.buffer:
            self.served["truncated"] += 1  # the IncompleteReadError of the streams API
        self.transport.close()


async def serve_echo():
    return await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)


async def serve_lines(counts, done):
    return await asyncio.get_running_loop().create_server(
        lambda: Shout(counts, done), "127.0.0.1", 0)


async def serve_json(path, served):
    server = await asyncio.get_running_loop().create_unix_server(lambda: Frames(served), path)
    os.chmod(path, 0o600)
    return server


class ShoutOverTls(asyncio.Protocol):
    def __init__(self, served):
        self.served = served

    def connection_made(self, transport):  # after the handshake, as with streams
        self.transport = transport

    def data_received(self, data):
        if data.endswith(b"\n"):
            self.transport.write(data.upper())
            self.transport.close()
            self.served.put_nowait(True)


async def serve_tls(context, served):
    return await asyncio.get_running_loop().create_server(
        lambda: ShoutOverTls(served), "127.0.0.1", 0, ssl=context, ssl_handshake_timeout=5)


async def main():
    await streams.tcp_echo(serve_echo)
    await streams.lines(serve_lines)
    await streams.udp()  # DatagramProtocol: asyncio has no streams for UDP
    with tempfile.TemporaryDirectory() as directory:
        await streams.unix_json(os.path.join(directory, "sockets-demo.sock"), serve_json)
        await streams.tls(directory, serve_tls)


if __name__ == "__main__":
    asyncio.run(main())
