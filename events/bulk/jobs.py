"""A bulk send's life: check (a report, nothing sent), start, queue in batches, cancel, progress.

Both jobs run on the "default" queue, stream the stored file in batches (files.py) and save
their progress on the BulkSend row after every batch with a conditional update on its state: that
update is also the cancellation check, so a cancelled bulk stops at the next batch boundary.
"""

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from events import client_ids
from events.api.ingest import Catalogue, save
from events.bulk.files import MAX_PROBLEMS, Checked, CsvUnusable, check_rows, max_rows, open_rows, problem
from events.bulk.models import BulkSend
from events.engine import liveness
from events.engine.queues import enqueue_long_job
from events.models import Delivery, Environment, Status
from events.reporting import rollups
from events.reporting.progress import ProgressBar

log = logging.getLogger(__name__)
State = BulkSend.State

STOPPED = "The job stopped on an unexpected error; the details are in the worker's log. Nothing more is sent."
CANCELLED_BEFORE_SENDING = "Cancelled before sending: the bulk send was cancelled."
CANCELLED_BEFORE_RETRY = "Cancelled before the next attempt: the bulk send was cancelled."


# --- Starting and stopping ----------------------------------------------------------------------


def enqueue_check(bulk: BulkSend) -> None:
    transaction.on_commit(lambda: _enqueue(check_bulk, bulk.pk, state=State.ERROR))


def start(bulk: BulkSend) -> bool:
    """Checked -> queueing, and the queue job on its way; False when it was not startable."""
    startable = BulkSend.objects.filter(pk=bulk.pk, state=State.CHECKED, valid_rows__gt=0)
    if not startable.update(state=State.QUEUEING, started_at=timezone.now(), error=""):
        return False
    transaction.on_commit(lambda: _enqueue(queue_bulk, bulk.pk, state=State.CHECKED, started_at=None))
    return True


# What the rollups need of a cancelled delivery (events/reporting/rollups.py, step()).
CANCEL_FIELDS = ("id", "app", "source", "created_at")


def cancel(bulk: BulkSend) -> bool:
    """Stop checking or queueing; fail this bulk's deliveries that no worker has claimed yet.

    Conditional updates: a worker that already claimed a delivery (status sending) finishes it."""
    now = timezone.now()
    live = (State.CHECKING, State.CHECKED, State.QUEUEING, State.QUEUED)
    with transaction.atomic():
        if not BulkSend.objects.filter(pk=bulk.pk, state__in=live).update(
            state=State.CANCELLED, cancelled_at=now
        ):
            return False
        waiting = Delivery.objects.filter(bulk_send=bulk)
        for status, explanation in (
            (Status.QUEUED, CANCELLED_BEFORE_SENDING),
            (Status.RETRYING, CANCELLED_BEFORE_RETRY),
        ):
            # Locked first (and SQLite's write lock is held since the update above), so what the
            # overview counts is exactly what this update fails.
            cancelled = list(waiting.filter(status=status).select_for_update().only(*CANCEL_FIELDS))
            waiting.filter(status=status).update(
                status=Status.FAILED, last_explanation=explanation, finished_at=now
            )
            for delivery in cancelled:
                delivery.app = bulk.app  # one app per bulk send: no query per row for its provider
            rollups.record_attempts(rollups.step(d, Status.FAILED, sent=False) for d in cancelled)
    return True


def _enqueue(job, bulk_id: int, **if_unreachable: Any) -> None:
    # A worker killed mid-file: both jobs can run again (the check starts over, queueing resumes
    # after the last line it inserted); after the last try the bulk says so (job_failed).
    if not enqueue_long_job(job, bulk_id, on_failure=job_failed):
        BulkSend.objects.filter(pk=bulk_id).update(
            **if_unreachable,
            error="The job queue (Redis) is unreachable, so nothing started. Try again in a moment.",
        )


# --- The jobs ------------------------------------------------------------------------------------


def check_bulk(bulk_id: int) -> str:
    """RQ job: validate every row and save the report; nothing is sent."""
    return _run(bulk_id, State.CHECKING, _check)


