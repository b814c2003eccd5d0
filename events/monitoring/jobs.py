"""The RQ job of the checks, enqueued by dotted path (the engine does not import this package):
`run_checks` runs every rule, opens and resolves incidents, then sends due canaries; the send
workers' maintenance enqueues it at most once per ALERT_CHECK_INTERVAL (events/engine/workers.py).
The messages' job is notify.send_alert."""

import logging
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone

from events.monitoring import canary, incidents
from events.monitoring.rules import CHECKS

log = logging.getLogger(__name__)


def run_checks(now: datetime | None = None, *, tell_at_once: bool = False) -> str:
    """Run every rule and open or resolve incidents, then send due canaries; returns a summary.
    `now`: the moment to judge at (tests move it on instead of waiting). `tell_at_once`: send the
    messages here instead of through jobs (manage.py check_alerts)."""
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
            opened, resolved = incidents.apply(check.rule, found, now, tell_at_once=tell_at_once)
            if opened or resolved:
                summary.append(f"{check.rule}: {opened} opened, {resolved} resolved")
        # After the rules: a canary is judged at the next run, once a worker had time to send it.
        summary.append(f"{canary.send_due(now)} canaries sent")
    finally:
        close_old_connections()
    result = "; ".join(summary)
    log.info("Alert checks: %s", result)
    return result
