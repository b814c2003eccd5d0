"""A small real HTTP server on 127.0.0.1 for transport tests: each test picks how it misbehaves."""

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # stdlib's server writes headers and body separately: without this, Nagle/delayed-ACK adds 40 ms.
    wbufsize = 65536
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        self.server.behaviour(self)

    do_GET = do_POST


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: Callable[[Handler], None]):
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour
        self.requests: list = []
        self.connections = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def get_request(self):
        self.connections += 1
        return super().get_request()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def answer(status: int = 200, body: bytes = b'{"status": "OK"}', headers: dict | None = None):
    def behaviour(handler: Handler) -> None:
        handler.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behaviour


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
