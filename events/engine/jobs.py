"""The send job: claim a delivery, make one attempt, record it, decide what comes next.

Jobs carry delivery ids only and hold no MMP knowledge: the provider builds and classifies, the
transport sends, the retry policy (events/engine/retry_policy.py) decides what follows. A claim is a
conditional update that names the claiming run (claim_token) and worker (claimed_by): a job that
runs twice cannot send twice, and every later write checks it still holds the claim, so a claim
the reconciler gave back (events/engine/reconciler.py) is not overwritten by a worker that came back.
"""

import logging
import uuid
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from events import transport
from events.engine import liveness, order_guard, retry_policy
from events.engine.queues import enqueue_retry
from events.models import App, Attempt, Delivery, EventToken, Outcome, SecurityToken, Status
from events.providers import Verdict, get_provider
from events.reporting import rollups
from events.secrets import Masker
from events.transport import HttpAnswer, TransportError

log = logging.getLogger(__name__)

# RQ's scheduler runs about once a second, so a retry may start a little before its due time.
CLAIM_EARLY_TOLERANCE = timedelta(seconds=2)


def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """RQ job: one attempt for each delivery that is due. Returns a count per result."""
    close_old_connections()
    counts: dict[str, int] = {}
    try:
        liveness.beat()
        deliveries = claim(delivery_ids)
        counts["skipped"] = len(set(delivery_ids)) - len(deliveries)
        # Adjust's order and age rules, re-checked now: one query for the whole batch.
        ledger = order_guard.Ledger(order_guard.candidate_of(d) for d in deliveries)
        used_tokens: set[int] = set()
        for index, delivery in enumerate(deliveries):
            try:
                result = attempt_unless_refused(delivery, ledger, used_tokens)
            except BaseException:
                # The job is stopping (its timeout, a database error): the deliveries it has not
                # started go back at once instead of waiting for their claims to go stale.
                give_back_quietly(deliveries[index + 1 :])
                raise
            counts[result] = counts.get(result, 0) + 1
            liveness.beat()
        if used_tokens:
            SecurityToken.objects.filter(pk__in=used_tokens).update(last_used_at=timezone.now())
    finally:
        close_old_connections()
    return {result: count for result, count in counts.items() if count}


def claim(delivery_ids: list[int]) -> list[Delivery]:
    """Take the due deliveries among these ids for this run only, in one conditional update."""
    now = timezone.now()
    token = uuid.uuid4().hex
    Delivery.objects.filter(pk__in=delivery_ids, status__in=(Status.QUEUED, Status.RETRYING)).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLAIM_EARLY_TOLERANCE)
    ).update(
        status=Status.SENDING,
        claimed_at=now,
        claim_token=token,
        claimed_by=liveness.current_name(),
        attempt_count=F("attempt_count") + 1,
    )
    deliveries = list(Delivery.objects.filter(pk__in=delivery_ids, claim_token=token, status=Status.SENDING))
    # One App and EventToken instance each per batch: secrets are decrypted once, not per event.
    apps = App.objects.in_bulk({d.app_id for d in deliveries})
    event_tokens = EventToken.objects.in_bulk({d.event_token_id for d in deliveries})
    for delivery in deliveries:
        delivery.app = apps[delivery.app_id]
        delivery.event_token = event_tokens[delivery.event_token_id]
    order = {pk: i for i, pk in enumerate(delivery_ids)}
    return sorted(deliveries, key=lambda d: order[d.pk])


def send_one(delivery_id: int) -> str:
    """One attempt for one delivery; 'skipped' when another job has it or it is not due."""
    (result,) = send_deliveries([delivery_id])
    return result


def holding(delivery: Delivery):
    """The delivery's row, only while this run still holds its claim."""
    return Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claim_token=delivery.claim_token)


def attempt_unless_refused(delivery: Delivery, ledger: order_guard.Ledger, used_tokens: set[int]) -> str:
    now = timezone.now()
    if delivery.attempt_count > 1 and retry_policy.too_old(delivery.created_at, now):
        return finish_without_sending(delivery, retry_policy.too_old_note(), Status.DEAD)
    candidate = order_guard.candidate_of(delivery)
    refusal = ledger.refusal(candidate, now)
    if refusal:
        return finish_without_sending(delivery, refusal + " Not sent.")
    result = attempt(delivery, used_tokens, candidate)
    if result == Status.DELIVERED:
        ledger.note(candidate)
    return result


def attempt(delivery: Delivery, used_tokens: set[int], candidate: order_guard.Candidate | None = None) -> str:
    """One HTTP attempt for a claimed delivery, recorded before and after sending."""
    if not delivery.app.active:
        return finish_without_sending(
            delivery, "The app was deactivated in s2sadmin before this event went out."
        )
    provider = get_provider(delivery.app)
    try:
        request = provider.build(delivery.app, delivery.event_token, delivery.params)
    except Exception as exc:  # e.g. a secret that SECRETS_KEY cannot decrypt: fixable, so retry later
        log.exception("Cannot build the request of delivery %s", delivery.pk)
        return _retry_without_sending(delivery, f"s2sadmin could not build the request: {exc}")
    masker = Masker(request.secrets)
    attempt = Attempt.objects.create(
        delivery=delivery,
        number=delivery.attempt_count,
        method=request.method,
        url=masker.text(request.url),
        request_headers=masker.headers(request.headers),
        request_body=masker.text(request.body.decode("utf-8", errors="replace")),
    )
    answer: HttpAnswer | None = None
    error: TransportError | None = None
    try:
        answer = transport.send(request)
        verdict = provider.classify(answer)
    except TransportError as exc:
        error = exc
        verdict = provider.classify_error(exc)
    except Exception as exc:  # a bug of ours must not leave the delivery stuck in "sending"
        log.exception("Sending delivery %s failed unexpectedly", delivery.pk)
        error = TransportError("other", masker.text(f"s2sadmin failed while sending: {exc!r}"))
        verdict = Verdict(Outcome.RETRY, "", "s2sadmin hit an internal error; it will try again.")
    if request.security_token_id:
        used_tokens.add(request.security_token_id)
    return record(delivery, attempt, answer, error, verdict, masker, candidate)


