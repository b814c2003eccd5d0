"""Attempt rows, written per batch: one insert before the requests go, one update after.

Each attempt stays crash-safe: its row (the exact request, secrets masked) is committed before
the request leaves, and completed, with the delivery's new status, in one transaction after the
answer. A worker killed between the two leaves open attempts that the reconciler completes as
ambiguous (the MMP may have recorded the event). Every write checks that the run still holds its
claim, so a claim the reconciler gave back is not overwritten by a worker that came back.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events.callbacks import outbox as callback_outbox
from events.engine import order_guard, retry_policy
from events.engine.queues import enqueue_retry
from events.engine.rows import insert_rows, update_rows
from events.metrics import counters as metric_counters
from events.models import FINAL_STATUSES, Attempt, Delivery, Outcome, Status
from events.providers import Verdict, get_provider
from events.reporting import rollups
from events.secrets import Masker
from events.transport import HttpAnswer, OutboundRequest, TransportError, host_of, prepare_once, wire_headers

log = logging.getLogger(__name__)

# A delivery's row is the run's to write only while it is still sending (under the run's claim).
SENDING_SQL = f"{Delivery._meta.db_table}.status = '{Status.SENDING.value}'"
LOST_CLAIM = " This worker had lost its claim meanwhile; another attempt was scheduled."
ATTEMPT_FIELDS = [
    "started_at", "finished_at", "outcome", "ambiguous", "mmp_message", "explanation", "response_status",
    "response_headers", "response_body", "response_truncated", "duration_ms", "error", "request_headers",
    "skan_fine_value", "skan_coarse_value", "skan_lock_window",
]  # fmt: skip
DELIVERY_FIELDS = [
    "ambiguous", "status", "next_attempt_at", "finished_at", "last_outcome", "last_http_status",
    "last_message", "last_explanation", "last_duration_ms", "updated_at",
    "skan_fine_value", "skan_coarse_value", "skan_lock_window",
]  # fmt: skip


# A run's cache of the apps without a result callback endpoint (events/callbacks/outbox.py), or None.
NoCallbacks = set[int] | None


@dataclass
class Prepared:
    """A claimed delivery whose request is built and whose attempt row is written: ready to go."""

    delivery: Delivery
    attempt: Attempt
    request: OutboundRequest | None  # None for an attempt the reconciler completes
    masker: Masker
    candidate: order_guard.Candidate | None
    # The request as it goes on the wire, prepared once for the stored headers and the send.
    wire: requests.PreparedRequest | None = None

    @property
    def host(self) -> str:
        return host_of(self.request.url) if self.request else ""


@dataclass
class Finished:
    prepared: Prepared
    answer: HttpAnswer | None
    error: TransportError | None
    verdict: Verdict
    # When the answer (or the error) came; the row is completed a little later, with its batch.
    answered_at: datetime = field(default_factory=timezone.now)


@dataclass
class Recorded:
    """What a batch of writes decided: a status per delivery, and the order keys that moved on."""

    statuses: dict[int, str]
    ended_keys: set[str]


def prepare(
    deliveries: list[Delivery],
    outcomes: dict[int, str],
    paused: Callable[[str], tuple[datetime, str] | None] = lambda host: None,
    without_callbacks: NoCallbacks = None,
) -> list[Prepared]:
    """Build the requests of claimed deliveries and write their attempt rows in one insert.

    A delivery that must not go out (too old to retry, refused by Adjust's order rules, its app
    deactivated, its request impossible to build) is finished here, and one whose MMP host is
    `paused` waits for the end of the pause; their statuses go in `outcomes`. `without_callbacks`: the
    run's cache of the apps without a callback endpoint, filled in as it goes.
    """
    now = timezone.now()
    ledger = order_guard.Ledger(order_guard.candidate_of(d) for d in deliveries)
    ready: list[Prepared] = []
    for delivery in deliveries:
        candidate = order_guard.candidate_of(delivery)
        if delivery.attempt_count > 1 and retry_policy.too_old(delivery.created_at, now):
            outcomes[delivery.pk] = finish_without_sending(
                delivery, retry_policy.too_old_note(), Status.DEAD, without_callbacks
            )
            continue
        refusal = ledger.refusal(candidate, now)
        if refusal:
            outcomes[delivery.pk] = finish_without_sending(
                delivery, refusal + " Not sent.", without_callbacks=without_callbacks
            )
            continue
        if not delivery.app.active:
            outcomes[delivery.pk] = finish_without_sending(
                delivery,
                "The app was deactivated in s2sadmin before this event went out.",
                without_callbacks=without_callbacks,
            )
            continue
        try:
            request = get_provider(delivery.app).build(delivery.app, delivery.event_token, delivery.params)
        except Exception as exc:  # e.g. a secret that SECRETS_KEY cannot decrypt: fixable, so retry later
            log.exception("Cannot build the request of delivery %s", delivery.pk)
            outcomes[delivery.pk] = retry_without_sending(
                delivery, f"s2sadmin could not build the request: {exc}", without_callbacks
            )
            continue
        pause = paused(host_of(request.url))
        if pause is not None:
            outcomes[delivery.pk] = wait_for_pause(delivery, *pause)
            continue
        masker = Masker(request.secrets)
        wire = prepare_once(request)
        attempt = Attempt(
            delivery=delivery,
            number=delivery.attempt_count,
            method=request.method,
            url=masker.text(request.url),
            # Exactly as they go on the wire (User-Agent, Host, Content-Length...), secrets masked.
            request_headers=masker.headers(wire_headers(request, wire)),
            request_body=masker.text(request.body.decode("utf-8", errors="replace")),
        )
        ready.append(Prepared(delivery, attempt, request, masker, candidate, wire))
    insert_rows([p.attempt for p in ready])
    return ready


def record(finished: list[Finished], without_callbacks: NoCallbacks = None) -> Recorded:
    """Complete the attempts and move their deliveries on, as the retry policy decides: one
    transaction for the batch; then the retries are scheduled. `without_callbacks`: the run's cache of
    the apps without a callback endpoint, filled in as it goes."""
    now = timezone.now()
    for item in finished:
        _decide(item, now)
    deliveries = [item.prepared.delivery for item in finished]
    statuses: dict[int, str] = {}
    ended_keys: set[str] = set()
    with transaction.atomic():
        # Written only where this run still holds the claim: the reconciler may have taken it back.
        held_ids = update_rows(deliveries, DELIVERY_FIELDS, unchanged=["claim_token"], where=SENDING_SQL)
        held = [d for d in deliveries if d.pk in held_ids]
        lost = [item for item in finished if item.prepared.delivery.pk not in held_ids]
        for item in lost:
            # The reconciler took this claim back (this worker looked dead) and another attempt
            # follows: this one's answer is kept, and the delivery may now go out twice.
            item.prepared.attempt.explanation += LOST_CLAIM
        if lost:
            Delivery.objects.filter(pk__in=[i.prepared.delivery.pk for i in lost]).update(
                ambiguous=True, updated_at=now
            )
        update_rows([item.prepared.attempt for item in finished], ATTEMPT_FIELDS)
        order_guard.record_accepted_many(
            item.prepared.candidate
            for item in finished
            if item.prepared.delivery.pk in held_ids and item.prepared.delivery.status == Status.DELIVERED
        )
        # The overview's hourly figures (events/reporting/rollups.py), in the same transaction.
        rollups.record_attempts(
            rollups.step(d, d.status, reason=d.last_message, duration_ms=d.last_duration_ms) for d in held
        )
        # Result callbacks: outbox rows in this transaction, enqueued once it has committed.
        callback_ids = callback_outbox.add_results(
            ((d.pk, d.app_id) for d in held if d.status in FINAL_STATUSES), without_callbacks
        )
    callback_outbox.enqueue(callback_ids)
    # /metrics counts the batch from here, after it committed (events/metrics/counters.py).
    metric_counters.count(
        metric_counters.Step(
            item.prepared.delivery.app.name,
            item.prepared.delivery.app.provider,
            item.prepared.delivery.status if item.prepared.delivery.pk in held_ids else "lost_claim",
            outcome=item.prepared.attempt.outcome,
            duration_ms=item.prepared.attempt.duration_ms,
        )
        for item in finished
    )
    for delivery in deliveries:
        statuses[delivery.pk] = delivery.status if delivery.pk in held_ids else "lost_claim"
    for delivery in held:
        if delivery.order_key and delivery.status in (Status.DELIVERED, Status.FAILED, Status.DEAD):
            ended_keys.add(delivery.order_key)
    for delivery in held:
        if delivery.status == Status.RETRYING:
            enqueue_retry(delivery.pk, (delivery.next_attempt_at - now).total_seconds())
    return Recorded(statuses, ended_keys)


def _decide(item: Finished, now: datetime) -> None:
    """Fill in the attempt row and the delivery's new state (in memory) from the verdict."""
    delivery, attempt, masker = item.prepared.delivery, item.prepared.attempt, item.prepared.masker
    verdict, answer, error = item.verdict, item.answer, item.error
    decision = retry_policy.decide(
        verdict.outcome,
        ambiguous=verdict.ambiguous,
        retry_after=verdict.retry_after,
        attempts_made=delivery.attempt_count,
        created_at=delivery.created_at,
        now=now,
    )
    attempt.finished_at = item.answered_at
    attempt.outcome = decision.outcome
    attempt.ambiguous = verdict.ambiguous
    attempt.mmp_message = masker.text(verdict.mmp_message)
    attempt.explanation = masker.text(" ".join(part for part in (verdict.explanation, decision.note) if part))
    if answer is not None:
        attempt.response_status = answer.status
        attempt.response_headers = masker.headers(answer.headers)
        attempt.response_body = masker.text(answer.text())
        attempt.response_truncated = answer.truncated
        attempt.duration_ms = answer.duration_ms
    if error is not None:
        attempt.error = masker.text(error.message)
        attempt.duration_ms = error.duration_ms
    if verdict.skan:
        # The delivery keeps the latest values an answer carried; an answer without any keeps them.
        for target in (attempt, delivery):
            target.skan_fine_value = verdict.skan.fine_value
            target.skan_coarse_value = verdict.skan.coarse_value
            target.skan_lock_window = verdict.skan.lock_window

    status = decision.status
    # Once an attempt may have been recorded, the delivery stays marked: later ones may duplicate it.
    delivery.ambiguous = delivery.ambiguous or verdict.ambiguous
    delivery.status = status
    delivery.next_attempt_at = now + timedelta(seconds=decision.delay) if status == Status.RETRYING else None
    delivery.finished_at = now if status in (Status.DELIVERED, Status.FAILED, Status.DEAD) else None
    delivery.last_outcome = decision.outcome
    delivery.last_http_status = attempt.response_status
    delivery.last_message = attempt.mmp_message or attempt.error
    delivery.last_explanation = attempt.explanation
    delivery.last_duration_ms = attempt.duration_ms
    delivery.updated_at = now


