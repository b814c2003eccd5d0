"""All outbound HTTP: one keep-alive Session per process, timeouts, no redirects, and only the hosts
of the configured MMP base URLs. Failures become a TransportError with a short readable message.

Webhooks that an admin configures (alert channels) go through `send_to_webhook`: only the
webhook's own host, over https, and never to a private, loopback or link-local address unless
WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on (then plain http to such an address is allowed too, for a
receiver on the same network). The rules are events/url_guard.py's, shared with the result
callbacks.
"""

import functools
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from events.url_guard import url_refusal

USER_AGENT = "s2sadmin/0.1 (+server-to-server event sender)"


@dataclass(frozen=True)
class OutboundRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""
    # The plain secret values inside this request, so whatever stores it can mask them.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The S2S security token that authenticates it, if any (its last-used time is kept).
    security_token_id: int | None = None


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    # The copy the attempt row keeps: at most HTTP_MAX_RESPONSE_BYTES; `truncated` when the MMP sent more.
    body: bytes
    truncated: bool
    duration_ms: float
    # What the answer is classified on: up to HTTP_CLASSIFY_MAX_BYTES of the body, since an MMP's
    # verdict can sit past the stored copy's cap. None: the same as `body`.
    read_body: bytes | None = None
    # The request headers exactly as they went on the wire (secrets in clear: mask before storing).
    sent_headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The stored copy, as text."""
        return self.body.decode("utf-8", errors="replace")

    def read_text(self) -> str:
        """Everything read of the body, as text: what providers classify."""
        return (self.body if self.read_body is None else self.read_body).decode("utf-8", errors="replace")


class TransportError(Exception):
    """The request got no HTTP answer. `sent` tells whether it may have reached the MMP."""

    # Kinds: not_allowed, dns, refused, connect_timeout, tls, read_timeout, dropped, other.
    SENT_KINDS = frozenset({"read_timeout", "dropped"})

    def __init__(self, kind: str, message: str, duration_ms: float = 0.0):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.duration_ms = duration_ms

    @property
    def sent(self) -> bool:
        return self.kind in self.SENT_KINDS


def host_of(url: str) -> str:
    """The host part of a URL, as limits and pauses are kept per MMP host."""
    return (urlsplit(url).hostname or "?").lower()


# The settings that hold an MMP's base URL (ADJUST_BASE_URL, ...). Each provider class adds its
# own when it is defined (events/providers/base.py), so this module, beneath the providers, need
# not import them; before any provider is loaded the list is empty and every request is refused.
MMP_URL_SETTINGS: set[str] = set()


def allow_mmp_url_setting(name: str) -> None:
    """Let requests go to the origin the setting `name` holds (an MMP's base URL)."""
    MMP_URL_SETTINGS.add(name)


def allowed_origins() -> set[tuple[str, str, int]]:
    """The origins of every registered MMP's base URL setting, read at each call so an override
    of the setting (tests, a deploy's environment) is honoured."""
    return {_origin(getattr(settings, name)) for name in MMP_URL_SETTINGS}


@functools.lru_cache(maxsize=256)
def _origin(url: str) -> tuple[str, str, int]:
    # Cached: the settings' base URLs and an MMP's endpoint are the same URLs send after send (the
    # settings themselves are read on every call of allowed_origins, so a change still counts).
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


_session: requests.Session | None = None


def session() -> requests.Session:
    """The process's Session: workers reuse its connections from job to job."""
    global _session
    if _session is None:
        s = requests.Session()
        # No automatic retries: a retry is a new Attempt row, decided by the job. A worker keeps
        # SEND_CONCURRENCY requests in flight (events/engine/jobs.py): one kept-alive connection
        # each, or urllib3 would close every one beyond the pool's size after its answer.
        size = max(settings.SEND_CONCURRENCY, settings.SEND_MAX_IN_FLIGHT_PER_HOST)
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=size, max_retries=0)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.headers["User-Agent"] = USER_AGENT
        s.trust_env = False  # no proxies or .netrc from the environment: the allow-list is the rule
        _session = s
    return _session


def reset_session() -> None:
    global _session
    if _session is not None:
        _session.close()
    _session = None


