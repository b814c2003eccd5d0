"""Choosing the deliveries and saving the plan the preview shows (nothing is sent here)."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from events.log import query as log_query
from events.models import Environment
from events.resend.models import BulkResend, ResendItem
from events.resend.plan import Plan, decide, load, max_deliveries


class TooMany(Exception):
    """More deliveries than one bulk resend takes; the message says what to do."""


def matching(filters: dict[str, Any]) -> list[int]:
    """The ids of the deliveries the log's cleaned filters match; TooMany past the cap (counted no
    further than one past it)."""
    cap = max_deliveries()
    ids = list(log_query.filtered(filters).order_by().values_list("pk", flat=True)[: cap + 1])
    if len(ids) > cap:
        raise TooMany(
            f"This filter matches more than {cap:,} deliveries, more than one bulk resend takes. "
            "Narrow it (a shorter time range, one app or event, a status) and try again."
        )
    return ids


def preview(user, ids: Iterable[int], *, filters: str = "") -> BulkResend:
    """The plan for these deliveries, saved to be shown and confirmed. TooMany past the cap; ids of
    deliveries that no longer exist are left out."""
    ids = set(ids)
    if len(ids) > max_deliveries():
        raise TooMany(f"At most {max_deliveries():,} deliveries can be resent at once; choose fewer.")
    originals = load(ids)
    decisions = decide(originals)
    production = sum(
        d.plan == Plan.RESEND and o.environment == Environment.PRODUCTION
        for o, d in zip(originals, decisions, strict=True)
    )
    with transaction.atomic():
        bulk = BulkResend.objects.create(
            created_by=user, filters=filters, total=len(originals), production=production
        )
        ResendItem.objects.bulk_create(
            ResendItem(bulk_resend=bulk, original=o, plan=d.plan, rule=d.rule, reason=d.reason)
            for o, d in zip(originals, decisions, strict=True)
        )
    return bulk
