"""Incidents: one per rule and subject while its condition holds; opened once, kept up to date,
resolved by itself; each opening and resolution told once on every active channel (notify.py)."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.monitoring.models import Incident
from events.monitoring.notify import OPENED, RESOLVED, tell
from events.monitoring.rules import Found


def apply(
    rule: str, found: Found, now: datetime | None = None, *, tell_at_once: bool = False
) -> tuple[int, int]:
    """Open, update and resolve `rule`'s incidents after a check; returns (opened, resolved).
    `tell_at_once`: send the messages here (after commit) rather than through jobs."""
    now = now or timezone.now()
    open_now = {i.subject: i for i in Incident.objects.filter(rule=rule, resolved_at=None)}
    opened = resolved = 0
    for finding in found.findings:
        incident = open_now.get(finding.subject)
        if incident is not None:
            incident.title, incident.detail, incident.last_seen_at = finding.title, finding.detail, now
            incident.save(update_fields=["title", "detail", "last_seen_at"])
            continue
        incident = Incident(
            rule=rule,
            subject=finding.subject,
            app=finding.app,
            title=finding.title[:300],
            detail=finding.detail,
            log_filters=finding.log_filters,
            deliveries_since=finding.deliveries_since,
            opened_at=now,
            last_seen_at=now,
            muted_until=_muted_until(rule, finding.subject, now),
        )
        try:
            with transaction.atomic():
                incident.save()
        except IntegrityError:
            continue  # another check opened it a moment ago
        opened += 1
        tell(incident, OPENED, at_once=tell_at_once)
    seen = {finding.subject for finding in found.findings} | found.unknown
    for subject, incident in open_now.items():
        if subject in seen:
            continue
        updated = Incident.objects.filter(pk=incident.pk, resolved_at=None).update(resolved_at=now)
        if updated:
            incident.resolved_at = now
            resolved += 1
            tell(incident, RESOLVED, at_once=tell_at_once)
    return opened, resolved


def _muted_until(rule: str, subject: str, now: datetime) -> datetime | None:
    """A mute outlasts its incident: the same rule and subject opening again stays quiet."""
    last = Incident.objects.filter(rule=rule, subject=subject, muted_until__gt=now).order_by("-muted_until")
    return last.values_list("muted_until", flat=True).first()


def open_incident_count() -> int:
    """Incidents open now (for the metrics gauge)."""
    return Incident.objects.filter(resolved_at=None).count()