def prepare(request: OutboundRequest) -> requests.PreparedRequest:
    """The request exactly as it goes on the wire: the Session's headers (User-Agent, Accept,
    Accept-Encoding, Connection), the request's own, Content-Length, and Host, set here so that
    http.client adds nothing of its own. No cookies: one MMP answer must not ride along on the next."""
    # requests' merge_setting, less its generic type checks (typing's Protocol checks, measured at
    # 2% of a send worker's CPU): the Session's headers, then the request's; None drops a header.
    merged = CaseInsensitiveDict(session().headers)
    merged.update(request.headers or {})
    for name in [name for name, value in merged.items() if value is None]:
        del merged[name]
    # Request.prepare's steps, less the cookie jar it builds for every request (none is sent) and
    # its parameter check (no parameters: "" skips it); a worker prepares tens of thousands a minute.
    prepared = requests.PreparedRequest()
    prepared.prepare_method(request.method)
    prepared.url = _prepared_url(request.url)
    prepared.prepare_headers(merged)
    prepared.prepare_body(request.body or None, None)
    if "@" in urlsplit(request.url).netloc:  # credentials in the URL: requests turns them into Basic auth
        prepared.prepare_auth(None, request.url)
    headers = CaseInsensitiveDict({"Host": _host_header(prepared.url or request.url)})
    headers.update(prepared.headers)
    prepared.headers = headers
    return prepared


