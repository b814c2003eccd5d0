"""The reconciler: every delivery that should be on its way has a job behind it.

The Delivery row is the truth and Redis only the work list: Redis keeps nothing on disk, and a
worker can die with a batch claimed. Every RECONCILE_INTERVAL (run from the send workers'
maintenance, events/engine/workers.py, under a Redis lock so one worker does it) this finds

- claims gone stale: deliveries `sending` whose worker's RQ registration is gone, or claimed longer
  ago than a send job may run. If the attempt row was written, the request may have reached the MMP:
  the attempt is completed as ambiguous and the retry policy decides (events/engine/retry_policy.py).
  If not, nothing went out and the delivery is simply due again;
- orphans: deliveries `queued` for longer than RECONCILE_GRACE, or `retrying` and overdue by that
  much, with no job for them in Redis (it was down when they were made, or restarted since);

and enqueues them. Enqueuing a delivery twice is harmless: the job's claim is a conditional update.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from events.engine import liveness
from events.engine.attempts import Finished, Prepared, give_back, record
from events.engine.claims import not_held_back
from events.engine.queues import SEND_JOB, enqueue_deliveries, job_timeout, send_queue
from events.models import Attempt, Delivery, Outcome, Status
from events.providers import Verdict
from events.secrets import Masker
from events.transport import TransportError

log = logging.getLogger(__name__)

FETCH_CHUNK = 500
LOST_WORKER = (
    "The worker sending this attempt stopped before the answer was recorded (killed, or cut off "
    "from Redis for too long), so it is unknown whether the MMP recorded the event."
)


@dataclass
class Report:
    released: int = 0
    requeued: int = 0

    def __bool__(self) -> bool:
        return bool(self.released or self.requeued)

    def __str__(self) -> str:
        return f"{self.released} stale claims released, {self.requeued} deliveries enqueued again"


def reconcile(*, now: datetime | None = None) -> Report:
    now = now or timezone.now()
    queue = send_queue()
    report = Report()
    due_now = []
    for delivery in stale_claims(queue.connection, now):
        report.released += 1
        due_now.extend(release(delivery))
    candidates = orphan_candidates(now)
    covered = ids_with_jobs(queue, now) if candidates else set()
    orphans = [pk for pk in candidates if pk not in covered]
    to_enqueue = sorted(set(due_now) | set(orphans))
    if to_enqueue and enqueue_deliveries(to_enqueue):
        report.requeued = len(to_enqueue)
    return report


def stale_claims(connection, now: datetime) -> list[Delivery]:
    """Deliveries in `sending` whose claim nobody will finish."""
    # Past the longest a batch may run (its RQ job would have been stopped), plus slack.
    timed_out = now - timedelta(seconds=job_timeout() + 60)
    # A registration can only be missed once Redis has been up long enough for live workers to
    # have renewed theirs: right after a restart, every worker looks dead for a moment.
    trust_registrations = redis_uptime(connection) > liveness.liveness_ttl()
    alive: dict[str, bool] = {}
    stale = []
    for delivery in Delivery.objects.filter(status=Status.SENDING).select_related("app", "event_token"):
        if delivery.claimed_at is None or delivery.claimed_at < timed_out:
            stale.append(delivery)
        elif delivery.claimed_by and trust_registrations:
            if delivery.claimed_by not in alive:
                alive[delivery.claimed_by] = worker_alive(connection, delivery.claimed_by)
            if not alive[delivery.claimed_by]:
                stale.append(delivery)
    return stale


def release(delivery: Delivery) -> list[int]:
    """Give a stale claim back; returns the id when it is due at once (to enqueue now)."""
    attempt = Attempt.objects.filter(
        delivery=delivery, number=delivery.attempt_count, finished_at__isnull=True
    ).first()
    if attempt is None:
        # Died between its claim and writing the attempt row: nothing went out.
        if give_back(delivery, "Its worker stopped before sending; it goes out again."):
            return [delivery.pk]
        return []
    verdict = Verdict(Outcome.RETRY, "", LOST_WORKER, ambiguous=True)
    error = TransportError("worker_lost", "No answer was recorded: the worker stopped during the attempt.")
    log.warning("Delivery %s: worker %s is gone mid-attempt", delivery.pk, delivery.claimed_by or "?")
    record([Finished(Prepared(delivery, attempt, None, Masker(()), None), None, error, verdict)])
    return []


def orphan_candidates(now: datetime) -> list[int]:
    """Queued or overdue deliveries old enough that their job should have run or been scheduled."""
    grace = now - timedelta(seconds=settings.RECONCILE_GRACE)
    # One held back behind an older delivery of its order key is not an orphan: the run that ends
    # the older one sends it next.
    waiting = Delivery.objects.filter(not_held_back())
    queued = waiting.filter(status=Status.QUEUED, created_at__lt=grace)
    overdue = waiting.filter(status=Status.RETRYING, next_attempt_at__lt=grace)
    limit = settings.RECONCILE_MAX
    ids = list(queued.order_by("pk").values_list("pk", flat=True)[:limit])
    ids += overdue.order_by("next_attempt_at").values_list("pk", flat=True)[: max(limit - len(ids), 0)]
    return ids


def ids_with_jobs(queue, now: datetime) -> set[int]:
    """Delivery ids that a send job in Redis will still take care of: waiting in the queue, being
    run by a live worker, or scheduled and not overdue (an overdue one means no scheduler runs)."""
    connection = queue.connection
    grace = (now - timedelta(seconds=settings.RECONCILE_GRACE)).timestamp()
    try:
        job_ids = [*queue.get_job_ids(), *_decoded(connection.lrange(queue.intermediate_queue_key, 0, -1))]
        job_ids += _decoded(connection.zrangebyscore(ScheduledJobRegistry(queue=queue).key, grace, "+inf"))
        started = StartedJobRegistry(queue=queue).get_job_ids(cleanup=False)
        covered: set[int] = set()
        for job in _fetch(connection, job_ids):
            covered.update(_delivery_ids(job))
        alive: dict[str, bool] = {}
        for job in _fetch(connection, started):
            name = job.worker_name or ""
            if name not in alive:
                alive[name] = bool(name) and worker_alive(connection, name)
            if alive[name]:
                covered.update(_delivery_ids(job))
    except RedisError as exc:
        log.warning("Reconciler: Redis unreachable (%s); nothing enqueued this time", exc)
        raise
    return covered


def worker_alive(connection, name: str) -> bool:
    try:
        return liveness.is_alive(connection, name)
    except RedisError:
        return True  # cannot tell: do not take its work away


def redis_uptime(connection) -> float:
    try:
        return float(connection.info("server").get("uptime_in_seconds", 0))
    except RedisError:
        return 0.0  # INFO unavailable (or Redis down): trust only the timeout rule


def _fetch(connection, job_ids: list[str]):
    for start in range(0, len(job_ids), FETCH_CHUNK):
        for job in Job.fetch_many(job_ids[start : start + FETCH_CHUNK], connection=connection):
            if job is not None:
                yield job


def _delivery_ids(job: Job) -> list[int]:
    try:
        if job.func_name != SEND_JOB:
            return []
        return [int(pk) for pk in job.args[0]]
    except Exception:  # a job we cannot read covers nothing: enqueuing again is the safe side
        return []


def _decoded(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else v for v in values]
