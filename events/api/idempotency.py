"""Idempotency-Key: the first request with a key is the only one whose events are queued.

The key is claimed before any event is validated or queued, by inserting its ApiRequest row in the
same transaction that then saves the events and the answer. A concurrent request with the same key
waits on that row's unique index (PostgreSQL; SQLite takes its write lock when the transaction
begins) until the first commits, then fails to insert and gets the stored answer, or 422 when its
body differs. Deliveries are enqueued on commit, so nothing is queued for the request that lost,
nor for one that failed half-way (its transaction and claim roll back together).
"""

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction

from events.api.models import ApiKey, ApiRequest

MAX_KEY_LENGTH = ApiRequest._meta.get_field("idempotency_key").max_length

Answer = tuple[int, dict]


def key_problem(idempotency_key: str) -> str | None:
    """Why this Idempotency-Key cannot be used, or None. Never cut short: cut keys collide."""
    if len(idempotency_key) > MAX_KEY_LENGTH:
        return f"Idempotency-Key is {len(idempotency_key)} characters long; at most {MAX_KEY_LENGTH} are allowed."
    return None


def answer_once(api_key: ApiKey, idempotency_key: str, body: bytes, handle: Callable[[], Answer]) -> Answer:
    """handle()'s answer for the first request with this key; for any other, that stored answer."""
    body_hash = hashlib.sha256(body).hexdigest()
    earlier = ApiRequest.objects.filter(api_key=api_key, idempotency_key=idempotency_key).first()
    if earlier is not None:
        return _replay(earlier, body_hash)
    with transaction.atomic():
        claim = _claim(api_key, idempotency_key, body_hash)
        if claim is not None:
            claim.status_code, claim.response = handle()
            claim.save(update_fields=["status_code", "response"])
            return claim.status_code, claim.response
    # Another request held the key and has committed by now (the insert waited for it).
    return _replay(ApiRequest.objects.get(api_key=api_key, idempotency_key=idempotency_key), body_hash)


def _claim(api_key: ApiKey, idempotency_key: str, body_hash: str) -> ApiRequest | None:
    try:
        with transaction.atomic():
            # Completed below in the same transaction: no other request ever sees it unanswered.
            return ApiRequest.objects.create(
                api_key=api_key,
                idempotency_key=idempotency_key,
                body_hash=body_hash,
                status_code=0,
                response={},
            )
    except IntegrityError:
        return None


def _replay(earlier: ApiRequest, body_hash: str) -> Answer:
    if earlier.body_hash != body_hash:
        return 422, {"error": "This Idempotency-Key was used with a different request body."}
    return earlier.status_code, earlier.response
