"""What an alert says: the incident in plain words, with links to the Alerts page and to the
request log filtered to the deliveries behind it (times in UTC: a message has no reader's zone)."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from events.monitoring.channels import Message
from events.monitoring.models import AlertChannel, Incident

PREFIX = "[s2sadmin]"


def log_path(incident: Incident, since: datetime | None = None) -> str:
    """The request log filtered to the incident's deliveries; `since` (already in the reader's
    zone) narrows it to when they started."""
    filters = dict(incident.log_filters)
    if since is not None:
        filters["since"] = f"{since:%Y-%m-%dT%H:%M}"
    return reverse("log") + ("?" + urlencode(filters) if filters else "")


def message_for(incident: Incident, event: str) -> Message:
    resolved = event == "incident.resolved"
    alerts_url = settings.SITE_URL + reverse("alerts")
    lines = [
        f"Resolved: {incident.title}" if resolved else incident.title,
        "",
        incident.detail if not resolved else f"The condition no longer holds. It was: {incident.detail}",
        "",
        f"Rule: {incident.get_rule_display()}",
        f"Opened: {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    if resolved and incident.resolved_at:
        lines.append(f"Resolved: {incident.resolved_at:%Y-%m-%d %H:%M:%S} UTC (open {_span(incident)})")
    if incident.log_filters:
        lines.append(f"Deliveries: {settings.SITE_URL}{log_path(incident)}")
    lines.append(f"Alerts: {alerts_url}")
    data = {
        "id": incident.pk,
        "rule": incident.rule,
        "subject": incident.subject,
        "app": incident.app.name if incident.app_id else None,
        "title": incident.title,
        "detail": incident.detail,
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "url": alerts_url,
    }
    subject = f"{PREFIX} {'Resolved' if resolved else 'Incident'}: {incident.title}"
    return Message(event, subject, "\n".join(lines), data)


def channel_test_message(channel: AlertChannel) -> Message:
    text = f"A test message from s2sadmin for the channel '{channel.name}': alerts will arrive here."
    return Message("test", f"{PREFIX} Test message", text, {"channel": channel.name})


def _span(incident: Incident) -> str:
    seconds = int(((incident.resolved_at or incident.opened_at) - incident.opened_at).total_seconds())
    return str(timedelta(seconds=seconds))