def holding(delivery: Delivery):
    """The delivery's row, only while this run still holds its claim."""
    return Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claim_token=delivery.claim_token)


def retry_without_sending(delivery: Delivery, explanation: str, without_callbacks: NoCallbacks = None) -> str:
    """Nothing went out, so the claim's attempt does not count; back to the backoff schedule."""
    now = timezone.now()
    decision = retry_policy.decide(
        Outcome.RETRY, attempts_made=delivery.attempt_count, created_at=delivery.created_at, now=now
    )
    status = decision.status
    _write_unsent(
        delivery,
        status,
        without_callbacks,
        attempt_count=F("attempt_count") - 1 if status == Status.RETRYING else F("attempt_count"),
        next_attempt_at=now + timedelta(seconds=decision.delay) if status == Status.RETRYING else None,
        finished_at=None if status == Status.RETRYING else now,
        last_outcome=Outcome.RETRY,
        last_message="",
        last_explanation=" ".join(part for part in (explanation, decision.note) if part),
        updated_at=now,
    )
    if status == Status.RETRYING:
        enqueue_retry(delivery.pk, decision.delay)
    return status


def finish_without_sending(
    delivery: Delivery,
    explanation: str,
    status: Status = Status.FAILED,
    without_callbacks: NoCallbacks = None,
) -> str:
    """A final status with nothing sent: the claim's attempt does not count."""
    now = timezone.now()
    _write_unsent(
        delivery,
        status,
        without_callbacks,
        attempt_count=F("attempt_count") - 1,
        finished_at=now,
        last_outcome=Outcome.PERMANENT if status == Status.FAILED else Outcome.RETRY,
        last_message="",
        last_explanation=explanation,
        updated_at=now,
    )
    return status


