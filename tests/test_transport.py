"""The one outbound HTTP module, against real sockets on 127.0.0.1."""

import socket
import threading
import time

import pytest

from events import transport
from events.transport import OutboundRequest, TransportError
from tests.local_server import LocalServer, answer, free_port


@pytest.fixture(autouse=True)
def fresh_session():
    transport.reset_session()
    yield
    transport.reset_session()


def allow(settings, base_url: str) -> None:
    settings.ADJUST_BASE_URL = base_url + "/adjust"
    settings.TENJIN_BASE_URL = base_url + "/tenjin"


def post(url: str, body: bytes = b"s2s=1") -> transport.HttpAnswer:
    return transport.send(
        OutboundRequest("POST", url, {"Content-Type": "application/x-www-form-urlencoded"}, body)
    )


def test_it_sends_the_request_and_returns_the_answer(settings):
    with LocalServer(answer(200, b'{"status": "OK"}')) as server:
        allow(settings, server.url)
        result = post(server.url + "/adjust/event", b"s2s=1&event_token=f0ob4r")
    assert result.status == 200
    assert result.body == b'{"status": "OK"}'
    assert result.truncated is False
    assert result.duration_ms > 0
    method, path, headers, body = server.requests[0]
    assert (method, path, body) == ("POST", "/adjust/event", b"s2s=1&event_token=f0ob4r")
    assert headers["User-Agent"].startswith("s2sadmin/")


def test_it_reuses_one_connection_for_consecutive_requests(settings):
    with LocalServer(answer()) as server:
        allow(settings, server.url)
        for _ in range(5):
            post(server.url + "/adjust/event")
    assert len(server.requests) == 5
    assert server.connections == 1


def test_it_refuses_a_host_that_is_not_a_configured_mmp_before_connecting(settings):
    with LocalServer(answer()) as server:
        allow(settings, "https://s2s.adjust.com")
        with pytest.raises(TransportError) as caught:
            post(server.url + "/event")
    assert caught.value.kind == "not_allowed"
    assert "not one of the configured MMP hosts" in caught.value.message
    assert server.connections == 0


def test_it_refuses_the_right_host_on_another_port(settings):
    allow(settings, "http://127.0.0.1:1")
    with pytest.raises(TransportError) as caught:
        post(f"http://127.0.0.1:{free_port()}/event")
    assert caught.value.kind == "not_allowed"


def test_it_does_not_follow_redirects(settings):
    redirect = answer(302, b"", {"Location": "https://elsewhere.example/steal"})
    with LocalServer(redirect) as server:
        allow(settings, server.url)
        result = post(server.url + "/adjust/event")
    assert result.status == 302
    assert result.headers["Location"] == "https://elsewhere.example/steal"
    assert len(server.requests) == 1


def test_it_caps_the_response_body_and_says_so(settings):
    settings.HTTP_MAX_RESPONSE_BYTES = 1000
    with LocalServer(answer(200, b"x" * 5000)) as server:
        allow(settings, server.url)
        result = post(server.url + "/adjust/event")
    assert result.truncated is True
    assert result.body == b"x" * 1000


def test_a_refused_connection_reads_plainly(settings):
    url = f"http://127.0.0.1:{free_port()}"
    allow(settings, url)
    with pytest.raises(TransportError) as caught:
        post(url + "/adjust/event")
    assert caught.value.kind == "refused"
    assert caught.value.message == "127.0.0.1 refused the connection (nothing listening on that port)."
    assert caught.value.sent is False


def test_a_read_timeout_may_have_been_recorded(settings):
    settings.HTTP_READ_TIMEOUT = 0.3

    def never_answer(handler):
        time.sleep(1.5)

    with LocalServer(never_answer) as server:
        allow(settings, server.url)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            post(server.url + "/adjust/event")
    assert time.monotonic() - started < 1.2
    assert caught.value.kind == "read_timeout"
    assert caught.value.sent is True
    assert "no answer within 0.3 s" in caught.value.message


