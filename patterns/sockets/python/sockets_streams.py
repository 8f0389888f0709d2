"""The sockets demo in asyncio: a TCP echo with streams, a line server fed bad lines,
a UDP exchange through DatagramProtocol whose first datagram the server drops, JSON
frames over a Unix socket cut short and over the limit, and TLS with a client that does
not trust the server and one that does not speak TLS.

    .venv/bin/python patterns/sockets/python/sockets_streams.py
"""

import asyncio
import json
import os
import ssl
import struct
import subprocess
import tempfile

MAX_LINE = 64


# ANCHOR: echo
async def echo(reader, writer):
    """Writes back everything until the peer half-closes, then closes."""
    echoed = 0
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
        echoed += len(data)
    writer.close()
    await writer.wait_closed()
    return echoed
# ANCHOR_END: echo


async def serve_echo():
    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def tcp_echo(serve=serve_echo):
    server = await serve()
    host, port = server.sockets[0].getsockname()[:2]
    reader, writer = await asyncio.open_connection(host, port)
    sent = b"x" * 100_000
    writer.write(sent)
    await writer.drain()
    writer.write_eof()
    back = await reader.read()  # to EOF
    writer.close()
    server.close()
    await server.wait_closed()
    print(f"tcp echo: {len(sent)} bytes sent, {len(back)} back, "
          f"nothing lost: {'true' if back == sent else 'false'}, connections: 1")


# ANCHOR: shout
async def skip_line(reader):
    """Drops the rest of a line longer than the reader's limit, its newline included."""
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as over:
            await reader.readexactly(over.consumed)


async def shout(reader, writer, counts):
    """Answers each line in capitals; a line too long or not UTF-8 gets an error line."""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as cut:
            line = cut.partial  # the last line, without its newline
            if not line:
                break
        except asyncio.LimitOverrunError:
            await skip_line(reader)
            writer.write(f"error: a line is over the limit of {MAX_LINE} bytes\n".encode())
            counts["refused"] += 1
            continue
        try:
            text = line.rstrip(b"\r\n").decode()
        except UnicodeDecodeError:
            writer.write(b"error: a line is not UTF-8\n")
            counts["refused"] += 1
            continue
        writer.write((text.upper() + "\n").encode())
        await writer.drain()
        counts["answered"] += 1
    writer.close()
# ANCHOR_END: shout


async def serve_lines(counts, done):
    async def handle(reader, writer):
        await shout(reader, writer, counts)
        done.set()

    # `limit`: the longest line readuntil returns before LimitOverrunError.
    return await asyncio.start_server(handle, "127.0.0.1", 0, limit=MAX_LINE)


async def lines(serve=serve_lines):
    counts = {"answered": 0, "refused": 0}
    done = asyncio.Event()
    server = await serve(counts, done)
    host, port = server.sockets[0].getsockname()[:2]
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"hello\n" + b"y" * (MAX_LINE + 1) + b"\n" + "\ufffd\n".encode())
    writer.write(b"\xff\xfe\nbye\n")
    writer.write_eof()
    while answer := await reader.readline():
        print(f"line server: {answer.decode().rstrip()}")
    await done.wait()
    server.close()
    await server.wait_closed()
    print(f"line server: {counts['answered']} answered, {counts['refused']} refused")


# ANCHOR: datagram_server
class Capitals(asyncio.DatagramProtocol):
    """Answers each datagram in capitals, but drops the first, as a lossy network would."""

    def __init__(self):
        self.seen = self.answered = self.dropped = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.seen += 1
        if self.seen == 1:
            self.dropped += 1
            return
        self.transport.sendto(data.upper(), addr)
        self.answered += 1
# ANCHOR_END: datagram_server


# ANCHOR: datagram
class Answers(asyncio.DatagramProtocol):
    """The client's side: every datagram goes into a queue the request reads."""

    def __init__(self):
        self.queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)


async def request(transport, answers, request_id, payload, per_try=0.2, tries=3):
    tag = struct.pack(">I", request_id)
    for attempt in range(1, tries + 1):
        transport.sendto(tag + payload)
        try:
            async with asyncio.timeout(per_try):
                while True:
                    data = await answers.queue.get()
                    if data[:4] == tag:
                        return data[4:], attempt
        except TimeoutError:
            continue
    raise TimeoutError(f"no answer after {tries} tries of {per_try}s")
# ANCHOR_END: datagram


async def udp():
    loop = asyncio.get_running_loop()
    server, capitals = await loop.create_datagram_endpoint(
        Capitals, local_addr=("127.0.0.1", 0))
    address = server.get_extra_info("sockname")
    client, answers = await loop.create_datagram_endpoint(Answers, remote_addr=address)
    all_answered = True
    for request_id, word in [(1, "ping"), (2, "pong")]:
        answer, tries = await request(client, answers, request_id, word.encode())
        all_answered &= answer == word.upper().encode()
        print(f"udp: {word} -> {answer.decode()} after {tries} "
              f"{'try' if tries == 1 else 'tries'}")
    client.close()
    server.close()
    print(f"udp: {capitals.answered} answered, {capitals.dropped} dropped, "
          f"every request answered: {'true' if all_answered else 'false'}")


MAX_FRAME = 64 * 1024


class FrameTooLong(Exception):
    pass


# ANCHOR: read_frame
async def read_frame(reader):
    """One frame behind a 4-byte big-endian length; None at a clean end."""
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as cut:
        if not cut.partial:
            return None
        raise
    (length,) = struct.unpack(">I", header)
    if length > MAX_FRAME:
        raise FrameTooLong(f"a frame of {length} bytes is over the limit of {MAX_FRAME}")
    return await reader.readexactly(length)
