"""The API's operations."""

from django.shortcuts import get_object_or_404
from ninja import Status

from events.api import idempotency
from events.api.ingest import ItemResult, ingest
from events.api.schemas import AttemptOut, BatchOut, DeliveryOut, ErrorOut, EventBatchIn, EventIn
from events.api.site import api
from events.models import Attempt, Delivery, skan_values


@api.post(
    "/events",
    response={202: BatchOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Queue one event or a batch of up to 1,000",
)
def post_events(request, payload: EventBatchIn | EventIn):
    """Each event is validated as its MMP would; the valid ones are queued, every item gets a result.

    Send `Idempotency-Key: <unique>` to make the whole request safe to repeat: a repeat gets the
    first answer. Each event's own `id` is kept per app: the same id is queued once, ever.
    """
    key = request.auth
    idempotency_key = request.headers.get("Idempotency-Key", "")
    items = payload.events if isinstance(payload, EventBatchIn) else [payload]

    def queue_items() -> idempotency.Answer:
        return 202, _batch_answer(ingest([item.dict() for item in items], key.apps.all()))

    if not idempotency_key:
        return Status(*queue_items())
    problem = idempotency.key_problem(idempotency_key)
    if problem:
        return Status(400, {"error": problem, "details": [{"where": "Idempotency-Key", "problem": problem}]})
    return Status(*idempotency.answer_once(key, idempotency_key, request.body, queue_items))


def _batch_answer(results: list[ItemResult]) -> dict:
    return {
        "accepted": sum(r.status == "accepted" for r in results),
        "duplicates": sum(r.status == "duplicate" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
        "results": [r.__dict__ for r in results],
    }


@api.get(
    "/deliveries/{delivery_id}", response={200: DeliveryOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut}
)
def get_delivery(request, delivery_id: int):
    """Status, attempts and the MMP's last answer of a delivery of one of this key's apps."""
    delivery = get_object_or_404(
        Delivery.objects.select_related("app", "event_token"), pk=delivery_id, app__in=request.auth.apps.all()
    )
    attempts = list(delivery.attempts.order_by("number"))
    return Status(
        200,
        {
            "id": delivery.pk,
            "app": delivery.app.name,
            "event": delivery.event_token.token,
            "environment": delivery.environment,
            "status": delivery.status,
            "final": delivery.is_final,
            "ambiguous": delivery.ambiguous,
            "attempt_count": delivery.attempt_count,
            "created_at": delivery.created_at,
            "next_attempt_at": delivery.next_attempt_at,
            "last_http_status": delivery.last_http_status,
            "last_message": delivery.last_message,
            "last_explanation": delivery.last_explanation,
            "last_response_body": attempts[-1].response_body if attempts else "",
            "skan": skan_values(delivery),
            "attempts": [{**_attempt_fields(a), "skan": skan_values(a)} for a in attempts],
        },
    )


def _attempt_fields(attempt: Attempt) -> dict:
    return {name: getattr(attempt, name) for name in AttemptOut.model_fields if name != "skan"}
