"""The body of a result callback: a delivery's final result, as the API's delivery shows it."""

from typing import Any

from django.utils import timezone

from events.models import Attempt, Delivery, skan_values

EVENT_TYPE = "delivery.finished"


def result_of(delivery: Delivery) -> dict[str, Any]:
    attempts = list(delivery.attempts.order_by("number"))
    return {
        "type": EVENT_TYPE,
        "timestamp": _iso(timezone.now()),
        "data": {
            "delivery_id": delivery.pk,
            # The event's own id as the backend sent it (API `id`), or the id s2sadmin gave it.
            "event_id": delivery.idempotency_key,
            "app": delivery.app.name,
            "mmp": delivery.app.provider,
            "event": delivery.event_token.token,
            "environment": delivery.environment,
            "status": delivery.status,
            "ambiguous": delivery.ambiguous,
            "attempt_count": delivery.attempt_count,
            "created_at": _iso(delivery.created_at),
            "finished_at": _iso(delivery.finished_at),
            "http_status": delivery.last_http_status,
            # The MMP's own words, and what they mean.
            "mmp_message": delivery.last_message,
            "explanation": delivery.last_explanation,
            "skan": skan_values(delivery),
            "attempts": [_attempt(a) for a in attempts],
        },
    }


def _attempt(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": _iso(attempt.started_at),
        "finished_at": _iso(attempt.finished_at),
        "outcome": attempt.outcome,
        "http_status": attempt.response_status,
        "mmp_message": attempt.mmp_message,
        "explanation": attempt.explanation,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
        "skan": skan_values(attempt),
    }


def _iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
