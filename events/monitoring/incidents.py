"""Incidents: one per rule and subject while its condition holds; opened once, kept up to date,
resolved by itself; each opening and resolution told once on every active channel.

Telling is an RQ job per channel and message (events/monitoring/jobs.py) on the default queue,
enqueued after commit: a slow mail server never holds up a check, nor the send queue, which the
workers take first.
"""

import logging
from datetime import datetime

import django_rq
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Retry

from events.monitoring.models import AlertChannel, Incident
from events.monitoring.rules import Found

log = logging.getLogger(__name__)

SEND_ALERT_JOB = "events.monitoring.jobs.send_alert"
# Tries of a message that a channel did not take: at once, then after these many seconds.
ALERT_RETRY_INTERVALS = [10, 60, 300]
OPENED, RESOLVED = "incident.opened", "incident.resolved"


def apply(rule: str, found: Found, now: datetime | None = None) -> tuple[int, int]:
    """Open, update and resolve `rule`'s incidents after a check; returns (opened, resolved)."""
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
        tell(incident, OPENED)
    seen = {finding.subject for finding in found.findings} | found.unknown
    for subject, incident in open_now.items():
        if subject in seen:
            continue
        updated = Incident.objects.filter(pk=incident.pk, resolved_at=None).update(resolved_at=now)
        if updated:
            incident.resolved_at = now
            resolved += 1
            tell(incident, RESOLVED)
    return opened, resolved


def _muted_until(rule: str, subject: str, now: datetime) -> datetime | None:
    """A mute outlasts its incident: the same rule and subject opening again stays quiet."""
    last = Incident.objects.filter(rule=rule, subject=subject, muted_until__gt=now).order_by("-muted_until")
    return last.values_list("muted_until", flat=True).first()


def tell(incident: Incident, event: str) -> None:
    """Queue the message on every active channel, after commit; nothing while muted."""
    if incident.is_muted():
        return
    channel_ids = list(AlertChannel.objects.filter(active=True).values_list("pk", flat=True))
    if channel_ids:
        transaction.on_commit(lambda: enqueue_alerts(channel_ids, incident.pk, event))


def enqueue_alerts(channel_ids: list[int], incident_id: int | None, event: str) -> bool:
    queue = alert_queue()
    try:
        for channel_id in channel_ids:
            queue.enqueue(
                SEND_ALERT_JOB,
                channel_id,
                incident_id,
                event,
                retry=Retry(max=len(ALERT_RETRY_INTERVALS), interval=ALERT_RETRY_INTERVALS),
                job_timeout=120,
                result_ttl=24 * 3600,
                description=f"alert: {event} (incident {incident_id}) on channel {channel_id}",
            )
    except RedisError as exc:
        log.warning("Alert %s of incident %s not queued, Redis unreachable: %s", event, incident_id, exc)
        return False
    return True


def send_test_message(channel_id: int) -> bool:
    """Queue a test message on the channel; False when Redis is unreachable."""
    return enqueue_alerts([channel_id], None, "test")


def alert_queue():
    return django_rq.get_queue("default", commit_mode="auto")


def open_incident_count() -> int:
    """Incidents open now (for the metrics gauge)."""
    return Incident.objects.filter(resolved_at=None).count()
