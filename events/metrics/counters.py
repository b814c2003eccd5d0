"""Counters kept by the send workers, in Redis, one round trip per recorded batch.

Why Redis and not prometheus_client's own counters: the workers are separate processes, possibly
on other machines, from the web server that answers the scrape. In-process counters would be the
web server's alone (always zero), and the library's multiprocess mode shares files in one
directory on one host, which neither reaches workers elsewhere nor survives their restarts
cleanly. Every worker and web process already shares the Redis of the queue, so each batch adds
its counts there with HINCRBY in one pipeline, and the collector (collector.py) renders them at
scrape time. They are counted from the workers' own work, never by counting the tables.

While Redis is unreachable the counts of those batches are lost (logged): the rows stay the truth
and sends go on; a counter that restarts (a Redis flush) is what Prometheus's rate() expects.
"""

import logging
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import django_rq
from django.conf import settings
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "s2sadmin:metrics:"
ATTEMPTS = PREFIX + "attempts"  # app, mmp, outcome -> attempts answered (or failed on the network)
FINISHED = PREFIX + "deliveries"  # app, mmp, status -> deliveries that reached a final status
RETRIES = PREFIX + "retries"  # app, mmp -> retries scheduled
LATENCY = PREFIX + "latency"  # mmp, bucket index / "sum" / "count" -> the attempt latency histogram
KEYS = (ATTEMPTS, FINISHED, RETRIES, LATENCY)
# Seconds; an MMP answers in about 0.1 s across the internet, and times out after HTTP_READ_TIMEOUT.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SEPARATOR = "\x1f"  # the unit separator: never in an app's name as typed in a form


@dataclass(frozen=True)
class Step:
    """What one delivery did in a batch: its attempt's outcome (None when nothing was sent), its new
    status, and the attempt's duration."""

    app: str
    mmp: str
    status: str
    outcome: str | None = None
    duration_ms: float | None = None


def field(*labels: str) -> str:
    return SEPARATOR.join(labels)


def labels_of(name: str | bytes) -> list[str]:
    return (name.decode() if isinstance(name, bytes) else name).split(SEPARATOR)


def count(steps: Iterable[Step]) -> None:
    """Add a batch's steps to the counters: one pipeline, never an exception (logged instead)."""
    from events.models import FINAL_STATUSES, Status  # the models sit above this module's callers

    attempts: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    latency: Counter[str] = Counter()
    latency_sums: Counter[str] = Counter()
    for step in steps:
        if step.outcome:
            attempts[field(step.app, step.mmp, step.outcome)] += 1
        if step.status in FINAL_STATUSES:
            finished[field(step.app, step.mmp, step.status)] += 1
        elif step.status == Status.RETRYING:
            retries[field(step.app, step.mmp)] += 1
        if step.duration_ms is not None:
            seconds = step.duration_ms / 1000
            latency[field(step.mmp, str(bisect_left(LATENCY_BUCKETS, seconds)))] += 1
            latency[field(step.mmp, "count")] += 1
            latency_sums[field(step.mmp, "sum")] += seconds
    if not (attempts or finished or retries or latency):
        return
    try:
        with connection().pipeline(transaction=False) as pipe:
            for key, counts in (
                (ATTEMPTS, attempts),
                (FINISHED, finished),
                (RETRIES, retries),
                (LATENCY, latency),
            ):
                for name, value in counts.items():
                    pipe.hincrby(key, name, value)
            for name, value in latency_sums.items():
                pipe.hincrbyfloat(LATENCY, name, value)
            pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("Metrics of a batch not counted (Redis unreachable): %s", exc)


def connection():
    return django_rq.get_connection(settings.SEND_QUEUE)
