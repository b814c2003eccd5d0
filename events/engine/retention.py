"""Retention: deliveries (and their attempts) older than RETENTION_DAYS are removed.

Run as an RQ job that the send workers' maintenance enqueues at most once per RETENTION_INTERVAL
(events/engine/workers.py), or by hand with `manage.py purge_old_deliveries`. It deletes RETENTION_BATCH
deliveries per statement, each batch in its own short transaction, so the log stays readable and
writable while it runs; a run stops after RETENTION_MAX_SECONDS and the next one goes on.

Only final deliveries go (delivered, failed, dead): one still on its way is never dropped. Order
marks whose newest time is past Adjust's 58 days go too: any event older than them is refused for
its age anyway. Then the overview's rollups past their own retention, in the same batches and
under the same time limit: hourly rows of days before ROLLUP_RETENTION_DAYS (whole UTC days, so
the overview reads such days from their daily row), daily rows before ROLLUP_DAILY_RETENTION_DAYS.
"""

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from events.engine import liveness, order_guard
from events.engine.queues import send_queue
from events.models import FINAL_STATUSES, Delivery, OrderMark
from events.reporting import rollups
from events.reporting.models import DailyLatencyRollup, DailyOutcomeRollup, LatencyRollup, OutcomeRollup

log = logging.getLogger(__name__)


@dataclass
class Purged:
    deliveries: int = 0
    attempts: int = 0
    order_marks: int = 0
    rollup_rows: int = 0  # hourly and daily
    finished: bool = True

    def __str__(self) -> str:
        more = "" if self.finished else " (stopped at the time limit; the next run goes on)"
        return (
            f"{self.deliveries} deliveries, {self.attempts} attempts and {self.order_marks} order marks "
            f"removed, with {self.rollup_rows} rollup rows past their own retention{more}"
        )


def cutoff(now: datetime | None = None, days: float | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS if days is None else days)


def purge(
    *,
    days: float | None = None,
    batch_size: int | None = None,
    max_seconds: float | None = None,
    now: datetime | None = None,
) -> Purged:
    """Remove final deliveries created before the cutoff, in batches; returns what went."""
    now = now or timezone.now()
    before = cutoff(now, days)
    batch_size = batch_size or settings.RETENTION_BATCH
    deadline = time.monotonic() + (settings.RETENTION_MAX_SECONDS if max_seconds is None else max_seconds)
    purged = Purged()
    old = Delivery.objects.filter(status__in=FINAL_STATUSES, created_at__lt=before)
    while True:
        ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            _, by_model = Delivery.objects.filter(pk__in=ids).delete()
        purged.deliveries += by_model.get("events.Delivery", 0)
        purged.attempts += by_model.get("events.Attempt", 0)
        liveness.beat()
        if time.monotonic() > deadline:
            purged.finished = False
            break
    stale_marks = OrderMark.objects.filter(newest_event_time__lt=now - order_guard.MAX_AGE)
    purged.order_marks = stale_marks.delete()[0]
    if purged.finished:
        purged.finished = _purge_rollups(now, batch_size, deadline, purged)
    return purged


def _purge_rollups(now: datetime, batch_size: int, deadline: float, purged: Purged) -> bool:
    """Rollup rows past their retention, in batches; False when the time limit stopped it."""
    hours, days = rollups.hourly_kept_since(now), rollups.daily_kept_since(now)
    for old in (
        OutcomeRollup.objects.filter(hour__lt=hours),
        LatencyRollup.objects.filter(hour__lt=hours),
        DailyOutcomeRollup.objects.filter(day__lt=days),
        DailyLatencyRollup.objects.filter(day__lt=days),
    ):
        while ids := list(
            old.values_list("pk", flat=True)[:batch_size]
        ):  # its key's index leads with the time
            purged.rollup_rows += old.model.objects.filter(pk__in=ids).delete()[0]
            liveness.beat()
            if time.monotonic() > deadline:
                return False
    return True


def purge_job() -> str:
    """RQ job: one run of purge(); when it stops at the time limit the next maintenance goes on."""
    close_old_connections()
    try:
        purged = purge()
    finally:
        close_old_connections()
    if not purged.finished:
        release_schedule()
    log.info("Retention: %s", purged)
    return str(purged)


def enqueue_purge() -> bool:
    try:
        send_queue().enqueue(
            purge_job,
            job_timeout=int(settings.RETENTION_MAX_SECONDS) + 120,
            result_ttl=24 * 3600,
            description="retention: remove old deliveries",
        )
    except RedisError as exc:
        log.warning("Retention not scheduled, Redis unreachable: %s", exc)
        return False
    return True


def release_schedule() -> None:
    """Let the next maintenance enqueue another run at once instead of in an hour."""
    with contextlib.suppress(RedisError):
        send_queue().connection.delete(liveness.RETENTION_LOCK)
