"""Telling people: each opening and resolution of an incident, once, on every active channel.

Normally an RQ job per channel and message (`send_alert`) on the default queue, enqueued after
commit: a slow mail server never holds up a check, nor the send queue, which the workers take
first. `manage.py check_alerts` sends at once instead: run from cron outside the workers, it is
what tells that no worker is alive, when no job would run.
"""

import logging

import django_rq
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Retry

from events.monitoring.channels import ChannelError, deliver
from events.monitoring.messages import channel_test_message, message_for
from events.monitoring.models import AlertChannel, Incident

log = logging.getLogger(__name__)

SEND_ALERT_JOB = "events.monitoring.notify.send_alert"
# Tries of a message that a channel did not take: at once, then after these many seconds.
ALERT_RETRY_INTERVALS = [10, 60, 300]
OPENED, RESOLVED, TEST = "incident.opened", "incident.resolved", "test"


def tell(incident: Incident, event: str, *, at_once: bool = False) -> None:
    """Tell every active channel, after commit (nothing while muted): through jobs, or `at_once`."""
    if incident.is_muted():
        return
    channel_ids = list(AlertChannel.objects.filter(active=True).values_list("pk", flat=True))
    if not channel_ids:
        return
    if at_once:
        transaction.on_commit(lambda: send_alerts_now(channel_ids, incident.pk, event))
    else:
        transaction.on_commit(lambda: enqueue_alerts(channel_ids, incident.pk, event))


def send_alerts_now(channel_ids: list[int], incident_id: int, event: str) -> None:
    for channel_id in channel_ids:
        try:
            send_alert(channel_id, incident_id, event)
        except ChannelError as exc:
            log.warning(
                "Alert %s of incident %s not sent on channel %s: %s", event, incident_id, channel_id, exc
            )


def enqueue_alerts(channel_ids: list[int], incident_id: int | None, event: str) -> bool:
    queue = django_rq.get_queue("default", commit_mode="auto")
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
    return enqueue_alerts([channel_id], None, TEST)


def send_alert(channel_id: int, incident_id: int | None, event: str) -> str:
    """The job: send one message; raises when the channel did not take it, so that RQ tries again."""
    channel = AlertChannel.objects.filter(pk=channel_id, active=True).first()
    if channel is None:
        return "channel removed or switched off"
    if event == TEST:
        message = channel_test_message(channel)
    else:
        incident = Incident.objects.select_related("app").filter(pk=incident_id).first()
        if incident is None:
            return "incident removed"
        message = message_for(incident, event)
    try:
        deliver(channel, message)
    except ChannelError as exc:
        AlertChannel.objects.filter(pk=channel.pk).update(last_error=str(exc)[:2000])
        raise
    AlertChannel.objects.filter(pk=channel.pk).update(last_sent_at=timezone.now(), last_error="")
    return f"sent on {channel.name}"
