"""The overview's figures: sends, success rate, latency percentiles, failure reasons and sends over
time, for a window, overall and per app; and the queue's health from Redis.

Counts are aggregated in SQL (one grouped query each); percentiles are computed in Python over a
bounded sample of the newest latencies, which is portable between SQLite and PostgreSQL.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from redis.exceptions import RedisError
from rq import Worker
from rq.registry import ScheduledJobRegistry

from events.models import App, Delivery, Source, Status

# Newest latencies a window's percentiles are computed over: enough for a stable p95, bounded.
LATENCY_SAMPLE = 50_000
TOP_REASONS = 5
FAILED = (Status.FAILED, Status.DEAD)
IN_FLIGHT = (Status.QUEUED, Status.SENDING, Status.RETRYING)


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    span: timedelta
    bucket: timedelta


WINDOWS = (
    Window("24h", "Last 24 hours", timedelta(hours=24), timedelta(hours=1)),
    Window("7d", "Last 7 days", timedelta(days=7), timedelta(hours=6)),
)


@dataclass
class Figures:
    sends: int = 0
    delivered: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def in_flight(self) -> int:
        return self.sends - self.delivered - self.failed

    @property
    def success_rate(self) -> float | None:
        """Delivered among the finished ones, in percent; None before any has finished."""
        finished = self.delivered + self.failed
        return 100 * self.delivered / finished if finished else None

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies, 95)


@dataclass
class Bucket:
    start: datetime
    delivered: int = 0
    failed: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.failed + self.other


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def deliveries_in(window: Window, now: datetime, *, include_tests: bool) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(created_at__gt=now - window.span, created_at__lte=now)
    return qs if include_tests else qs.exclude(source=Source.FORM)


def window_figures(qs: QuerySet[Delivery]) -> tuple[Figures, list[tuple[App, Figures]]]:
    """(overall, [(app, figures), ...] busiest first) for the deliveries of one window."""
    per_app: dict[int, Figures] = defaultdict(Figures)
    counts = qs.values("app").annotate(
        sends=Count("id"),
        delivered=Count("id", filter=Q(status=Status.DELIVERED)),
        failed=Count("id", filter=Q(status__in=FAILED)),
    )
    for row in counts:
        figures = per_app[row["app"]]
        figures.sends, figures.delivered, figures.failed = row["sends"], row["delivered"], row["failed"]
    overall = Figures(
        sends=sum(f.sends for f in per_app.values()),
        delivered=sum(f.delivered for f in per_app.values()),
        failed=sum(f.failed for f in per_app.values()),
    )
    latencies = (
        qs.filter(last_duration_ms__isnull=False)
        .order_by("-created_at")
        .values_list("app", "last_duration_ms")[:LATENCY_SAMPLE]
    )
    for app_id, duration in latencies:
        per_app[app_id].latencies.append(duration)
        overall.latencies.append(duration)
    reasons = (
        qs.filter(status__in=FAILED)
        .values("app", "last_message")
        .annotate(n=Count("id"))
        .order_by("-n", "last_message")
    )
    overall_reasons: Counter[str] = Counter()
    for row in reasons:
        reason = row["last_message"] or "(no answer from the MMP)"
        overall_reasons[reason] += row["n"]
        if len(per_app[row["app"]].reasons) < TOP_REASONS:
            per_app[row["app"]].reasons.append((reason, row["n"]))
    overall.reasons = sorted(overall_reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    apps = App.objects.in_bulk(list(per_app))
    by_app = sorted(
        ((apps[pk], figures) for pk, figures in per_app.items() if pk in apps),
        key=lambda pair: (-pair[1].sends, pair[0].name),
    )
    return overall, by_app


def sends_over_time(qs: QuerySet[Delivery], window: Window, now: datetime) -> list[Bucket]:
    """Sends per bucket (hours from SQL, grouped into the window's bucket size here)."""
    start = _floor(now - window.span, window.bucket)
    buckets: dict[datetime, Bucket] = {}
    moment = start
    while moment <= now:
        buckets[moment] = Bucket(moment)
        moment += window.bucket
    rows = qs.annotate(hour=TruncHour("created_at")).values("hour", "status").annotate(n=Count("id"))
    for row in rows:
        bucket = buckets.get(_floor(row["hour"], window.bucket))
        if bucket is None:
            continue
        if row["status"] == Status.DELIVERED:
            bucket.delivered += row["n"]
        elif row["status"] in FAILED:
            bucket.failed += row["n"]
        else:
            bucket.other += row["n"]
    return list(buckets.values())


def chart(buckets: list[Bucket], *, width: int = 600, height: int = 120) -> dict:
    """Bar geometry for a server-drawn SVG: stacked delivered / failed / in flight per bucket."""
    top = max((b.total for b in buckets), default=0) or 1
    slot = width / max(len(buckets), 1)
    bars = []
    for index, bucket in enumerate(buckets):
        y = float(height)
        segments = []
        for kind in ("delivered", "failed", "other"):
            value = getattr(bucket, kind)
            if value:
                h = height * value / top
                y -= h
                segments.append({"kind": kind, "y": round(y, 2), "h": round(h, 2)})
        bars.append(
            {
                "x": round(index * slot + 1, 2),
                "w": round(max(slot - 2, 1), 2),
                "segments": segments,
                "bucket": bucket,
            }
        )
    return {"width": width, "height": height, "top": top, "bars": bars}


def queue_health() -> dict:
    """Queue depth, scheduled retries and live workers; an error text instead when Redis is down."""
    try:
        queue = django_rq.get_queue(settings.SEND_QUEUE)
        return {
            "depth": queue.count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "workers": Worker.count(connection=queue.connection, queue=queue),
            "error": "",
        }
    except (RedisError, OSError) as exc:
        return {"error": f"Redis is unreachable, so the queue depth and workers are unknown ({exc})."}


def oldest_waiting() -> Delivery | None:
    """The oldest delivery still waiting to be sent (queued or retrying)."""
    return (
        Delivery.objects.filter(status__in=(Status.QUEUED, Status.RETRYING))
        .select_related("app")
        .only("id", "created_at", "status", "next_attempt_at", "app__name", "app")
        .order_by("created_at", "id")
        .first()
    )


def _floor(moment: datetime, step: timedelta) -> datetime:
    hours = int(step.total_seconds() // 3600) or 1
    return moment.replace(hour=moment.hour - moment.hour % hours, minute=0, second=0, microsecond=0)
