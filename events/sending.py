"""The one way into the pipeline: validate with the provider, save a Delivery, enqueue after commit.

The test form, `send_event`, the API and bulk uploads all call `create_delivery`; nothing is saved
when validation fails, and the row is the outbox: if Redis is unreachable the delivery stays queued
and is enqueued again later.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from redis.exceptions import RedisError

from events.models import App, Delivery, EventToken, Source
from events.providers import get_provider

log = logging.getLogger(__name__)


def create_delivery(
    app: App,
    event_token: EventToken,
    fields: Mapping[str, Any],
    *,
    source: Source,
    user=None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Delivery, bool]:
    """Validate and queue one event. Returns (delivery, created); raises EventInvalid.

    With an idempotency key already used for this app, the existing delivery is returned and
    nothing is queued again.
    """
    if idempotency_key:
        existing = Delivery.objects.filter(app=app, idempotency_key=idempotency_key).first()
        if existing:
            return existing, False
    valid = get_provider(app).validate(app, event_token, fields, now=now)
    row = Delivery(
        app=app,
        event_token=event_token,
        source=source,
        params=valid.params,
        environment=valid.environment,
        device_id_type=valid.device_id_type,
        device_id=valid.device_id,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    if idempotency_key:
        row.idempotency_key = idempotency_key
    try:
        with transaction.atomic():
            row.save()
            transaction.on_commit(lambda: enqueue_deliveries([row.pk]))
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its delivery.
        return Delivery.objects.get(app=app, idempotency_key=idempotency_key), False
    return row, True


def resend_delivery(original: Delivery, *, user=None) -> Delivery:
    """A new delivery with the same validated parameters, queued now; the original stays as it was.

    The parameters were validated when the original was created; sending them again is a new
    event for the log (its own attempts), linked to the one it repeats.
    """
    row = Delivery(
        app=original.app,
        event_token=original.event_token,
        source=original.source,
        params=original.params,
        environment=original.environment,
        device_id_type=original.device_id_type,
        device_id=original.device_id,
        resent_from=original,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    with transaction.atomic():
        row.save()
        transaction.on_commit(lambda: enqueue_deliveries([row.pk]))
    return row


def send_queue() -> django_rq.queues.DjangoRQ:
    # commit_mode="auto": callers already enqueue from on_commit, so no second deferral.
    return django_rq.get_queue(settings.SEND_QUEUE, commit_mode="auto")


def job_timeout(batch_size: int) -> int:
    per_send = settings.HTTP_CONNECT_TIMEOUT + settings.HTTP_READ_TIMEOUT + 2
    return int(batch_size * per_send) + 30


def enqueue_deliveries(delivery_ids: Iterable[int]) -> bool:
    """Put the ids on the send queue in batches; False (and logged) when Redis is unreachable."""
    from events.jobs import send_deliveries

    ids = list(delivery_ids)
    size = settings.SEND_BATCH_SIZE
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    queue = send_queue()
    try:
        with queue.connection.pipeline() as pipe:
            queue.enqueue_many(
                [
                    queue.prepare_data(
                        send_deliveries,
                        args=(batch,),
                        timeout=job_timeout(len(batch)),
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
    from datetime import timedelta

    from events.jobs import send_deliveries

    queue = send_queue()
    options = {"job_timeout": job_timeout(1), "result_ttl": 600}
    try:
        if delay_seconds <= 0:
            queue.enqueue(send_deliveries, [delivery_id], **options)
        else:
            # RQ's scheduler (workers run --with-scheduler) moves it to the queue when due.
            queue.enqueue_in(timedelta(seconds=delay_seconds), send_deliveries, [delivery_id], **options)
    except RedisError as exc:
        log.warning("Redis unreachable, retry of delivery %s waits for the reconciler: %s", delivery_id, exc)
        return False
    return True