@functools.lru_cache(maxsize=256)
def _prepared_url(url: str) -> str:
    """requests' preparation of a URL (parse, IDNA, quoting; without parameters it depends on the
    URL alone): an MMP's endpoint is the same for every event, so it is done once per URL. An
    invalid URL raises each time, as it is not cached."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, "")
    return prepared.url


def prepare_once(request: OutboundRequest) -> requests.PreparedRequest | None:
    """The request prepared for `send` (pass it as `wire`), so a caller that stores the wire
    headers first does not prepare it twice; None when it cannot be prepared (send says why)."""
    try:
        return prepare(request)
    except (requests.RequestException, ValueError):
        return None


def wire_headers(request: OutboundRequest, wire: requests.PreparedRequest | None = None) -> dict[str, str]:
    """The headers `send` puts on the wire for this request, in order (secrets in clear)."""
    wire = wire or prepare_once(request)
    # Unpreparable: nothing goes on the wire (send says why); the headers the provider built.
    return dict(wire.headers) if wire is not None else dict(request.headers)


def _host_header(url: str) -> str:
    # As http.client writes it: the port only when it is not the scheme's default.
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme.lower() == "https" else 80
    return host if parts.port in (None, default_port) else f"{host}:{parts.port}"


def send(
    request: OutboundRequest,
    wire: requests.PreparedRequest | None = None,
    *,
    destination_problem: Callable[[str], str | None] | None = None,
) -> HttpAnswer:
    """Send the request (already prepared as `wire`, from prepare_once, or prepared here): by
    default only to a configured MMP host; a caller posting elsewhere (the result callbacks)
    passes its own check, which names what is wrong with the URL or says None."""
    host = urlsplit(request.url).hostname or "?"
    if destination_problem is not None:
        problem = destination_problem(request.url)
        if problem:
            raise TransportError("not_allowed", f"Refused to connect to {host}: {problem}")
    elif _origin(request.url) not in allowed_origins():
        raise TransportError(
            "not_allowed",
            f"Refused to connect to {host}: it is not one of the configured MMP hosts.",
        )
    return _exchange(request, host, wire)


def check_webhook_url(url: str) -> None:
    """Raise TransportError("not_allowed"/"dns") unless `url` may receive a webhook: the check the
    result callbacks use too (events/url_guard.py), with WEBHOOK_ALLOW_PRIVATE_ADDRESSES."""
    refusal = url_refusal(
        url,
        what="webhook",
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
        setting="WEBHOOK_ALLOW_PRIVATE_ADDRESSES",
    )
    if refusal is not None:
        raise TransportError(refusal.kind, refusal.message)


def send_to_webhook(request: OutboundRequest) -> HttpAnswer:
    """POST to a configured webhook (an alert channel): its own host only, checked first."""
    check_webhook_url(request.url)
    return _exchange(request, urlsplit(request.url).hostname or "?")


def _exchange(
    request: OutboundRequest, host: str, wire: requests.PreparedRequest | None = None
) -> HttpAnswer:
    timeout = (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)
    cap = settings.HTTP_MAX_RESPONSE_BYTES
    classify_limit = max(settings.HTTP_CLASSIFY_MAX_BYTES, cap)
    started = time.perf_counter()
    try:
        prepared = wire if wire is not None else prepare(request)
        # The adapter, not Session.send: Session.send reads a redirect's whole body (to find the
        # next hop) even with allow_redirects=False, before any cap applies. The adapter never
        # follows redirects and keeps no cookies.
        adapter = session().get_adapter(prepared.url or request.url)
        response = adapter.send(prepared, stream=True, timeout=timeout, verify=True, proxies={})
        # A redirect is classified by its status alone: no more than the stored copy is read.
        limit = cap if 300 <= response.status_code < 400 else classify_limit
        body = _read_at_most(response, limit)
    except requests.RequestException as exc:
        elapsed = (time.perf_counter() - started) * 1000
        kind, message = describe_error(exc, host)
        raise TransportError(kind, message, elapsed) from exc
    elapsed = (time.perf_counter() - started) * 1000
    return HttpAnswer(
        status=response.status_code,
        headers=dict(response.headers),
        body=body[:cap],
        truncated=len(body) > cap,
        duration_ms=elapsed,
        read_body=body[:limit],
        sent_headers=dict(prepared.headers),
    )


def _read_at_most(response: requests.Response, limit: int) -> bytes:
    """Up to limit + 1 bytes of the (decoded) body; past the limit the connection is closed unread."""
    try:
        body = response.raw.read(limit + 1, decode_content=True)
        if len(body) > limit:
            response.close()  # the rest is unread: this connection cannot be reused
        else:
            response.raw.read()  # at the end already: releases the connection to the pool
            response.close()
    except urllib3.exceptions.ReadTimeoutError as exc:  # raw reads raise urllib3's own errors
        response.close()
        raise requests.ReadTimeout(exc, response=response) from exc
    except urllib3.exceptions.ProtocolError as exc:
        response.close()
        raise requests.ConnectionError(exc, response=response) from exc
    except urllib3.exceptions.HTTPError as exc:
        response.close()
        raise requests.RequestException(exc, response=response) from exc
    return body


def describe_error(exc: requests.RequestException, host: str) -> tuple[str, str]:
    """A short sentence a person can act on, instead of urllib3's nested reprs."""
    connect_s = settings.HTTP_CONNECT_TIMEOUT
    read_s = settings.HTTP_READ_TIMEOUT
    if isinstance(exc, requests.ConnectTimeout):
        return "connect_timeout", f"Timed out after {connect_s:g} s connecting to {host}."
    if isinstance(exc, requests.ReadTimeout):
        return (
            "read_timeout",
            f"{host} took the request but sent no answer within {read_s:g} s; it may have been recorded.",
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls", f"TLS handshake with {host} failed: {_innermost(exc)}."
    if isinstance(exc, requests.ConnectionError):
        chain = _chain(exc)
        if any(isinstance(e, socket.gaierror) for e in chain) or "Name or service not known" in str(exc):
            return "dns", f"Could not resolve {host} (DNS lookup failed)."
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return "refused", f"{host} refused the connection (nothing listening on that port)."
        if any(isinstance(e, ssl.SSLError) for e in chain):
            return "tls", f"TLS handshake with {host} failed: {_innermost(exc)}."
        return (
            "dropped",
            f"The connection to {host} was dropped before an answer came; it may have been recorded.",
        )
    return "other", f"Request to {host} failed: {_innermost(exc)}."


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or current in seen:
            continue
        seen.append(current)
        todo.extend([current.__cause__, current.__context__])
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        todo.append(getattr(current, "reason", None))
    return seen


def _innermost(exc: BaseException) -> str:
    return str(_chain(exc)[-1]) or type(exc).__name__
