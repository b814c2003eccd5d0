"""How fast a worker may send to each MMP: in-flight per host, events per second per app, and pauses.

- In flight per host (SEND_MAX_IN_FLIGHT_PER_HOST), counted by each worker for itself: it keeps one
  MMP from taking every slot of a worker that sends to several.
- Events per second per app (App.max_events_per_second, else the MMP's published limit): a counter
  per app and second in Redis, shared by every worker, since the MMP counts the app's events
  whoever sends them.
- Slowing down: a 429 halves the worker's in-flight allowance for that host; each answer not worth
  retrying gives one slot back (as TCP backs off).
- Pauses (a circuit breaker, shared in Redis): SEND_BREAKER_FAILURES retryable failures in a row
  (429s, 5xx, timeouts, refused or dropped connections) from one host pause every worker's sends to
  that host for a while (the MMP's Retry-After, else SEND_BREAKER_PAUSE), doubling while it keeps
  failing (up to SEND_BREAKER_MAX_PAUSE). Deliveries
  meet the pause before their attempt is written and wait, without spending an attempt, until it
  ends. The overview lists the paused hosts, why, and until when.
"""

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from redis.exceptions import RedisError

from events.engine.queues import send_queue
from events.models import App, Outcome
from events.providers import Verdict, get_provider

log = logging.getLogger(__name__)

PAUSE_KEY = "s2sadmin:paused:"
RATE_KEY = "s2sadmin:rate:"


@dataclass(frozen=True)
class Pause:
    host: str
    until: datetime
    reason: str


def app_rate(app: App) -> float | None:
    """Events a second this app may send, or None for no limit."""
    if app.max_events_per_second:
        return float(app.max_events_per_second)
    return get_provider(app).published_rate_per_second


def paused_hosts() -> list[Pause]:
    """The MMP hosts whose sends are paused now, for the overview."""
    try:
        connection = send_queue().connection
        keys = list(connection.scan_iter(match=PAUSE_KEY + "*", count=100))
        values = connection.mget(keys) if keys else []
    except RedisError:
        return []
    pauses = []
    for value in values:
        if value:
            data = json.loads(value)
            pauses.append(Pause(data["host"], datetime.fromtimestamp(data["until"], UTC), data["reason"]))
    return sorted(pauses, key=lambda pause: pause.host)


class Limits:
    """One send run's view of the limits; every method is called from the run's own thread."""

    def __init__(self) -> None:
        self.in_flight: Counter[str] = Counter()
        self.per_host = settings.SEND_MAX_IN_FLIGHT_PER_HOST
        self.connection = send_queue().connection
        # Seen in Redis lately: a pause is looked up at most once a second per host.
        self._pauses: dict[str, tuple[float, float | None, str]] = {}
        # Apps over their rate in the current second: no Redis call for them until it ends.
        self._app_full_until: dict[int, float] = {}
        self._failures: Counter[str] = Counter()
        # In flight allowed per host, below per_host after the MMP answered 429 (slow down).
        self.allowance: dict[str, int] = {}

    # --- pauses ---------------------------------------------------------------------------

    def pause_of(self, host: str) -> tuple[datetime, str] | None:
        """(until when, why) if sends to this host are paused."""
        now = time.time()
        checked_at, until, reason = self._pauses.get(host, (0.0, None, ""))
        if now - checked_at >= 1.0:
            try:
                value = self.connection.get(PAUSE_KEY + host)
            except RedisError:
                value = None  # without Redis, nobody can share a pause: send
            data = json.loads(value) if value else None
            until, reason = (data["until"], data["reason"]) if data else (None, "")
            self._pauses[host] = (now, until, reason)
        if until is not None and until > now:
            return datetime.fromtimestamp(until, UTC), reason
        return None

    def note(self, host: str, verdict: Verdict, status: int | None) -> None:
        """Count one answer from `host`: a 429 halves this worker's in-flight allowance for the
        host (each answer that is not worth retrying gives one slot back), and a run of retryable
        failures pauses the host for every worker."""
        if status == 429:
            self.allowance[host] = max(1, self.allowance.get(host, self.per_host) // 2)
        if verdict.outcome == Outcome.RETRY:
            self._failures[host] += 1
            if self._failures[host] >= settings.SEND_BREAKER_FAILURES:
                self._failures[host] = 0
                what = "answers of HTTP 429 (slow down), server errors, timeouts or dropped connections"
                self._pause(
                    host,
                    verdict.retry_after or settings.SEND_BREAKER_PAUSE,
                    f"{settings.SEND_BREAKER_FAILURES} failures in a row worth retrying ({what}).",
                )
        else:
            self._failures[host] = 0
            self.allowance[host] = min(self.per_host, self.allowance.get(host, self.per_host) + 1)

    def _pause(self, host: str, seconds: float, reason: str) -> None:
        now = time.time()
        seconds = min(float(seconds), settings.SEND_BREAKER_MAX_PAUSE)
        key = PAUSE_KEY + host
        try:
            previous = self.connection.get(key)
            if previous:
                # Still failing when a pause is about to end: the next one lasts twice as long.
                previous_data = json.loads(previous)
                seconds = min(
                    max(seconds, 2 * previous_data.get("seconds", 0)), settings.SEND_BREAKER_MAX_PAUSE
                )
            until = now + seconds
            value = json.dumps({"host": host, "until": until, "reason": reason, "seconds": seconds})
            # Kept past its end so that the next pause knows it follows one.
            self.connection.set(key, value, ex=max(1, int(seconds * 3)))
        except RedisError as exc:
            log.warning("Could not pause sends to %s in Redis: %s", host, exc)
            until = now + seconds
        self._pauses[host] = (now, until, reason)
        log.warning("Sends to %s paused for %.0f s: %s", host, seconds, reason)

    # --- in flight and rate ---------------------------------------------------------------

    def may_send(self, host: str, app: App) -> bool:
        """Whether one more request to `host` for `app` may start now; counts it if so."""
        if self.in_flight[host] >= self.allowance.get(host, self.per_host):
            return False
        rate = app_rate(app)
        if rate is not None and not self._take_rate(app.pk, rate):
            return False
        self.in_flight[host] += 1
        return True

    def done(self, host: str) -> None:
        self.in_flight[host] -= 1

    def _take_rate(self, app_id: int, rate: float) -> bool:
        now = time.time()
        if self._app_full_until.get(app_id, 0.0) > now:
            return False
        second = int(now)
        key = f"{RATE_KEY}{app_id}:{second}"
        try:
            with self.connection.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, 5)
                count = pipe.execute()[0]
        except RedisError:
            return True  # the MMP's own limit answers 429, which pauses the host: no event lost
        if count > rate:
            self._app_full_until[app_id] = second + 1
            return False
        return True
