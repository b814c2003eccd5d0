"""The one way into the pipeline: validate with the provider, save a Delivery, enqueue after commit.

The test form, `send_event`, the API and bulk uploads all call `create_delivery`; nothing is saved
when validation fails, and the row is the outbox: if Redis is unreachable the delivery stays queued
and the reconciler (events/engine/reconciler.py) enqueues it once Redis is back.

Adjust events also pass the order and age guard (events/engine/order_guard.py) before they are saved.
"""

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.engine import order_guard
from events.engine.queues import enqueue_deliveries, enqueue_retry
from events.models import App, Delivery, EventToken, Source, Status
from events.providers import EventInvalid, ValidEvent, get_provider

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
    order_checked: bool = False,
) -> tuple[Delivery, bool]:
    """Validate and queue one event. Returns (delivery, created); raises EventInvalid.

    With an idempotency key already used for this app, the existing delivery is returned and
    nothing is queued again. `order_checked`: the caller already ran order_guard.check_many on a
    batch containing this event (bulk and API code), so it is not queried again.
    """
    if idempotency_key:
        existing = Delivery.objects.filter(app=app, idempotency_key=idempotency_key).first()
        if existing:
            return existing, False
    valid = get_provider(app).validate(app, event_token, fields, now=now)
    if not order_checked:
        refuse_if_adjust_would(
            order_guard.candidate(app, event_token, valid.device_id, valid.event_time), now
        )
    row = new_delivery(
        app,
        event_token,
        valid,
        source=source,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    if idempotency_key:
        row.idempotency_key = idempotency_key
    try:
        with transaction.atomic():
            row.save()
            enqueue_after_commit([row.pk])
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its delivery.
        return Delivery.objects.get(app=app, idempotency_key=idempotency_key), False
    return row, True


def new_delivery(app: App, event_token: EventToken, valid: ValidEvent, *, source: str, **fields) -> Delivery:
    """An unsaved delivery of an event the provider validated: the one way to make one."""
    return Delivery(
        app=app,
        event_token=event_token,
        source=source,
        params=valid.params,
        environment=valid.environment,
        device_id_type=valid.device_id_type,
        device_id=valid.device_id,
        order_key=get_provider(app).order_key(app, event_token, valid),
        event_time=valid.event_time or timezone.now(),
        **fields,
    )


def resend_delivery(original: Delivery, *, user=None) -> Delivery:
    """A new delivery with the same validated parameters, queued now; the original stays as it was.

    The parameters were validated when the original was created; sending them again is a new
    event for the log (its own attempts), linked to the one it repeats. Raises EventInvalid (on
    created_at) when Adjust would reject it now: older than 58 days, or older than an event it
    accepted since for this device and event token.
    """
    candidate = order_guard.candidate_of(original)
    refuse_if_adjust_would(candidate)
    row = _copy_of(original, candidate, user)
    with transaction.atomic():
        row.save()
        enqueue_after_commit([row.pk])
    return row


def resend_refusals(
    originals: Sequence[Delivery], *, now: datetime | None = None
) -> list[order_guard.Refusal | None]:
    """Why the MMP would refuse a resend of each, as if they went out one after the other in this
    order (oldest event first avoids refusals among themselves), or None. Nothing is saved: the
    bulk resend's preview asks this, and resend_many asks it again when it sends."""
    return order_guard.refusals_of_many([order_guard.candidate_of(o) for o in originals], now=now)


def resend_many(
    originals: Sequence[Delivery], *, user=None, now: datetime | None = None
) -> list[Delivery | order_guard.Refusal]:
    """resend_delivery for many at once: for each original, its queued copy or why the MMP would
    refuse it. One order-guard query per 500 and one insert; enqueued when the caller's
    transaction commits. Load the originals with their app and event token."""
    refusals = resend_refusals(originals, now=now)
    results: list[Delivery | order_guard.Refusal] = []
    for original, refusal in zip(originals, refusals, strict=True):
        results.append(refusal or _copy_of(original, order_guard.candidate_of(original), user))
    rows = [r for r in results if isinstance(r, Delivery)]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows)
        enqueue_after_commit([row.pk for row in rows])
    return results


def _copy_of(original: Delivery, candidate: order_guard.Candidate | None, user) -> Delivery:
    return Delivery(
        app=original.app,
        event_token=original.event_token,
        source=original.source,
        params=original.params,
        environment=original.environment,
        device_id_type=original.device_id_type,
        device_id=original.device_id,
        resent_from=original,
        order_key=original.order_key,
        # The event's own time where the MMP takes one; otherwise it is a new arrival.
        event_time=candidate.event_time if candidate else timezone.now(),
        created_by=user if user is not None and user.is_authenticated else None,
    )


def retry_now(delivery: Delivery) -> bool:
    """Bring a retrying delivery's next attempt forward to now; False when it is not retrying (any
    more). No copy is made: the job scheduled for the old time finds it not due and skips it."""
    now = timezone.now()
    with transaction.atomic():
        moved = Delivery.objects.filter(pk=delivery.pk, status=Status.RETRYING).update(next_attempt_at=now)
        if moved:
            transaction.on_commit(lambda: enqueue_retry(delivery.pk, 0))
    return bool(moved)


def refuse_if_adjust_would(candidate: order_guard.Candidate | None, now: datetime | None = None) -> None:
    reason = order_guard.check(candidate, now=now)
    if reason:
        raise EventInvalid({"created_at": [reason]})


# Ids created in the current transaction of this thread, waiting for its commit.
_after_commit = threading.local()


def enqueue_after_commit(delivery_ids: Iterable[int]) -> None:
    """Enqueue these ids once the current transaction commits (at once outside one), together with
    every other id created in it: a bulk send made of many create_delivery calls in one
    transaction goes out in jobs of SEND_BATCH_SIZE, not one job per event.

    Ids of a savepoint that was rolled back may stay pending and be enqueued with the next commit;
    the job skips them (no such row, or already claimed), so that costs nothing but a lookup.
    """
    pending = getattr(_after_commit, "ids", None)
    if pending is None:
        pending = _after_commit.ids = []
    pending.extend(delivery_ids)
    transaction.on_commit(_enqueue_pending)


def _enqueue_pending() -> None:
    ids = getattr(_after_commit, "ids", None)
    if ids:
        _after_commit.ids = []
        enqueue_deliveries(ids)
