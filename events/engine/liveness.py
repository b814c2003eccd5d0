"""Which worker runs the current job, and whether a worker is alive: what the jobs, the reconciler
and retention need to know about workers without importing the worker class (imports run one way:
workers -> jobs, reconciler, retention -> liveness).

RQ notices a worker that died only once its registration expires, and by default that is stretched
to the running job's whole timeout. A SendWorker keeps its registration short (liveness_ttl) and
renews it between sends (beat), so a killed worker's claims are found about a minute later.
"""

from typing import Protocol

import rq
from django.conf import settings


class _Worker(Protocol):
    name: str

    def beat(self) -> None: ...


RECONCILE_LOCK = "s2sadmin:lock:reconcile"
RETENTION_LOCK = "s2sadmin:lock:retention"
ALERT_CHECK_LOCK = "s2sadmin:lock:alert-checks"
# Renewing the registration costs a Redis round trip: often enough, not for every send.
BEAT_EVERY_SECONDS = 2.0

_current: _Worker | None = None


def current_name() -> str:
    """The name of the worker running the current job in this process ('' outside a worker)."""
    return _current.name if _current is not None else ""


def beat() -> None:
    """Renew this process's worker registration, if a SendWorker runs the current job."""
    if _current is not None:
        _current.beat()


def liveness_ttl() -> int:
    """How long a worker's registration outlives its last renewal. Never shorter than two sends
    that both wait for their full timeouts (renewals come between sends), nor than the idle
    worker's renewal period, or a slow but live worker would look dead."""
    one_send = settings.HTTP_CONNECT_TIMEOUT + settings.HTTP_READ_TIMEOUT
    idle_renewal = max(1, settings.WORKER_TTL - 15)
    return int(max(settings.WORKER_LIVENESS_TTL, 2 * one_send + 2, idle_renewal + 5))


def is_alive(connection, worker_name: str) -> bool:
    key = rq.Worker.redis_worker_namespace_prefix + worker_name
    return bool(connection.exists(key)) and not connection.hexists(key, "death")


def live_send_workers(connection) -> int:
    """Workers listening on the send queue whose registration is alive (/ready/ and /metrics)."""
    queue = rq.Queue(settings.SEND_QUEUE, connection=connection)
    prefix = rq.Worker.redis_worker_namespace_prefix
    keys = (k.decode() if isinstance(k, bytes) else k for k in rq.Worker.all_keys(queue=queue))
    return sum(is_alive(connection, key.removeprefix(prefix)) for key in keys)


def set_current(worker: _Worker | None) -> None:
    global _current
    _current = worker
