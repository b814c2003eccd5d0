"""Requests per minute per API key: a fixed window counted in Redis."""

import logging
import time

import django_rq
from django.conf import settings
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def retry_after(key_id: int, limit: int) -> int | None:
    """None when the request may go ahead; else the seconds until the next window."""
    now = time.time()
    window = int(now // 60)
    name = f"s2sadmin:ratelimit:{key_id}:{window}"
    try:
        connection = django_rq.get_connection(settings.SEND_QUEUE)
        with connection.pipeline() as pipe:
            pipe.incr(name)
            pipe.expire(name, 120)
            count, _ = pipe.execute()
    except RedisError as exc:
        # Events are kept in the database and sent once Redis is back: refusing them would lose
        # more than a missed limit costs.
        log.warning("Rate limit not checked, Redis unreachable: %s", exc)
        return None
    if count <= limit:
        return None
    return max(1, int((window + 1) * 60 - now) + 1)