# ANCHOR_END: read_frame


def write_frame(writer, value):
    body = json.dumps(value, separators=(",", ":")).encode()
    writer.write(struct.pack(">I", len(body)) + body)


def answer_request(request):
    if isinstance(request, dict) and isinstance(request.get("add"), list):
        return {"sum": sum(n for n in request["add"] if isinstance(n, (int, float)))}
    return {"error": 'expected {"add": [numbers]}'}


async def answer_frames(reader, writer, served):
    try:
        while (frame := await read_frame(reader)) is not None:
            try:
                reply = answer_request(json.loads(frame))
            except ValueError as not_json:
                reply = {"error": str(not_json)}
            write_frame(writer, reply)
            await writer.drain()
            served["answered"] += 1
    except FrameTooLong:
        served["over_limit"] += 1
    except asyncio.IncompleteReadError:
        served["truncated"] += 1
    finally:
        writer.close()


async def closed_by_server(reader, writer):
    writer.write_eof()
    await reader.read()  # to the end: the server has finished with the connection
    writer.close()


# ANCHOR: unix_server
async def serve_json(path, served):
    server = await asyncio.start_unix_server(
        lambda r, w: answer_frames(r, w, served), path)
    os.chmod(path, 0o600)
    return server
# ANCHOR_END: unix_server


async def unix_json(path, serve=serve_json):
    served = {"answered": 0, "over_limit": 0, "truncated": 0}
    server = await serve(path, served)
    reader, writer = await asyncio.open_unix_connection(path)
    for request in [{"add": [1, 2, 3.5]}, {"mul": [2]}]:
        write_frame(writer, request)
        reply = json.loads(await read_frame(reader))
        compact = json.dumps(request, separators=(",", ":"))
        print(f"unix json: {compact} -> {json.dumps(reply, separators=(',', ':'))}")
    writer.write(struct.pack(">I", 1 << 20))  # declares a megabyte
    await closed_by_server(reader, writer)
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(struct.pack(">I", 100) + b'{"add": [1')  # 10 of 100 bytes
    await closed_by_server(reader, writer)
    server.close()
    await server.wait_closed()
    # asyncio removes the socket file when the server closes (Python 3.13 and later);
    # before that it is left behind, so it is removed here.
    if os.path.exists(path):
        os.remove(path)
    print(f"unix json: {served['answered']} answered, {served['over_limit']} over the limit, "
          f"{served['truncated']} truncated, socket file removed: "
          f"{'false' if os.path.exists(path) else 'true'}")


# ANCHOR: tls
def self_signed(directory, name):
    """A key and an end-entity certificate for `name`: CA:FALSE, so rustls accepts it too."""
    key, cert = (os.path.join(directory, f"{name}.{ext}") for ext in ("key", "crt"))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", f"/CN={name}", "-keyout", key, "-out", cert,
         "-addext", f"subjectAltName=DNS:{name}",
         "-addext", "basicConstraints=critical,CA:FALSE"],
        check=True, capture_output=True)
    return key, cert
# ANCHOR_END: tls


async def shout_over_tls(reader, writer, served):
    """Called after the handshake: asyncio does it before the callback, and a handshake
    that fails never reaches here (it is logged at debug level)."""
    request = await reader.readline()  # an SSL transport cannot half-close: no write_eof
    writer.write(request.upper())
    await writer.drain()
    writer.close()
    served.put_nowait(True)


# ANCHOR: tls_server
async def serve_tls(context, served):
    return await asyncio.start_server(
        lambda r, w: shout_over_tls(r, w, served), "127.0.0.1", 0,
        ssl=context, ssl_handshake_timeout=5)
# ANCHOR_END: tls_server


async def tls(directory, serve=serve_tls):
    key, cert = self_signed(directory, "localhost")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    served = asyncio.Queue()
    server = await serve(server_context, served)
    host, port = server.sockets[0].getsockname()[:2]

    trusting = ssl.create_default_context(cafile=cert)
    reader, writer = await asyncio.open_connection(
        host, port, ssl=trusting, server_hostname="localhost")
    writer.write(b"hello over tls\n")
    answer = await reader.readline()
    writer.close()
    print(f"tls: trusted client -> {answer.decode().rstrip()}")

    _, stranger = self_signed(directory, "other.example")
    untrusting = ssl.create_default_context(cafile=stranger)
    try:
        _, writer = await asyncio.open_connection(
            host, port, ssl=untrusting, server_hostname="localhost")
        writer.close()
        print("tls: a client that does not trust the certificate: connected")
    except ssl.SSLCertVerificationError as refused:
        print("tls: a client that does not trust the certificate: refused")
        print(f"tls:   ({refused.verify_message})")

    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"hello in the clear\n")
    try:
        back = await reader.read()
    except ConnectionResetError:
        back = b""
    writer.close()
    print(f"tls: a client speaking plain tcp: {'answered' if back.startswith(b'HELLO') else 'refused'}")

    await served.get()
    server.close()
    await server.wait_closed()
    print("tls: 1 served; the refused handshakes never reached the callback")


async def main():
    await tcp_echo()
    await lines()
    await udp()
    with tempfile.TemporaryDirectory() as directory:
        await unix_json(os.path.join(directory, "sockets-demo.sock"))
        await tls(directory)


if __name__ == "__main__":
    asyncio.run(main())
