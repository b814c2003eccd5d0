"""Injected failures, applied before the checks: a scripted entry if one is left, else a draw
by the configured shares. One query reads the configuration; a script entry costs one more."""

import contextlib
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from events.emulator.models import EmuFaults
from events.emulator.wire import Answer, Incoming

NO_FAULT = "pass"


class Dropped(Exception):
    """The answer is no answer: the view closes the client's connection (`drop_connection`)."""


@dataclass(frozen=True)
class Endpoint:
    provider: str
    # check(incoming, *, now, commit=True, fault="") -> Answer
    check: Callable[..., Answer]
    internal_error: Answer
    too_many_requests: Answer


def load() -> EmuFaults | None:
    return EmuFaults.objects.filter(pk=EmuFaults.SINGLETON_PK).first()


def consume_script(faults: EmuFaults) -> str | None:
    """The first script entry, taken by exactly one request: the update only lands if nobody
    changed the script since we read it (a compare-and-swap that works on SQLite and PostgreSQL)."""
    for _ in range(100):
        if not faults.script:
            return None
        entry = faults.script[0]
        taken = EmuFaults.objects.filter(pk=faults.pk, version=faults.version).update(
            script=faults.script[1:], version=faults.version + 1
        )
        if taken:
            return entry
        faults = load()
        if faults is None:
            return None
    return None


def draw(faults: EmuFaults | None, provider: str) -> str:
    if faults is None or not faults.applies_to(provider):
        return NO_FAULT
    if faults.script:
        entry = consume_script(faults)
        if entry is not None:
            return entry
    roll = random.random()  # noqa: S311 - a test double, not security
    for name, share in faults.shares():
        if roll < share:
            return name
        roll -= share
    return NO_FAULT


def answer(
    endpoint: Endpoint, incoming: Incoming, *, clock: Callable[[], datetime] = timezone.now
) -> tuple[Answer, dict[str, str]]:
    """The endpoint's answer with the configured fault applied, and extra response headers."""
    faults = load()
    fault = draw(faults, endpoint.provider)
    headers: dict[str, str] = {}
    if fault == "500":
        result = endpoint.internal_error
    elif fault == "429":
        result = endpoint.too_many_requests
        headers["Retry-After"] = str(faults.retry_after_seconds)
    elif fault == "timeout":
        time.sleep(faults.timeout_seconds)
        # The client has given up by now, so nothing is recorded: the answer is for show.
        result = endpoint.check(incoming, now=clock(), commit=False)
    elif fault == "timeout_after_record":
        # Recorded, then too slow to answer: the sender gives up on an event the MMP kept.
        result = endpoint.check(incoming, now=clock(), fault=fault)
        time.sleep(faults.timeout_seconds)
    elif fault == "500_after_record":
        # "5xx but processed": Adjust's documented trap for senders that retry blindly.
        endpoint.check(incoming, now=clock(), fault=fault)
        result = endpoint.internal_error
    elif fault == "drop":
        raise Dropped(fault)
    elif fault == "drop_after_record":
        # A proxy or the network failing after the MMP processed it: the sender cannot tell.
        endpoint.check(incoming, now=clock(), fault=fault)
        raise Dropped(fault)
    else:
        result = endpoint.check(incoming, now=clock())
    if faults is not None and faults.latency_ms and faults.applies_to(endpoint.provider):
        time.sleep(faults.latency_ms / 1000)
    return result, headers


def drop_connection(request: HttpRequest) -> HttpResponse:
    """Close the client's socket without a word, as a crashed server or a reset connection would.
    The response returned never reaches anyone (writing it fails quietly at the server)."""
    sock = client_socket(request)
    if sock is None:
        # The test client has no socket: the fault surfaces as the exception instead.
        raise Dropped("no client socket to close under this server")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return HttpResponse(status=500)


def client_socket(request: HttpRequest) -> socket.socket | None:
    """The request's socket: gunicorn names it; under runserver and the test live server it sits
    behind the input stream (LimitedStream's bound read -> the socket's file -> SocketIO -> socket)."""
    if isinstance(request.environ.get("gunicorn.socket"), socket.socket):
        return request.environ["gunicorn.socket"]
    current = request.environ.get("wsgi.input")
    for _ in range(8):
        if isinstance(current, socket.socket):
            return current
        if hasattr(current, "_read") and hasattr(current._read, "__self__"):
            current = current._read.__self__
            continue
        current = next(
            (
                getattr(current, name)
                for name in ("stream", "_stream", "raw", "_sock")
                if hasattr(current, name)
            ),
            None,
        )
    return None
