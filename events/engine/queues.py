"""The send queue: delivery ids go on it in batches, retries through RQ's scheduler.

Jobs are named by their dotted path, so this module (used by the outbox, the jobs and the
reconciler) does not import the job module.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Callback as RQCallback
from rq import Retry

log = logging.getLogger(__name__)

SEND_JOB = "events.engine.jobs.send_deliveries"


def send_queue() -> django_rq.queues.DjangoRQ:
    # commit_mode="auto": callers already enqueue from on_commit, so no second deferral.
    return django_rq.get_queue(settings.SEND_QUEUE, commit_mode="auto")


def job_timeout() -> int:
    """How long a send run may take: it claims new work for SEND_RUN_SECONDS, then finishes the
    sends in flight (each within the HTTP timeouts) and records them."""
    per_send = settings.HTTP_CONNECT_TIMEOUT + settings.HTTP_READ_TIMEOUT + 2
    return int(settings.SEND_RUN_SECONDS + 2 * per_send) + 60


def enqueue_deliveries(delivery_ids: Iterable[int]) -> bool:
    """Put the ids on the send queue in batches; False (and logged) when Redis is unreachable."""
    ids = list(delivery_ids)
    size = settings.SEND_BATCH_SIZE
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    queue = send_queue()
    try:
        with queue.connection.pipeline() as pipe:
            queue.enqueue_many(
                [
                    queue.prepare_data(
                        SEND_JOB,
                        args=(batch,),
                        timeout=job_timeout(),
                        result_ttl=600,
                        description=f"send deliveries {batch[0]}..{batch[-1]} ({len(batch)})",
                    )
                    for batch in batches
                ],
                pipeline=pipe,
            )
            pipe.execute()
    except RedisError as exc:
        log.warning("Redis unreachable, %d deliveries stay queued until it is back: %s", len(ids), exc)
        return False
    return True


def enqueue_retry(delivery_id: int, delay_seconds: float) -> bool:
    queue = send_queue()
    options = {"job_timeout": job_timeout(), "result_ttl": 600}
    try:
        if delay_seconds <= 0:
            queue.enqueue(SEND_JOB, [delivery_id], **options)
        else:
            # RQ's scheduler (workers run --with-scheduler) moves it to the queue when due. It
            # keeps whole seconds, cutting the fraction off: round up instead, so a retry never
            # starts before its time (a 429's Retry-After is a minimum).
            due = timezone.now() + timedelta(seconds=delay_seconds)
            due = due.replace(microsecond=0) + timedelta(seconds=1 if due.microsecond else 0)
            queue.enqueue_at(due, SEND_JOB, [delivery_id], **options)
    except RedisError as exc:
        log.warning("Redis unreachable, retry of delivery %s waits for the reconciler: %s", delivery_id, exc)
        return False
    return True


# Long jobs of one row each (a bulk send's check and queueing, a bulk resend): the default queue,
# an hour's timeout (a 100,000-row file takes a minute or two; the timeout only catches a hang).
LONG_JOB_QUEUE = "default"
LONG_JOB_TIMEOUT = 3600


def enqueue_long_job(job: Callable[..., Any], pk: int, *, on_failure: Callable[..., Any]) -> bool:
    """Queue `job(pk)` with two retries (a worker killed mid-job: the job can run again) and
    `on_failure` after the last; False (and logged) when Redis is unreachable."""
    try:
        django_rq.get_queue(LONG_JOB_QUEUE, commit_mode="auto").enqueue(
            job,
            pk,
            job_timeout=LONG_JOB_TIMEOUT,
            result_ttl=3600,
            description=f"{job.__name__} {pk}",
            retry=Retry(max=2),
            on_failure=RQCallback(on_failure),
        )
    except RedisError as exc:
        log.warning("Redis unreachable, %s %s cannot start: %s", job.__name__, pk, exc)
        return False
    return True
