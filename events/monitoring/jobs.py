"""The RQ jobs of monitoring, enqueued by dotted path (the engine does not import this package):

- `run_checks`: every rule, the incidents, then due canaries; the send workers' maintenance
  enqueues it at most once per ALERT_CHECK_INTERVAL (events/engine/workers.py);
- `send_alert`: one message on one channel, retried by RQ when the channel does not take it.
"""

import logging
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone

from events.monitoring import canary, incidents
from events.monitoring.channels import ChannelError, deliver
from events.monitoring.messages import channel_test_message, message_for
from events.monitoring.models import AlertChannel, Incident
from events.monitoring.rules import CHECKS

log = logging.getLogger(__name__)


def run_checks(now: datetime | None = None) -> str:
    """Run every rule and open or resolve incidents, then send due canaries; returns a summary.
    `now`: the moment to judge at (tests move it on instead of waiting)."""
    close_old_connections()
    now = now or timezone.now()
    summary = []
    try:
        for check in CHECKS:
            try:
                found = check.find(now)
            except Exception:  # one broken rule must not stop the others, nor resolve its incidents
                log.exception("Alert rule %s failed; its incidents stay as they are", check.rule)
                continue
            opened, resolved = incidents.apply(check.rule, found, now)
            if opened or resolved:
                summary.append(f"{check.rule}: {opened} opened, {resolved} resolved")
        # After the rules: a canary is judged at the next run, once a worker had time to send it.
        summary.append(f"{canary.send_due(now)} canaries sent")
    finally:
        close_old_connections()
    result = "; ".join(summary)
    log.info("Alert checks: %s", result)
    return result


def send_alert(channel_id: int, incident_id: int | None, event: str) -> str:
    """Send one message; raises when the channel did not take it, so that RQ tries again."""
    channel = AlertChannel.objects.filter(pk=channel_id, active=True).first()
    if channel is None:
        return "channel removed or switched off"
    if event == "test":
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
