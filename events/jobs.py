"""The send job: claim a delivery, make one attempt, record it, decide what comes next.

Jobs carry delivery ids only and hold no MMP knowledge: the provider builds and classifies, the
transport sends. A claim is a conditional update, so a job that runs twice cannot send twice.
"""

import logging
import random
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from events import transport
from events.models import App, Attempt, Delivery, EventToken, Outcome, SecurityToken, Status
from events.providers import Verdict, get_provider
from events.secrets import Masker
from events.sending import enqueue_retry
from events.transport import HttpAnswer, TransportError

log = logging.getLogger(__name__)

# RQ's scheduler runs about once a second, so a retry may start a little before its due time.
CLAIM_EARLY_TOLERANCE = timedelta(seconds=2)


def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """RQ job: one attempt for each delivery that is due. Returns a count per result."""
    close_old_connections()
    counts: dict[str, int] = {}
    try:
        deliveries = claim(delivery_ids)
        counts["skipped"] = len(set(delivery_ids)) - len(deliveries)
        used_tokens: set[int] = set()
        for delivery in deliveries:
            result = attempt(delivery, used_tokens)
            counts[result] = counts.get(result, 0) + 1
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
    ).update(status=Status.SENDING, claimed_at=now, claim_token=token, attempt_count=F("attempt_count") + 1)
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


def attempt(delivery: Delivery, used_tokens: set[int]) -> str:
    """One HTTP attempt for a claimed delivery, recorded before and after sending."""
    if not delivery.app.active:
        _finish_without_sending(delivery, "The app was deactivated in s2sadmin before this event went out.")
        return Status.FAILED
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
    return _record(delivery, attempt, answer, error, verdict, masker)


def _record(
    delivery: Delivery,
    attempt: Attempt,
    answer: HttpAnswer | None,
    error: TransportError | None,
    verdict: Verdict,
    masker: Masker,
) -> str:
    now = timezone.now()
    outcome = verdict.outcome
    explanation = verdict.explanation
    if outcome == Outcome.RETRY and verdict.ambiguous and not settings.SEND_RETRY_AMBIGUOUS:
        outcome = Outcome.PERMANENT
        explanation += " Not retried, because the MMP may have recorded it (SEND_RETRY_AMBIGUOUS is off)."

    status, delay = _next_status(delivery.attempt_count, outcome, verdict.retry_after)
    if status == Status.DEAD:
        explanation += f" Gave up after {delivery.attempt_count} attempts."

    attempt.finished_at = now
    attempt.outcome = outcome
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

    # Once an attempt may have been recorded, the delivery stays marked: later ones may duplicate it.
    sticky = {"ambiguous": True} if verdict.ambiguous else {}
    with transaction.atomic():
        attempt.save()
        Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            **sticky,
            status=status,
            next_attempt_at=now + timedelta(seconds=delay) if status == Status.RETRYING else None,
            finished_at=now if status in (Status.DELIVERED, Status.FAILED, Status.DEAD) else None,
            last_outcome=outcome,
            last_http_status=attempt.response_status,
            last_message=attempt.mmp_message or attempt.error,
            last_explanation=attempt.explanation,
            last_duration_ms=attempt.duration_ms,
            updated_at=now,
        )
    if status == Status.RETRYING:
        enqueue_retry(delivery.pk, delay)
    return status


def _next_status(attempts_made: int, outcome: Outcome, retry_after: float | None) -> tuple[Status, float]:
    if outcome == Outcome.DELIVERED:
        return Status.DELIVERED, 0
    if outcome == Outcome.PERMANENT:
        return Status.FAILED, 0
    backoff = settings.SEND_BACKOFF
    if attempts_made > len(backoff):
        return Status.DEAD, 0
    delay = backoff[attempts_made - 1]
    delay *= 1 + random.uniform(-settings.SEND_BACKOFF_JITTER, settings.SEND_BACKOFF_JITTER)  # noqa: S311
    if retry_after is not None:
        # The MMP said when to come back: never sooner than that, within reason.
        delay = max(delay, min(retry_after, settings.SEND_RETRY_AFTER_MAX))
    return Status.RETRYING, delay


def _retry_without_sending(delivery: Delivery, explanation: str) -> str:
    """Nothing went out, so the claim's attempt does not count; back to the backoff schedule."""
    status, delay = _next_status(delivery.attempt_count, Outcome.RETRY, None)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=status,
        attempt_count=F("attempt_count") - 1 if status == Status.RETRYING else F("attempt_count"),
        next_attempt_at=now + timedelta(seconds=delay) if status == Status.RETRYING else None,
        finished_at=None if status == Status.RETRYING else now,
        last_outcome=Outcome.RETRY,
        last_message="",
        last_explanation=explanation,
        updated_at=now,
    )
    if status == Status.RETRYING:
        enqueue_retry(delivery.pk, delay)
    return status


def _finish_without_sending(delivery: Delivery, explanation: str) -> None:
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.FAILED,
        attempt_count=F("attempt_count") - 1,
        finished_at=now,
        last_outcome=Outcome.PERMANENT,
        last_message="",
        last_explanation=explanation,
        updated_at=now,
    )
