"""What a bulk resend does with each chosen delivery, decided before anything is sent (the preview)
and again, for what changed meanwhile, when the job sends.

- still retrying: its next attempt is brought forward (retry now), no copy;
- queued or sending, or a resend of it still on its way: skipped, never sent twice;
- its app deactivated: refused by s2sadmin;
- otherwise the MMP's rules decide, asked through the engine (events.engine.resend_refusals: the
  order guard, which asks each provider whether and how it refuses old or out-of-order events).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from events import engine
from events.models import PENDING_STATUSES, Delivery, Status
from events.resend.models import ResendItem

Plan = ResendItem.Plan
# The rules a chosen delivery can fall under besides the MMP's own (the order guard's AGE, ORDER).
INACTIVE, ON_ITS_WAY, RESEND_ON_ITS_WAY = "inactive", "on_its_way", "resend_on_its_way"
RULE_LABELS = {
    "age": "Too old: the MMP refuses events this old",
    "order": "Out of order: older than an event the MMP already accepted for the same device and event",
    INACTIVE: "The app is inactive in s2sadmin",
    ON_ITS_WAY: "Still on its way (queued or sending): not sent twice",
    RESEND_ON_ITS_WAY: "A resend of it is still on its way: not sent twice",
}


def max_deliveries() -> int:
    """At most this many deliveries in one bulk resend (BULK_RESEND_MAX)."""
    return settings.BULK_RESEND_MAX


@dataclass(frozen=True)
class Decision:
    plan: str
    rule: str = ""
    reason: str = ""


def load(ids: Iterable[int]) -> list[Delivery]:
    """The deliveries, oldest event first: the order the MMP must see them in."""
    return list(
        Delivery.objects.filter(pk__in=list(ids))
        .select_related("app", "event_token")
        .order_by("event_time", "id")
    )


def resends_on_their_way(originals: Sequence[Delivery]) -> set[int]:
    """The originals with a resend still queued, sending or retrying."""
    return set(
        Delivery.objects.filter(resent_from__in=[o.pk for o in originals], status__in=PENDING_STATUSES)
        .values_list("resent_from", flat=True)
        .distinct()
    )


def before_the_mmp(original: Delivery, pending_resends: set[int]) -> Decision | None:
    """What happens to it before the MMP's rules are asked; None when they decide."""
    if original.status == Status.RETRYING:
        return Decision(Plan.RETRY, reason="Still retrying: its next attempt is made now instead of a copy.")
    if original.status in (Status.QUEUED, Status.SENDING):
        return Decision(Plan.SKIP, ON_ITS_WAY, f"Still {original.get_status_display().lower()}.")
    if original.pk in pending_resends:
        return Decision(Plan.SKIP, RESEND_ON_ITS_WAY, "A resend of it is still queued, sending or retrying.")
    if not original.app.active:
        return Decision(
            Plan.REFUSE, INACTIVE, f"The app '{original.app.name}' is inactive; activate it to resend."
        )
    return None


def decide(originals: Sequence[Delivery], *, now: datetime | None = None) -> list[Decision]:
    """A decision for each original (in the order given: oldest event first)."""
    pending_resends = resends_on_their_way(originals)
    decisions: list[Decision | None] = [before_the_mmp(o, pending_resends) for o in originals]
    to_ask = [o for o, d in zip(originals, decisions, strict=True) if d is None]
    refusals = iter(engine.resend_refusals(to_ask, now=now))
    decided = []
    for decision in decisions:
        if decision is None:
            refusal = next(refusals)
            decision = (
                Decision(Plan.REFUSE, refusal.rule, refusal.message) if refusal else Decision(Plan.RESEND)
            )
        decided.append(decision)
    return decided
