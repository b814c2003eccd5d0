"""A bulk resend's job: confirmed -> queueing -> all queued, in chunks, on the "default" queue.

Each chunk is one transaction that first locks the bulk resend's row (a conditional update), decides again for each pending
item (a delivery may have finished, or started retrying, since the preview), queues the copies
through the engine (events.engine.resend_many) and marks the items done. A duplicate job waits on
the lock and then finds nothing pending; a job run again after its worker died resumes where the
last committed chunk ended: no original is resent twice.
"""

import logging

from django.db import close_old_connections, transaction
from django.utils import timezone

from events import engine
from events.engine import liveness
from events.engine.queues import enqueue_long_job
from events.models import Delivery
from events.resend.models import BulkResend, ResendItem
from events.resend.plan import Plan, before_the_mmp, resends_on_their_way

log = logging.getLogger(__name__)
State = BulkResend.State
Outcome = ResendItem.Outcome

CHUNK = 500
STOPPED = (
    "The job stopped on an unexpected error; the details are in the worker's log. Nothing more is resent."
)


def start(bulk: BulkResend) -> bool:
    """Previewed -> queueing, and the job on its way once this commits; False if not startable."""
    if not BulkResend.objects.filter(pk=bulk.pk, state=State.PREVIEWED).update(
        state=State.QUEUEING, started_at=timezone.now(), error=""
    ):
        return False
    transaction.on_commit(lambda: _enqueue(bulk.pk))
    return True


def _enqueue(bulk_id: int) -> None:
    if not enqueue_long_job(resend_bulk, bulk_id, on_failure=job_failed):
        BulkResend.objects.filter(pk=bulk_id, state=State.QUEUEING).update(
            state=State.PREVIEWED,
            started_at=None,
            error="The job queue (Redis) is unreachable, so nothing was resent. Try again in a moment.",
        )


def job_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ on_failure: after the last try the bulk resend says it stopped, not queueing for ever."""
    if job.retries_left:
        return
    BulkResend.objects.filter(pk=job.args[0], state=State.QUEUEING).update(
        state=State.ERROR, error=STOPPED, finished_at=timezone.now()
    )


def resend_bulk(bulk_id: int) -> str:
    """RQ job: resend, retry now, skip or refuse every pending item, a chunk at a time."""
    close_old_connections()
    try:
        bulk = (
            BulkResend.objects.select_related("created_by").filter(pk=bulk_id, state=State.QUEUEING).first()
        )
        if bulk is None:
            return "skipped"  # a duplicate job, or deleted
        while _one_chunk(bulk):
            liveness.beat()  # a long job keeps its worker's registration alive
        BulkResend.objects.filter(pk=bulk_id, state=State.QUEUEING).update(
            state=State.QUEUED, finished_at=timezone.now()
        )
        return "queued"
    finally:
        close_old_connections()


def _one_chunk(bulk: BulkResend) -> bool:
    """Handle up to CHUNK pending items in one transaction; False when none was pending."""
    with transaction.atomic():
        # A write first: it takes the bulk resend's row lock (SQLite's write lock), so a duplicate
        # job waits here and then reads the items this chunk marked done.
        if not BulkResend.objects.filter(pk=bulk.pk, state=State.QUEUEING).update(state=State.QUEUEING):
            return False
        items = list(
            bulk.items.filter(outcome=Outcome.PENDING)
            .select_related("original__app", "original__event_token")
            .order_by("original__event_time", "original_id")[:CHUNK]
        )
        if not items:
            return False
        _handle(items, bulk.created_by)
        ResendItem.objects.bulk_update(items, ["outcome", "rule", "reason", "resend"])
    return True


def _handle(items: list[ResendItem], user) -> None:
    pending_resends = resends_on_their_way([item.original for item in items])
    to_send: list[ResendItem] = []
    for item in items:
        decision = before_the_mmp(item.original, pending_resends)
        if decision is not None and decision.plan == Plan.RETRY:
            if engine.retry_now(item.original):
                item.outcome, item.rule, item.reason = Outcome.RETRIED, "", decision.reason
                continue
            # It stopped retrying since: decide again on what it is now.
            item.original.refresh_from_db(fields=["status"])
            decision = before_the_mmp(item.original, pending_resends)
        if decision is None:
            to_send.append(item)
        else:
            refused = decision.plan == Plan.REFUSE
            item.outcome = Outcome.REFUSED if refused else Outcome.SKIPPED
            item.rule, item.reason = decision.rule, decision.reason
    results = engine.resend_many([item.original for item in to_send], user=user)
    for item, result in zip(to_send, results, strict=True):
        if isinstance(result, Delivery):
            item.outcome, item.resend, item.rule, item.reason = Outcome.QUEUED, result, "", ""
        else:
            item.outcome, item.rule, item.reason = Outcome.REFUSED, result.rule, result.message
