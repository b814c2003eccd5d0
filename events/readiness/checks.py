"""What /ready/ checks: the database, Redis, at least one live send worker, and RQ's scheduler.

"The scheduler is alive" means: an RQ scheduler holds the send queue's scheduler lock
(`rq:scheduler-lock:sends`). Retries are scheduled jobs (events/engine/queues.py, enqueue_at),
and only a worker started `--with-scheduler` moves them to the queue when due. That scheduler
takes the lock when it starts, renews it on every heartbeat and releases it when it stops; a
killed one's lock expires about a minute later (its interval + 60 s). Without it, sends go out
but no retry ever does.

A send worker is alive when it listens on the send queue and its registration is renewed
(events/engine/liveness.py), so a killed worker stops counting within WORKER_LIVENESS_TTL.
"""

from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from rq.scheduler import RQScheduler

from events.engine import liveness
from events.metrics import counters

# A probe must answer within its own timeout even when Redis hangs rather than refuses.
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" or what is wrong
    failed: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.failed

    def ok(self, name: str) -> None:
        self.checks[name] = "ok"

    def fail(self, name: str, problem: str) -> None:
        self.checks[name] = problem
        self.failed.append(name)


def readiness() -> Readiness:
    result = Readiness()
    _check_database(result)
    connection = _redis()
    try:
        _check_redis(connection, result)
    finally:
        connection.connection_pool.disconnect()  # a pool of its own per probe: leave nothing open
    return result


def _check_redis(connection: redis.Redis, result: Readiness) -> None:
    try:
        connection.ping()
    except (redis.RedisError, OSError) as exc:
        result.fail("redis", f"Redis is unreachable: {exc}")
        # Workers and the scheduler are known only through Redis: not checked, not blamed.
        result.checks["workers"] = result.checks["scheduler"] = "not checked: Redis is unreachable"
        return
    result.ok("redis")
    try:
        _check_workers(connection, result)
        _check_scheduler(connection, result)
    except (redis.RedisError, OSError) as exc:  # Redis went away between the checks
        result.fail("redis", f"Redis stopped answering: {exc}")


def _check_database(result: Readiness) -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        result.fail("database", f"The database is unreachable: {str(exc).strip() or type(exc).__name__}")
    else:
        result.ok("database")


def _redis() -> redis.Redis:
    """The send queue's Redis, with short timeouts of its own."""
    pool = counters.connection().connection_pool
    kwargs = {
        **pool.connection_kwargs,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    }
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))


def _check_workers(connection: redis.Redis, result: Readiness) -> None:
    alive = liveness.live_send_workers(connection)
    if alive:
        result.ok("workers")
        result.checks["workers"] = f"ok: {alive} alive"
    else:
        result.fail("workers", f"No live send worker listens on the '{settings.SEND_QUEUE}' queue.")


def _check_scheduler(connection: redis.Redis, result: Readiness) -> None:
    if connection.exists(RQScheduler.get_locking_key(settings.SEND_QUEUE)):
        result.ok("scheduler")
    else:
        result.fail(
            "scheduler",
            "No RQ scheduler holds the send queue: retries would never go out "
            "(run a worker with --with-scheduler).",
        )