def queue_bulk(bulk_id: int) -> str:
    """RQ job: validate every row again, insert the valid ones in batches and enqueue them."""
    return _run(bulk_id, State.QUEUEING, _queue)


def _run(bulk_id: int, state: str, work) -> str:
    close_old_connections()
    try:
        bulk = BulkSend.objects.select_related("app").filter(pk=bulk_id, state=state).first()
        if bulk is None:
            return "skipped"  # cancelled, deleted, or a duplicate job
        return work(bulk)
    except CsvUnusable as exc:
        _stop(bulk_id, state, str(exc))
        return "error"
    # Anything else fails the job: RQ runs it again, and job_failed stops the bulk after the last try.
    finally:
        close_old_connections()


def job_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ on_failure: a job that will not run again (killed worker, timeout) leaves the bulk in error,
    not checking or queueing for ever."""
    if job.retries_left:
        return
    BulkSend.objects.filter(pk=job.args[0], state__in=(State.CHECKING, State.QUEUEING)).update(
        state=State.ERROR, error=STOPPED, finished_at=timezone.now()
    )


def _stop(bulk_id: int, state: str, message: str) -> None:
    BulkSend.objects.filter(pk=bulk_id, state=state).update(
        state=State.ERROR, error=message, finished_at=timezone.now()
    )


@dataclass
class Tally:
    total: int = 0
    valid: int = 0
    invalid: int = 0
    guarded: int = 0
    production: int = 0

    def fields(self) -> dict[str, int]:
        return {
            "production_rows": self.production,
            "total_rows": self.total,
            "checked_rows": self.total,
            "valid_rows": self.valid,
            "invalid_rows": self.invalid,
            "guarded_rows": self.guarded,
        }


def _check(bulk: BulkSend) -> str:
    catalogue = Catalogue([bulk.app])
    tally, problems, limit = Tally(), [], max_rows()
    # 8-byte digests of the ids met so far: a repeat on a later line is sent once. About 70 bytes
    # per row that has an id, instead of keeping the ids themselves.
    seen_ids: set[int] = set()
    with open_rows(bulk) as batches:
        for rows in batches:
            liveness.beat()  # a long job keeps its worker's registration alive
            tally.total += len(rows)
            if tally.total > limit:
                raise CsvUnusable(
                    f"The file has more than {limit:,} rows; split it into files of {limit:,} rows or fewer."
                )
            checked = check_rows(rows, catalogue)
            environments = {result.index: row.environment for result, row in checked.batch.pending}
            for result in checked.results:
                kind = checked.kind(result)
                if kind == "valid" and result.id:
                    digest = int.from_bytes(hashlib.blake2b(result.id.encode(), digest_size=8).digest())
                    if digest in seen_ids:
                        result.status, kind = "duplicate", "duplicate"
                    seen_ids.add(digest)
                if kind == "valid":
                    tally.valid += 1
                    tally.production += environments.get(result.index) == Environment.PRODUCTION
                else:
                    tally.invalid += kind == "invalid"
                    tally.guarded += kind == "guarded"
                    if len(problems) < MAX_PROBLEMS:
                        problems.append(problem(checked, result))
            if not _save_progress(bulk, State.CHECKING, problems=problems, **tally.fields()):
                return "cancelled"
    done = BulkSend.objects.filter(pk=bulk.pk, state=State.CHECKING)
    done.update(state=State.CHECKED, checked_at=timezone.now(), problems=problems, **tally.fields())
    return "checked"


def _queue(bulk: BulkSend) -> str:
    catalogue = Catalogue([bulk.app])
    # A re-run (a worker died mid-way) resumes after the last line it inserted; ids make the rest safe.
    resume_after = Delivery.objects.filter(bulk_send=bulk).aggregate(last=Max("bulk_line"))["last"] or 0
    problems = list(bulk.problems)
    reported = {entry["line"] for entry in problems}
    with open_rows(bulk) as batches:
        for rows in batches:
            liveness.beat()
            rows = [row for row in rows if row.line > resume_after]
            if not rows:
                continue
            checked = check_rows(rows, catalogue)
            _prepare(bulk, checked)
            # Rows valid when checked may fail now (an archived event, a newer accepted event).
            news = [
                {**problem(checked, r), "when": "send"}
                for r in checked.results
                if checked.kind(r) != "valid" and r.index not in reported
            ]
            problems.extend(news[: max(0, MAX_PROBLEMS - len(problems))])
            if not _queue_batch(bulk, checked, problems if news else None):
                return "cancelled"
            # Let this batch's rows go before the next batch is read and checked: only one batch
            # is ever held in memory.
            del checked, rows, news
    BulkSend.objects.filter(pk=bulk.pk, state=State.QUEUEING).update(
        state=State.QUEUED, finished_at=timezone.now()
    )
    return "queued"


def _prepare(bulk: BulkSend, checked: Checked) -> None:
    for result, row in checked.batch.pending:
        row.bulk_send, row.bulk_line, row.created_by_id = bulk, result.index, bulk.created_by_id
        if not result.id:
            # Deterministic, so a re-run of this job cannot insert the row twice.
            row.idempotency_key = client_ids.bulk_row_key(bulk.pk, result.index)


def _queue_batch(bulk: BulkSend, checked: Checked, problems: list | None) -> bool:
    """Insert one batch and count it, in one transaction; False when the bulk was cancelled.

    The conditional update comes first: it takes the bulk's row lock, so a cancel waits for this
    batch (and then fails its deliveries too) or this batch sees the cancel and inserts nothing."""
    pending = len(checked.batch.pending)
    extra: dict[str, Any] = {"problems": problems} if problems is not None else {}
    with transaction.atomic():
        if not _save_progress(bulk, State.QUEUEING, queued_rows=F("queued_rows") + pending, **extra):
            return False
        save(checked.batch)  # enqueued once this transaction commits
        skipped = sum(result.status != "accepted" for result, _ in checked.batch.pending)
        if skipped:  # inserted meanwhile by a concurrent run: not queued by this one
            BulkSend.objects.filter(pk=bulk.pk).update(queued_rows=F("queued_rows") - skipped)
    return True


def _save_progress(bulk: BulkSend, state: str, **fields: Any) -> bool:
    return bool(BulkSend.objects.filter(pk=bulk.pk, state=state).update(**fields))


# --- Progress ------------------------------------------------------------------------------------


@dataclass
class Progress(ProgressBar):
    """Where a bulk's deliveries stand, for the live progress bar."""

    total: int  # rows to send: the valid rows while queueing, then the rows queued
    queued: int  # rows inserted so far
    attempted: int
    delivered: int
    failed: int  # failed or dead, including cancelled ones
    cancelled: int  # failed without an attempt: cancelled before sending
    in_flight: int  # queued, sending or retrying
    retrying: int
    done: bool

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.delivered - self.failed)

    @property
    def bar_total(self) -> int:
        return self.total


def progress(bulk: BulkSend) -> Progress:
    """One aggregate query over the bulk's deliveries, grouped by status."""
    rows = (
        Delivery.objects.filter(bulk_send=bulk)
        .order_by()
        .values("status")
        .annotate(n=Count("id"), tried=Count("id", filter=Q(attempt_count__gt=0)))
    )
    count = {row["status"]: row["n"] for row in rows}
    tried = {row["status"]: row["tried"] for row in rows}
    queued = sum(count.values())
    in_flight = sum(count.get(s, 0) for s in (Status.QUEUED, Status.SENDING, Status.RETRYING))
    total = max(bulk.valid_rows, queued) if bulk.state == State.QUEUEING else queued
    return Progress(
        total=total,
        queued=queued,
        attempted=sum(tried.values()),
        delivered=count.get(Status.DELIVERED, 0),
        failed=count.get(Status.FAILED, 0) + count.get(Status.DEAD, 0),
        cancelled=count.get(Status.FAILED, 0) - tried.get(Status.FAILED, 0),
        in_flight=in_flight,
        retrying=count.get(Status.RETRYING, 0),
        done=bulk.state in (State.QUEUED, State.CANCELLED, State.ERROR) and in_flight == 0,
    )
