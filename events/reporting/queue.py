"""The queue's health for the overview: depth, scheduled retries and live workers from Redis, and
the oldest delivery still waiting."""

import django_rq
from django.conf import settings
from redis.exceptions import RedisError
from rq import Worker
from rq.registry import ScheduledJobRegistry

from events.models import Delivery, Status


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
    """The oldest delivery still waiting to be sent (queued or retrying).

    One query per status, each the first entry of the (status, time) index: with both statuses in
    one query PostgreSQL walks the time index from the oldest row instead (1.5 s at a million
    rows when the waiting ones are the newest)."""
    oldest = [
        Delivery.objects.filter(status=status)
        .select_related("app")
        .only("id", "created_at", "status", "next_attempt_at", "app__name", "app")
        .order_by("created_at")
        .first()
        for status in (Status.QUEUED, Status.RETRYING)
    ]
    waiting = [delivery for delivery in oldest if delivery is not None]
    return min(waiting, key=lambda d: (d.created_at, d.pk), default=None)
