"""Callbacks as an outbox: the engine writes one row per finished delivery of an app with an
active endpoint, in the same transaction as the batch that finished it (so a result is never
lost nor announced before it is committed), and enqueues the ids after the commit on the
callbacks queue, so posting them never holds up the MMP sends. A row whose job was lost (Redis
down, a worker killed) is enqueued again by requeue_stale(), from the workers' maintenance.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

SEND_JOB = "events.callbacks.jobs.send_callbacks"
JOB_TIMEOUT = 600
BATCH = 50
REQUEUE_MAX = 10_000  # per sweep; the next one takes the rest


def callback_queue():
    return django_rq.get_queue(settings.CALLBACK_QUEUE, commit_mode="auto")


def add_results(finished: Iterable[tuple[int, int]], without_endpoint: set[int] | None = None) -> list[int]:
    """Outbox rows for these (delivery id, app id) pairs whose app has an active endpoint: one
    query for the endpoints and one insert. Call inside the transaction that finishes them.

    `without_endpoint`: a send run's cache of the apps found with no active endpoint (most apps),
    filled in here and not looked up again, so a run without callbacks asks once per app rather
    than once per batch; an endpoint added meanwhile counts from the next run (a run lasts
    seconds, as for the apps it loads). Apps with an endpoint are looked up each time: a row must
    never name an endpoint deleted meanwhile."""
    from events.callbacks.models import Callback, CallbackEndpoint

    finished = [(d, a) for d, a in finished if not without_endpoint or a not in without_endpoint]
    if not finished:
        return []
    apps = {app for _, app in finished}
    endpoints = dict(
        CallbackEndpoint.objects.filter(app_id__in=apps, active=True).values_list("app_id", "pk")
    )
    if without_endpoint is not None:
        without_endpoint.update(apps - endpoints.keys())
    rows = [Callback(delivery_id=d, endpoint_id=endpoints[a]) for d, a in finished if a in endpoints]
    if not rows:
        return []
    # One final result per delivery: a second one (a claim given back and finished twice) is ignored.
    Callback.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Callback.objects.filter(delivery_id__in=[r.delivery_id for r in rows], attempt_count=0).values_list(
            "pk", flat=True
        )
    )


def enqueue(callback_ids: list[int], *, delay_seconds: float = 0) -> bool:
    """Put the ids on the callbacks queue (now, or after a delay through RQ's scheduler)."""
    if not callback_ids:
        return True
    queue = callback_queue()
    try:
        for start in range(0, len(callback_ids), BATCH):
            batch = callback_ids[start : start + BATCH]
            options = {"job_timeout": JOB_TIMEOUT, "result_ttl": 600}
            if delay_seconds > 0:
                queue.enqueue_in(timedelta(seconds=max(1, round(delay_seconds))), SEND_JOB, batch, **options)
            else:
                queue.enqueue(SEND_JOB, batch, **options)
    except RedisError as exc:
        log.warning(
            "Redis unreachable: %d result callbacks wait for the next sweep: %s", len(callback_ids), exc
        )
        return False
    return True


def requeue_stale() -> int:
    """Enqueue again the callbacks no job will pick up: due ones waiting past the grace, and
    claims older than a job's timeout (their worker died)."""
    from events.callbacks.models import Callback

    now = timezone.now()
    grace = timedelta(seconds=settings.RECONCILE_GRACE)
    waiting = Q(state=Callback.State.PENDING, created_at__lt=now - grace) | Q(
        state=Callback.State.RETRYING, next_attempt_at__lt=now - grace
    )
    stale = list(
        Callback.objects.filter(
            state=Callback.State.SENDING, claimed_at__lt=now - timedelta(seconds=JOB_TIMEOUT)
        ).values_list("pk", flat=True)[:REQUEUE_MAX]
    )
    Callback.objects.filter(pk__in=stale, state=Callback.State.SENDING).update(
        state=Callback.State.RETRYING, next_attempt_at=now, claim_token=""
    )
    ids = stale + list(Callback.objects.filter(waiting).values_list("pk", flat=True)[:REQUEUE_MAX])
    enqueue(ids)
    return len(ids)
