"""A fast local stand-in for an MMP: answers every HTTP/1.1 request with 200 {"status": "OK"},
after LATENCY_MS milliseconds (a round trip to a real MMP), without holding up other connections.

asyncio, keep-alive, no framework: each connection is a task and the wait is an asyncio sleep, so
hundreds of connections wait at once and the receiver is never the bottleneck of a benchmark.
Usage: python bench/receiver.py PORT [LATENCY_MS]
"""

import asyncio
import sys

BODY = b'{"status": "OK"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


def handler(latency_s: float):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if latency_s:
                    await asyncio.sleep(latency_s)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


async def main(port: int, latency_ms: float) -> None:
    server = await asyncio.start_server(handler(latency_ms / 1000), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