def test_a_connection_dropped_without_an_answer_may_have_been_recorded(settings):
    def hang_up(handler):
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    with LocalServer(hang_up) as server:
        allow(settings, server.url)
        with pytest.raises(TransportError) as caught:
            post(server.url + "/adjust/event")
    assert caught.value.kind == "dropped"
    assert caught.value.sent is True
    assert "dropped before an answer" in caught.value.message


def test_a_tls_failure_reads_plainly(settings):
    # An https URL to a plain-HTTP server fails in the TLS handshake.
    with LocalServer(answer()) as server:
        url = server.url.replace("http://", "https://")
        allow(settings, url)
        with pytest.raises(TransportError) as caught:
            post(url + "/adjust/event")
    assert caught.value.kind == "tls"
    assert caught.value.message.startswith("TLS handshake with 127.0.0.1 failed")


def test_a_connect_timeout_reads_plainly(settings):
    # A listening socket whose accept backlog is full leaves new connections hanging in SYN.
    settings.HTTP_CONNECT_TIMEOUT = 0.3
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        allow(settings, url)
        with pytest.raises(TransportError) as caught:
            post(url + "/adjust/event")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert caught.value.kind in ("connect_timeout", "read_timeout")
    if caught.value.kind == "connect_timeout":
        assert caught.value.message == "Timed out after 0.3 s connecting to 127.0.0.1."


def test_a_dns_failure_reads_plainly(settings):
    allow(settings, "http://no-such-host.invalid")
    with pytest.raises(TransportError) as caught:
        post("http://no-such-host.invalid/adjust/event")
    assert caught.value.kind == "dns"
    assert caught.value.message == "Could not resolve no-such-host.invalid (DNS lookup failed)."


def test_the_session_is_shared_within_a_process():
    assert transport.session() is transport.session()


def test_the_session_ignores_proxy_settings_from_the_environment(monkeypatch, settings):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with LocalServer(answer()) as server:
        allow(settings, server.url)
        assert post(server.url + "/adjust/event").status == 200


def test_threads_can_send_at_once(settings):
    with LocalServer(answer()) as server:
        allow(settings, server.url)
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(post(server.url + "/adjust/event").status))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [200] * 4


def test_the_allow_list_holds_every_registered_mmps_base_url(settings):
    settings.APPSFLYER_BASE_URL = "https://api3.appsflyer.com"
    settings.SINGULAR_BASE_URL = "https://s2s.singular.net"
    allow(settings, "https://s2s.adjust.com")
    assert {
        ("https", "api3.appsflyer.com", 443),
        ("https", "s2s.singular.net", 443),
    } <= transport.allowed_origins()
    assert ("https", "api2.appsflyer.com", 443) not in transport.allowed_origins()


@pytest.mark.parametrize(
    "request_",
    [
        OutboundRequest(
            "POST", "https://s2s.adjust.com/event", {"Authorization": "Bearer x"}, b"s2s=1&a=%C3%A9"
        ),
        OutboundRequest("GET", "https://api.tenjin.com/v0/event?bundle_id=com.x&name=a b&é=1", {}),
        OutboundRequest("POST", "http://user:pw@127.0.0.1:8000/v0/purchase", {"Content-Type": "a/b"}, b"{}"),
        OutboundRequest("GET", "https://münchen.example/path/ü?q=ä", {"Accept": "*/*"}),
    ],
)
def test_the_short_preparation_puts_on_the_wire_what_requests_own_would(request_):
    # transport.prepare skips parts of requests' Request.prepare for speed; what goes on the wire
    # (method, URL, headers in order, body) must stay exactly what requests itself would send.
    ours = transport.prepare(request_)
    merged = dict(transport.session().headers) | request_.headers
    theirs = transport.requests.Request(
        request_.method, request_.url, headers=merged, data=request_.body or None
    ).prepare()
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert list(ours.headers.items())[1:] == list(theirs.headers.items())
    assert next(iter(ours.headers)) == "Host"
