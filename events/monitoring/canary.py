"""The canary: per app, a synthetic event every N minutes, with a chosen event token and test
device, in the sandbox where the MMP has one. Its deliveries carry Source.CANARY: the overview's
figures and the traffic rules leave them out, the app's page shows them as a strip, and the canary
rule (rules.py) opens an incident when they fail.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from events.engine import create_delivery
from events.models import Delivery, Environment, Source
from events.monitoring.models import Canary
from events.providers import EventInvalid, get_provider

STRIP_LENGTH = 24


def send_due(now: datetime | None = None) -> int:
    """Send every enabled canary whose interval has passed; returns how many were queued."""
    now = now or timezone.now()
    sent = 0
    for canary in Canary.objects.filter(enabled=True, app__active=True).select_related("app", "event_token"):
        if canary.last_sent_at and canary.last_sent_at > now - timedelta(minutes=canary.every_minutes):
            continue
        sent += send_one(canary, now) is not None
    return sent


def send_one(canary: Canary, now: datetime | None = None) -> Delivery | None:
    """Queue one canary event; a problem with its setup is kept on the canary (last_error)."""
    now = now or timezone.now()
    app = canary.app
    delivery = None
    if canary.event_token is None or canary.event_token.archived:
        canary.last_error = "The canary has no event token to send (choose one on the app's alerts page)."
    elif not canary.device_id_type or not canary.device_id:
        canary.last_error = "The canary has no test device (choose one on the app's alerts page)."
    else:
        environment = Environment.SANDBOX if get_provider(app).has_sandbox else Environment.PRODUCTION
        fields = {"device_ids": {canary.device_id_type: canary.device_id}, "environment": environment}
        try:
            delivery, _ = create_delivery(app, canary.event_token, fields, source=Source.CANARY)
        except EventInvalid as exc:
            canary.last_error = f"The canary event is invalid: {exc}"
        else:
            canary.last_error = ""
    canary.last_sent_at = now
    canary.save(update_fields=["last_sent_at", "last_error"])
    return delivery


def recent(app) -> list[Delivery]:
    """The app's latest canary deliveries, oldest first, for the strip on its page."""
    rows = Delivery.objects.filter(app=app, source=Source.CANARY).order_by("-created_at", "-id")
    rows = rows.only("id", "status", "created_at", "last_http_status", "last_message")
    return list(rows[:STRIP_LENGTH])[::-1]
