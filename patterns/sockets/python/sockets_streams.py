"""The sockets demo in asyncio: a TCP echo with streams, a line server fed bad lines,
and a UDP exchange through DatagramProtocol whose first datagram the server drops.

    .venv/bin/python patterns/sockets/python/sockets_streams.py
"""

import asyncio
import struct

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


async def tcp_echo():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
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


async def lines():
    counts = {"answered": 0, "refused": 0}
    done = asyncio.Event()

    async def handle(reader, writer):
        await shout(reader, writer, counts)
        done.set()

    # `limit`: the longest line readuntil returns before LimitOverrunError.
    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=MAX_LINE)
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


# ANCHOR: datagram
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


async def main():
    await tcp_echo()
    await lines()
    await udp()


if __name__ == "__main__":
    asyncio.run(main())
