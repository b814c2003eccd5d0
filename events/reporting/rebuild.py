"""Rebuild the hourly and daily rollups from the rows still kept: for a database that had
deliveries before the rollups existed (migration 0010), or to check them.

It counts as the send engine does (rollups.py): each attempt once, with the status it led to
(the delivery's own status for its last attempt, retrying for the others), and each final
delivery once, at its last attempt or, when none was made, on its own. It cannot know what the
retention purge removed: rollups of days whose rows were purged are left as they are, and only
whole UTC days from the first midnight at or after `since` are rebuilt (hourly and daily rows
alike: a day the purge has begun on keeps its counts). Run it with the send workers stopped: a delivery they finish
while it reads could be counted twice.
"""

from datetime import UTC, datetime, time, timedelta

from django.db import transaction

from events.models import FINAL_STATUSES, Attempt, Delivery, Outcome, Source, Status
from events.reporting.models import DailyLatencyRollup, DailyOutcomeRollup, LatencyRollup, OutcomeRollup
from events.reporting.rollups import Finished, day_of, record_attempts

CHUNK = 5000
# The delivery status each attempt outcome can end on.
ENDS = {Outcome.DELIVERED: {Status.DELIVERED}, Outcome.PERMANENT: {Status.FAILED}}
ENDS[Outcome.RETRY] = {Status.DEAD, Status.FAILED}


def rebuild(since: datetime) -> int:
    """Replace the rollups of whole days from `since` on with a count of the rows; returns deliveries read."""
    start = datetime.combine(day_of(since), time(), tzinfo=UTC)
    start += timedelta(days=1) if start < since else timedelta()
    day = start.date()
    read = 0
    with transaction.atomic():
        OutcomeRollup.objects.filter(hour__gte=start).delete()
        LatencyRollup.objects.filter(hour__gte=start).delete()
        DailyOutcomeRollup.objects.filter(day__gte=day).delete()
        DailyLatencyRollup.objects.filter(day__gte=day).delete()
        deliveries = Delivery.objects.filter(created_at__gte=start).exclude(source=Source.CANARY)
        deliveries = deliveries.select_related("app").order_by("pk")
        last_pk = 0
        while chunk := list(deliveries.filter(pk__gt=last_pk)[:CHUNK]):
            last_pk = chunk[-1].pk
            record_attempts(_steps(chunk))
            read += len(chunk)
    return read


def _steps(chunk: list[Delivery]) -> list[Finished]:
    attempts: dict[int, list[Attempt]] = {}
    finished = Attempt.objects.filter(delivery__in=chunk).exclude(finished_at=None).order_by("number")
    for attempt in finished.only("delivery_id", "number", "outcome", "mmp_message", "error", "duration_ms"):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    steps = []
    for delivery in chunk:
        tried = attempts.get(delivery.pk, [])
        final = delivery.status in FINAL_STATUSES
        last_ends = bool(tried) and final and delivery.status in ENDS.get(tried[-1].outcome, set())
        for index, attempt in enumerate(tried):
            ends = last_ends and index == len(tried) - 1
            steps.append(
                Finished(
                    app_id=delivery.app_id,
                    provider=delivery.app.provider,
                    test=delivery.is_test,
                    created_at=delivery.created_at,
                    status=delivery.status if ends else Status.RETRYING,
                    reason=attempt.mmp_message or attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
        if final and not last_ends:  # finished on its own: refused, given up, cancelled
            steps.append(
                Finished(
                    app_id=delivery.app_id,
                    provider=delivery.app.provider,
                    test=delivery.is_test,
                    created_at=delivery.created_at,
                    status=delivery.status,
                    reason=delivery.last_message,
                    sent=False,
                )
            )
    return steps
