"""The API's operations."""

import hashlib

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from ninja import Status

from events.api import api
from events.api.schemas import BatchOut, DeliveryOut, ErrorOut, EventBatchIn, EventIn
from events.ingest import ingest
from events.models import ApiRequest, Delivery


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
    idempotency_key = request.headers.get("Idempotency-Key", "")[:200]
    body_hash = hashlib.sha256(request.body).hexdigest()
    if idempotency_key:
        earlier = ApiRequest.objects.filter(api_key=key, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, body_hash)
    items = payload.events if isinstance(payload, EventBatchIn) else [payload]
    results = ingest([item.dict() for item in items], key.apps.all())
    body = {
        "accepted": sum(r.status == "accepted" for r in results),
        "duplicates": sum(r.status == "duplicate" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
        "results": [r.__dict__ for r in results],
    }
    if idempotency_key:
        try:
            with transaction.atomic():
                ApiRequest.objects.create(
                    api_key=key,
                    idempotency_key=idempotency_key,
                    body_hash=body_hash,
                    status_code=202,
                    response=body,
                )
        except IntegrityError:  # a concurrent repeat stored its answer first
            return _replay(ApiRequest.objects.get(api_key=key, idempotency_key=idempotency_key), body_hash)
    return Status(202, body)


def _replay(earlier: ApiRequest, body_hash: str):
    if earlier.body_hash != body_hash:
        return Status(422, {"error": "This Idempotency-Key was used with a different request body."})
    return Status(earlier.status_code, earlier.response)


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
            "attempts": attempts,
        },
    )
