"""The callbacks job: post each finished delivery's result to its app's endpoint, signed.

Like an MMP send (events/engine/): claim the rows with a conditional update, write each try's
row before the request leaves, post through the one transport (no redirects, timeouts, the URL
checked by destinations.py before every try), then record the answer; a 2xx is delivered,
anything else is tried again after CALLBACK_BACKOFF until the tries run out. Requests go out on
a few threads so one slow receiver does not hold the others; all writes stay on the job's thread.
"""

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from events import transport
from events.callbacks import destinations, outbox, payload, signing
from events.callbacks.models import Callback, CallbackAttempt
from events.models import Outcome
from events.secrets import Masker
from events.transport import HttpAnswer, OutboundRequest, TransportError

log = logging.getLogger(__name__)

THREADS = 8


@dataclass
class Try:
    callback: Callback
    attempt: CallbackAttempt
    request: OutboundRequest | None
    answer: HttpAnswer | None = None
    error: TransportError | None = None


def send_callbacks(callback_ids: list[int]) -> dict[str, int]:
    """RQ job: one try for each of these callbacks that is due."""
    close_old_connections()
    try:
        tries = _prepare(_claim(callback_ids))
        ready = [t for t in tries if t.request is not None]
        if ready:
            with ThreadPoolExecutor(
                max_workers=min(THREADS, len(ready)), thread_name_prefix="callback"
            ) as pool:
                list(pool.map(_post, ready))
        return _record(tries)
    finally:
        close_old_connections()


def _claim(callback_ids: list[int]) -> list[Callback]:
    token = uuid.uuid4().hex
    now = timezone.now()
    due = Q(state=Callback.State.PENDING) | Q(state=Callback.State.RETRYING, next_attempt_at__lte=now)
    Callback.objects.filter(due, pk__in=callback_ids).update(
        state=Callback.State.SENDING,
        claim_token=token,
        claimed_at=now,
        attempt_count=F("attempt_count") + 1,
    )
    return list(
        Callback.objects.filter(claim_token=token, state=Callback.State.SENDING).select_related(
            "endpoint", "delivery__app", "delivery__event_token"
        )
    )


def _prepare(claimed: list[Callback]) -> list[Try]:
    """The body (made at the first try), the signed request, and the try's row, per callback."""
    tries = []
    for callback in claimed:
        endpoint = callback.endpoint
        if not callback.body:
            callback.body = json.dumps(payload.result_of(callback.delivery), separators=(",", ":"))
        attempt = CallbackAttempt(
            callback=callback, number=callback.attempt_count, url=endpoint.url if endpoint else ""
        )
        if endpoint is None or not endpoint.active:
            attempt.explanation = "The app's result callback was removed or switched off; not sent."
            tries.append(Try(callback, attempt, None))
            continue
        body = callback.body.encode()
        headers = signing.headers(endpoint.secret, callback.message_id, int(time.time()), body)
        request = OutboundRequest("POST", endpoint.url, headers, body, secrets=(endpoint.secret,))
        masker = Masker(request.secrets)
        attempt.request_headers = masker.headers(transport.wire_headers(request))
        attempt.request_body = body.decode()
        tries.append(Try(callback, attempt, request))
    CallbackAttempt.objects.bulk_create([t.attempt for t in tries])
    for item in tries:
        item.attempt.started_at = timezone.now()
    return tries


def _post(item: Try) -> None:
    try:
        item.answer = transport.send(item.request, destination_problem=destinations.url_problem)
    except TransportError as exc:
        item.error = exc
    except Exception as exc:  # a bug of ours must not leave the callback claimed
        log.exception("Posting callback %s failed unexpectedly", item.callback.pk)
        item.error = TransportError("other", f"s2sadmin failed while posting: {exc!r}")


def _record(tries: list[Try]) -> dict[str, int]:
    now = timezone.now()
    retry_later: dict[float, list[int]] = {}
    results: dict[str, int] = {}
    for item in tries:
        state, delay = _decide(item, now)
        results[state] = results.get(state, 0) + 1
        if delay is not None:
            retry_later.setdefault(delay, []).append(item.callback.pk)
    with transaction.atomic():
        CallbackAttempt.objects.bulk_update(
            [t.attempt for t in tries],
            [
                "started_at",
                "finished_at",
                "response_status",
                "response_body",
                "duration_ms",
                "outcome",
                "explanation",
                "error",
            ],
        )
        for item in tries:
            callback = item.callback
            Callback.objects.filter(pk=callback.pk, claim_token=callback.claim_token).update(
                state=callback.state,
                next_attempt_at=callback.next_attempt_at,
                finished_at=callback.finished_at,
                body=callback.body,
                last_explanation=callback.last_explanation,
                claim_token="",
            )
    for delay, ids in retry_later.items():
        outbox.enqueue(ids, delay_seconds=delay)
    return results


def _decide(item: Try, now) -> tuple[str, float | None]:
    """The try's outcome and the callback's next state (in memory); the delay of a retry."""
    callback, attempt, answer, error = item.callback, item.attempt, item.answer, item.error
    attempt.finished_at = now
    if answer is not None:
        attempt.response_status = answer.status
        attempt.response_body = answer.text()
        attempt.duration_ms = answer.duration_ms
    if error is not None:
        attempt.error = error.message
        attempt.duration_ms = error.duration_ms
    if item.request is None:  # the endpoint is gone: nothing to try again
        attempt.outcome = Outcome.PERMANENT
        return _finish(callback, Callback.State.FAILED, attempt.explanation, now), None
    if answer is not None and 200 <= answer.status < 300:
        attempt.outcome = Outcome.DELIVERED
        attempt.explanation = f"The receiver accepted the result (HTTP {answer.status})."
        return _finish(callback, Callback.State.DELIVERED, attempt.explanation, now), None
    attempt.explanation = _why(answer, error)
    backoff = settings.CALLBACK_BACKOFF
    if callback.attempt_count > len(backoff):
        attempt.outcome = Outcome.PERMANENT
        note = f"{attempt.explanation} Gave up after {callback.attempt_count} tries."
        return _finish(callback, Callback.State.FAILED, note, now), None
    delay = backoff[callback.attempt_count - 1]
    attempt.outcome = Outcome.RETRY
    callback.state = Callback.State.RETRYING
    callback.next_attempt_at = now + timedelta(seconds=delay)
    callback.last_explanation = f"{attempt.explanation} Next try in {delay:g} s."
    return callback.state, delay


def _finish(callback: Callback, state: str, explanation: str, now) -> str:
    callback.state = state
    callback.next_attempt_at = None
    callback.finished_at = now
    callback.last_explanation = explanation
    return state


def _why(answer: HttpAnswer | None, error: TransportError | None) -> str:
    if error is not None:
        return error.message
    if 300 <= answer.status < 400:
        return f"The receiver answered a redirect (HTTP {answer.status}); redirects are not followed: set the final URL."
    return f"The receiver answered HTTP {answer.status}, not a 2xx."
