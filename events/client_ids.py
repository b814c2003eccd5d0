"""The ids clients give their events (the API's `id`, a bulk file's id column, send_event's
--idempotency-key), kept apart from the keys s2sadmin makes for events without one.

Both live in Delivery.idempotency_key, unique per app. A client id is never cut short (two long ids
would become one) and may not start with the prefix of s2sadmin's own keys, so no client id can
take the key of a bulk row (or the other way round).
"""

from events.models import Delivery
from events.nul import unstorable_problem

MAX_LENGTH = Delivery._meta.get_field("idempotency_key").max_length
RESERVED_PREFIX = "s2s:"


def bulk_row_key(bulk_id: int, line: int) -> str:
    """The key of a bulk row without an id: deterministic, so a re-run cannot insert it twice."""
    return f"{RESERVED_PREFIX}bulk-{bulk_id}-{line}"


def problem(client_id: str, name: str = "id") -> str | None:
    """Why this client id cannot be used, or None."""
    if len(client_id) > MAX_LENGTH:
        return f"{name} is {len(client_id)} characters long; at most {MAX_LENGTH} are allowed."
    if client_id.startswith(RESERVED_PREFIX):
        return f"{name} may not start with '{RESERVED_PREFIX}': s2sadmin keeps that prefix for its own keys."
    unstorable = unstorable_problem(client_id)
    return f"{name} {unstorable}" if unstorable else None