def _write_unsent(delivery: Delivery, status: Status, without_callbacks: NoCallbacks, **changes) -> None:
    """Move a delivery this run holds to `status` with nothing sent. One that this ends gets its
    hourly figures and its result callback in the same transaction (the callback is enqueued once
    it has committed); /metrics counts it after."""
    with transaction.atomic():
        held = holding(delivery).update(status=status, **changes)
        callback_ids = []
        if held and status in FINAL_STATUSES:
            rollups.record_attempts([rollups.step(delivery, status, sent=False)])
            callback_ids = callback_outbox.add_results([(delivery.pk, delivery.app_id)], without_callbacks)
    callback_outbox.enqueue(callback_ids)
    if held:
        metric_counters.count([metric_counters.Step(delivery.app.name, delivery.app.provider, status)])


def wait_for_pause(delivery: Delivery, until: datetime, reason: str) -> str:
    """The MMP's host is paused: nothing went out, so the claim's attempt does not count."""
    now = timezone.now()
    holding(delivery).update(
        status=Status.RETRYING,
        attempt_count=F("attempt_count") - 1,
        next_attempt_at=until,
        last_explanation=f"Sends to this MMP are paused until {until.astimezone(UTC):%H:%M:%S} UTC: {reason}",
        updated_at=now,
    )
    enqueue_retry(delivery.pk, (until - now).total_seconds())
    return Status.RETRYING


def give_back(delivery: Delivery, explanation: str) -> bool:
    """Release a claim whose attempt never started (its worker died first): due again at once."""
    now = timezone.now()
    again = delivery.attempt_count > 1
    return bool(
        holding(delivery).update(
            status=Status.RETRYING if again else Status.QUEUED,
            attempt_count=F("attempt_count") - 1,
            next_attempt_at=now if again else None,
            claim_token="",
            last_explanation=explanation,
            updated_at=now,
        )
    )


def give_back_unsent(prepared: Iterable[Prepared]) -> None:
    """The run is stopping: attempts written but never sent are removed, and their deliveries go
    back at once instead of waiting for the reconciler."""
    prepared = list(prepared)
    try:
        Attempt.objects.filter(pk__in=[p.attempt.pk for p in prepared if p.attempt.pk]).delete()
        for item in prepared:
            give_back(item.delivery, "Its send job stopped before reaching it; it goes out again.")
    except Exception:  # the database may be what failed: the reconciler catches up later
        log.exception("Could not give back %d unsent deliveries", len(prepared))
