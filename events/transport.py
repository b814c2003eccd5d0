"""All outbound HTTP: one keep-alive Session per process, timeouts, no redirects, and only the hosts
of the configured MMP base URLs. Failures become a TransportError with a short readable message."""

import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

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
    body: bytes
    truncated: bool
    duration_ms: float

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


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


def allowed_origins() -> set[tuple[str, str, int]]:
    """The origins of every registered MMP's base URL setting (ADJUST_BASE_URL, ...)."""
    from events.providers import PROVIDERS  # the providers build on this module: asked late

    return {_origin(getattr(settings, p.base_url_setting)) for p in PROVIDERS.values()}


def _origin(url: str) -> tuple[str, str, int]:
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
        # No automatic retries: a retry is a new Attempt row, decided by the job.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
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


def send(request: OutboundRequest) -> HttpAnswer:
    host = urlsplit(request.url).hostname or "?"
    if _origin(request.url) not in allowed_origins():
        raise TransportError(
            "not_allowed",
            f"Refused to connect to {host}: it is not one of the configured MMP hosts.",
        )
    timeout = (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)
    cap = settings.HTTP_MAX_RESPONSE_BYTES
    started = time.perf_counter()
    try:
        response = session().request(
            request.method,
            request.url,
            headers=request.headers,
            data=request.body or None,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        try:
            body = response.raw.read(cap + 1, decode_content=True)
        finally:
            if len(body) > cap:
                response.close()  # the rest is unread: this connection cannot be reused
            else:
                response.raw.read()  # drain, so the connection goes back to the pool
                response.close()
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
    )


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