def record(
    delivery: Delivery,
    attempt: Attempt,
    answer: HttpAnswer | None,
    error: TransportError | None,
    verdict: Verdict,
    masker: Masker,
    candidate: order_guard.Candidate | None = None,
) -> str:
    """Complete the attempt row and move the delivery on, as the retry policy decides."""
    now = timezone.now()
    decision = retry_policy.decide(
        verdict.outcome,
        ambiguous=verdict.ambiguous,
        retry_after=verdict.retry_after,
        attempts_made=delivery.attempt_count,
        created_at=delivery.created_at,
        now=now,
    )
    explanation = " ".join(part for part in (verdict.explanation, decision.note) if part)

    attempt.finished_at = now
    attempt.outcome = decision.outcome
    attempt.ambiguous = verdict.ambiguous
    attempt.mmp_message = masker.text(verdict.mmp_message)
    attempt.explanation = masker.text(explanation)
    if answer is not None:
        attempt.response_status = answer.status
        attempt.response_headers = masker.headers(answer.headers)
        attempt.response_body = masker.text(answer.text())
        attempt.response_truncated = answer.truncated
        attempt.duration_ms = answer.duration_ms
    if error is not None:
        attempt.error = masker.text(error.message)
        attempt.duration_ms = error.duration_ms

    status = decision.status
    # Once an attempt may have been recorded, the delivery stays marked: later ones may duplicate it.
    sticky = {"ambiguous": True} if verdict.ambiguous else {}
    with transaction.atomic():
        held = holding(delivery).update(
            **sticky,
            status=status,
            next_attempt_at=now + timedelta(seconds=decision.delay) if status == Status.RETRYING else None,
            finished_at=now if status in (Status.DELIVERED, Status.FAILED, Status.DEAD) else None,
            last_outcome=decision.outcome,
            last_http_status=attempt.response_status,
            last_message=attempt.mmp_message or attempt.error,
            last_explanation=attempt.explanation,
            last_duration_ms=attempt.duration_ms,
            updated_at=now,
        )
        if not held:
            # The reconciler took this claim back (this worker looked dead) and another attempt
            # follows: this one's answer is kept, and the delivery may now go out twice.
            attempt.explanation += " This worker had lost its claim meanwhile; another attempt was scheduled."
            Delivery.objects.filter(pk=delivery.pk).update(ambiguous=True, updated_at=now)
        elif status == Status.DELIVERED:
            order_guard.record_accepted(candidate)
        if held:  # the overview's hourly figures (events/reporting/rollups.py)
            reason, duration = attempt.mmp_message or attempt.error, attempt.duration_ms
            rollups.record_attempts([rollups.step(delivery, status, reason=reason, duration_ms=duration)])
        attempt.save()
    if held and status == Status.RETRYING:
        enqueue_retry(delivery.pk, decision.delay)
    return status if held else "lost_claim"


def _retry_without_sending(delivery: Delivery, explanation: str) -> str:
    """Nothing went out, so the claim's attempt does not count; back to the backoff schedule."""
    now = timezone.now()
    decision = retry_policy.decide(
        Outcome.RETRY, attempts_made=delivery.attempt_count, created_at=delivery.created_at, now=now
    )
    status = decision.status
    with transaction.atomic():
        held = holding(delivery).update(
            status=status,
            attempt_count=F("attempt_count") - 1 if status == Status.RETRYING else F("attempt_count"),
            next_attempt_at=now + timedelta(seconds=decision.delay) if status == Status.RETRYING else None,
            finished_at=None if status == Status.RETRYING else now,
            last_outcome=Outcome.RETRY,
            last_message="",
            last_explanation=" ".join(part for part in (explanation, decision.note) if part),
            updated_at=now,
        )
        if held and status != Status.RETRYING:  # gave up: a delivery finished, nothing sent
            rollups.record_attempts([rollups.step(delivery, status, sent=False)])
    if status == Status.RETRYING:
        enqueue_retry(delivery.pk, decision.delay)
    return status


def finish_without_sending(delivery: Delivery, explanation: str, status: Status = Status.FAILED) -> str:
    """A final status with nothing sent: the claim's attempt does not count."""
    now = timezone.now()
    with transaction.atomic():
        held = holding(delivery).update(
            status=status,
            attempt_count=F("attempt_count") - 1,
            finished_at=now,
            last_outcome=Outcome.PERMANENT if status == Status.FAILED else Outcome.RETRY,
            last_message="",
            last_explanation=explanation,
            updated_at=now,
        )
        if held:
            rollups.record_attempts([rollups.step(delivery, status, sent=False)])
    return status


def give_back_quietly(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        try:
            give_back(delivery, "Its send job stopped before reaching it; it goes out again.")
        except Exception:  # the database may be what failed: the reconciler catches up later
            log.exception("Could not give back delivery %s", delivery.pk)
            return


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
