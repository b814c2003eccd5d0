"""Monitoring that acts: alert rules per app, incidents, channels that tell people, and a canary
per app.

Its public face:

- `run_checks`: the RQ job the send workers' maintenance enqueues (by dotted path) at most once
  per ALERT_CHECK_INTERVAL: every rule, incidents opened and resolved, due canaries (jobs.py);
- `open_incident_count`: incidents open now, for the metrics gauge (incidents.py);
- `CHECKS`, `rules_of`: the rules and what each watches in plain words (rules.py);
- `send_test_message`: queue a test message on a channel (notify.py);
- `recent_canaries`: an app's latest canary deliveries, for its page (canary.py).

Inside, imports run one way: jobs -> canary, incidents -> notify, rules -> messages, channels ->
models; the package reads the engine (liveness, paused hosts, create_delivery) and transport; the engine
never imports it.
"""

from events.lazy_face import lazy_face

# events/models.py imports this package's models while it loads, so nothing else is imported at
# package import time: each name is looked up in its module on first use (PEP 562).
_HOMES = {
    "CHECKS": "rules",
    "CHECK_OF": "rules",
    "rules_of": "rules",
    "open_incident_count": "incidents",
    "send_test_message": "notify",
    "run_checks": "jobs",
    "recent_canaries": "canary:recent",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_face(__name__, _HOMES)
