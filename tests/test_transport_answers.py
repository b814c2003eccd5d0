"""What the transport reads of an answer and what it says it sent, against raw sockets on 127.0.0.1:
the verdict comes from what the MMP said (up to HTTP_CLASSIFY_MAX_BYTES), the row keeps the capped
copy, and the attempt row's request headers are the bytes that went on the wire."""

import contextlib
import json
import socket
import threading

import pytest

from events import transport
from events.engine import send_deliveries
from events.models import Outcome, Source, Status
from events.providers.adjust_answers import classify_adjust
from events.transport import OutboundRequest
from tests.conftest import ADJUST_SECURITY_TOKEN, queue_adjust_event


class RawServer:
    """Accepts connections one after another, records each request's header lines exactly as they
    arrived, and writes `reply(sock)` back. Counts the body bytes it managed to write."""

    def __init__(self, reply):
        self.reply = reply
        self.header_lines: list[list[tuple[str, str]]] = []
        self.bytes_written = 0
        self.connections = 0
        self.open_connection: socket.socket | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self.listener.close()
        if self.open_connection is not None:  # a kept-alive connection waiting for a next request
            with contextlib.suppress(OSError):  # unless the client closed it already
                self.open_connection.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)

    def serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.open_connection = sock
            with sock:
                try:
                    while self.handle(sock):
                        pass
                except OSError:  # the client hung up mid-answer: what a capped read does
                    pass

    def handle(self, sock: socket.socket) -> bool:
        """One request on this connection; False once the client has closed it."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        pairs = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]
        self.header_lines.append(pairs)
        length = int(dict((n.lower(), v) for n, v in pairs).get("content-length", 0))
        while len(body) < length:
            body += sock.recv(65536)
        self.reply(self, sock)
        return True


def fixed(status: int, body: bytes, extra: str = ""):
    def reply(server: RawServer, sock: socket.socket) -> None:
        head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
        server.bytes_written += len(body)

    return reply


def endless(status: int, extra: str = ""):
    """Announces 10 GB and writes until the client hangs up (or 200 MB, so a failing test ends)."""

    def reply(server: RawServer, sock: socket.socket) -> None:
        sock.sendall(f"HTTP/1.1 {status} X\r\n{extra}Content-Length: {10**10}\r\n\r\n".encode())
        chunk = b"r" * 65536
        while server.bytes_written < 200 * 1024 * 1024:
            sock.sendall(chunk)
            server.bytes_written += len(chunk)

    return reply


@pytest.fixture(autouse=True)
def fresh_session():
    transport.reset_session()
    yield
    transport.reset_session()


def post(server: RawServer, settings) -> transport.HttpAnswer:
    settings.ADJUST_BASE_URL = server.url + "/adjust"
    return transport.send(OutboundRequest("POST", server.url + "/adjust/event", {}, b"s2s=1"))


@pytest.mark.parametrize("status", [301, 307])
def test_a_redirect_is_never_read_past_the_cap_and_keeps_its_capped_body(settings, status):
    settings.HTTP_MAX_RESPONSE_BYTES = 1000
    with RawServer(endless(status, "Location: https://elsewhere.example/\r\n")) as server:
        answer = post(server, settings)
    assert answer.status == status
    assert (answer.body, answer.truncated) == (b"r" * 1000, True)
    assert len(answer.read_body) == 1000
    # The client hung up after its limit: only what the socket buffers held went out.
    assert server.bytes_written < 50 * 1024 * 1024


def test_a_small_redirect_body_is_stored_whole(settings):
    with RawServer(
        fixed(301, b"Moved to https://elsewhere.example/", "Location: https://elsewhere.example/\r\n")
    ) as server:
        answer = post(server, settings)
    assert (answer.status, answer.body, answer.truncated) == (
        301,
        b"Moved to https://elsewhere.example/",
        False,
    )


def test_a_body_past_the_classification_limit_is_cut_and_its_connection_closed(settings):
    settings.HTTP_MAX_RESPONSE_BYTES = 1000
    settings.HTTP_CLASSIFY_MAX_BYTES = 4000
    with RawServer(endless(200)) as server:
        first = post(server, settings)
        second = post(server, settings)
    assert (len(first.body), first.truncated, len(first.read_body)) == (1000, True, 4000)
    assert (second.status, len(server.header_lines)) == (200, 2)
    assert server.connections == 2  # the cut connection was closed, not reused


def test_a_whole_answer_leaves_its_connection_for_the_next_request(settings):
    with RawServer(fixed(200, b'{"status": "OK"}')) as server:
        post(server, settings)
        post(server, settings)
    assert server.connections == 1


def test_a_200_status_ok_over_the_cap_is_delivered_and_stored_capped(settings):
    padding = "x" * (100 * 1024)
    body = json.dumps({"status": "OK", "padding": padding}).encode()
    with RawServer(fixed(200, body)) as server:
        answer = post(server, settings)
    assert len(body) > settings.HTTP_MAX_RESPONSE_BYTES
    assert (answer.body, answer.truncated) == (body[: settings.HTTP_MAX_RESPONSE_BYTES], True)
    verdict = classify_adjust(answer)
    assert (verdict.outcome, verdict.ambiguous) == (Outcome.DELIVERED, False)


def test_a_400_over_the_cap_keeps_its_message(settings):
    body = json.dumps(
        {"padding": "x" * (100 * 1024), "error": "Event request failed (Invalid event token)"}
    ).encode()
    with RawServer(fixed(400, body)) as server:
        answer = post(server, settings)
    assert answer.truncated is True
    verdict = classify_adjust(answer)
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, "Invalid event token")
    assert "does not know this event token" in verdict.explanation


def test_a_small_answer_is_whole_and_not_truncated(settings):
    with RawServer(fixed(200, b'{"status": "OK"}')) as server:
        answer = post(server, settings)
    assert (answer.body, answer.read_body, answer.truncated) == (
        b'{"status": "OK"}',
        b'{"status": "OK"}',
        False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_attempt_row_stores_the_wire_headers_with_the_secret_masked(
    settings, adjust_app, adjust_security_token, redis_conn
):
    with RawServer(fixed(200, b'{"status": "OK"}')) as server:
        settings.ADJUST_BASE_URL = server.url
        delivery = queue_adjust_event(adjust_app, source=Source.CLI)
        assert send_deliveries([delivery.pk]) == {Status.DELIVERED: 1}
    (wire,) = server.header_lines
    stored = delivery.attempts.get().request_headers
    wire_names = [name for name, _ in wire]
    assert {
        "Host",
        "User-Agent",
        "Accept",
        "Accept-Encoding",
        "Connection",
        "Content-Length",
        "Content-Type",
    } <= set(wire_names)
    assert len(wire_names) == len(set(wire_names))
    assert sorted(stored) == sorted(wire_names)
    for name, value in wire:
        if name == "Authorization":
            assert ADJUST_SECURITY_TOKEN in value
            assert ADJUST_SECURITY_TOKEN not in stored[name]
            assert stored[name].startswith("Bearer ")
        else:
            assert stored[name] == value, name


def test_the_answer_carries_the_headers_it_sent_in_wire_order(settings):
    with RawServer(fixed(200, b'{"status": "OK"}')) as server:
        answer = post(server, settings)
    assert list(answer.sent_headers.items()) == server.header_lines[0]
    assert transport.wire_headers(
        OutboundRequest("POST", server.url + "/adjust/event", {}, b"s2s=1")
    ) == dict(server.header_lines[0])


def test_a_request_that_cannot_be_prepared_fails_as_a_transport_error_and_keeps_its_headers(settings):
    settings.ADJUST_BASE_URL = "http://127.0.0.1:1"
    request = OutboundRequest("POST", "http://127.0.0.1:1/event", {"X-Split": "a\r\nInjected: b"}, b"x")
    assert transport.wire_headers(request) == {"X-Split": "a\r\nInjected: b"}
    with pytest.raises(transport.TransportError) as caught:
        transport.send(request)
    assert caught.value.kind == "other"
