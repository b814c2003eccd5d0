"""The worker that runs send jobs: no fork per job, code and HTTP session loaded once, and alive-ness
that others can trust.

The default forking worker is about ten times slower on this stack and its per-job children
cannot keep connections alive between jobs (stack notes §8).

RQ notices a worker that died only once its registration expires, and by default that is stretched
to the running job's whole timeout (minutes for a batch) and checked every ten minutes. A SendWorker
instead keeps its registration short (WORKER_LIVENESS_TTL) and renews it between sends, records its
name on every claim (Delivery.claimed_by), and runs the reconciler from its maintenance task, so a
batch abandoned by a killed worker is sent again about a minute later (stack notes §3.2).
"""

import logging
import time

import django_rq
import rq
from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import RedisError
from rq import worker_registration
from rq.exceptions import StopRequested

import events.engine.jobs  # noqa: F401  (imported up front so every job finds it loaded)
from events.callbacks import outbox as callback_outbox
from events.engine import liveness
from events.engine.liveness import (
    ALERT_CHECK_LOCK,
    BEAT_EVERY_SECONDS,
    RECONCILE_LOCK,
    RETENTION_LOCK,
    liveness_ttl,
)
from events.engine.reconciler import reconcile
from events.engine.retention import enqueue_purge

log = logging.getLogger(__name__)

# Monitoring reads the engine (liveness, pauses), so the engine names its job by dotted path.
ALERT_CHECKS_JOB = "events.monitoring.jobs.run_checks"
CALLBACK_SWEEP_LOCK = "s2sadmin:lock:callback-sweep"


class SendWorker(rq.SimpleWorker):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", settings.WORKER_MAINTENANCE_INTERVAL)
        # Short, whatever rqworker passes (420 by default): the idle loop renews the registration
        # every worker_ttl - 15 seconds, and must do so well within liveness_ttl().
        kwargs["worker_ttl"] = settings.WORKER_TTL
        super().__init__(*args, **kwargs)
        self._last_beat = 0.0

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        # RQ asks for the job's whole timeout while a job runs; a send job renews between sends
        # instead (beat), so a dead worker's registration is gone within liveness_ttl().
        ttl = liveness_ttl()
        super().heartbeat(min(timeout or ttl, ttl), pipeline=pipeline)

    def execute_job(self, job, queue):
        liveness.set_current(self)
        self._last_beat = time.monotonic()
        try:
            super().execute_job(job, queue)
        finally:
            liveness.set_current(None)

    def beat(self) -> None:
        if time.monotonic() - self._last_beat < BEAT_EVERY_SECONDS:
            return
        self._last_beat = time.monotonic()
        try:
            with self.connection.pipeline() as pipe:
                self.heartbeat(pipeline=pipe)
                pipe.hexists(self.key, "birth")
                registered = pipe.execute()[-1]
            if not registered:
                self.register_again()
        except RedisError as exc:
            # Sending goes on without Redis: the rows are the truth, the reconciler catches up.
            log.warning("Worker %s could not renew its registration: %s", self.name, exc)

    def register_again(self) -> None:
        """After Redis lost everything (a restart), the worker's hash and set entry are gone."""
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, liveness_ttl())
            pipe.execute()
        log.info("Worker %s registered again (Redis had lost its registration)", self.name)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        try:
            if not self.connection.hexists(self.key, "birth"):
                self.register_again()
        except RedisError:
            return
        self.reconcile_if_due()
        self.schedule_retention_if_due()
        self.schedule_alert_checks_if_due()
        self.requeue_callbacks_if_due()

    def _take_lock(self, name: str, seconds: float) -> bool:
        """At most once per `seconds` across all workers; a Redis restart frees it at once."""
        try:
            return bool(self.connection.set(name, self.name, nx=True, ex=max(1, int(seconds))))
        except RedisError:
            return False

    def reconcile_if_due(self) -> None:
        if not self._take_lock(RECONCILE_LOCK, settings.RECONCILE_INTERVAL - 1):
            return
        close_old_connections()
        try:
            report = reconcile()
        except StopRequested:  # a SIGTERM while it ran: the worker stops, as asked
            raise
        except Exception:  # maintenance must never stop the worker
            log.exception("The reconciler failed; it runs again at the next maintenance")
        else:
            if report:
                log.info("Reconciler: %s", report)
        finally:
            close_old_connections()

    def requeue_callbacks_if_due(self) -> None:
        """Result callbacks whose job was lost go on their queue again (events/callbacks/outbox.py)."""
        if not self._take_lock(CALLBACK_SWEEP_LOCK, settings.RECONCILE_INTERVAL - 1):
            return
        close_old_connections()
        try:
            requeued = callback_outbox.requeue_stale()
        except StopRequested:
            raise
        except Exception:  # maintenance must never stop the worker
            log.exception("The callback sweep failed; it runs again at the next maintenance")
        else:
            if requeued:
                log.info("Callback sweep: %d callbacks enqueued again", requeued)

    def schedule_retention_if_due(self) -> None:
        if not self._take_lock(RETENTION_LOCK, settings.RETENTION_INTERVAL):
            return
        enqueue_purge()

    def schedule_alert_checks_if_due(self) -> None:
        """The alert checks run as a job on the default queue, which workers take only when the
        send queue is empty: checking and telling never hold up MMP sends."""
        if not self._take_lock(ALERT_CHECK_LOCK, settings.ALERT_CHECK_INTERVAL - 1):
            return
        try:
            django_rq.get_queue("default", commit_mode="auto").enqueue(
                ALERT_CHECKS_JOB,
                job_timeout=300,
                result_ttl=3600,
                description="alerts: send due canaries, run the rules",
            )
        except RedisError as exc:
            log.warning("Alert checks not scheduled, Redis unreachable: %s", exc)
