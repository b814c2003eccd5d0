"""The rules: what each watches, in plain words, and where its condition holds now.

Each rule's `find(now)` looks at every subject it watches and returns what it found: a Finding
for each subject whose condition holds, plus the subjects it cannot judge now (too few deliveries,
no canary answer yet), whose open incident is left as it is. Everything else is fine, and its open
incident resolves (events/monitoring/incidents.py).

Rules that judge traffic leave the canary's deliveries out (the canary has its own rule); the
success rate and failures in a row also leave out the test console's.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import rq
from django.conf import settings
from django.db.models import Count, Min, Q
from redis.exceptions import RedisError

from events.engine import liveness, paused_hosts, send_queue
from events.models import FINAL_STATUSES, PENDING_STATUSES, App, Delivery, Source, Status
from events.monitoring.models import AlertRules, Canary, Rule
from events.providers import PROVIDERS

# A 401 or 403 answer is judged on the app's latest answered delivery from this far back.
AUTH_LOOKBACK = timedelta(days=1)
AUTH_STATUSES = (401, 403)
# A canary still unanswered after its interval (and at least this long) is failing.
CANARY_MIN_PATIENCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Finding:
    subject: str
    title: str
    detail: str
    app: App | None = None
    log_filters: dict[str, Any] = field(default_factory=dict)
    deliveries_since: datetime | None = None


@dataclass
class Found:
    findings: list[Finding] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # subjects that cannot be judged now


def app_subject(app: App) -> str:
    return f"app:{app.pk}"


def rules_of(app: App) -> AlertRules:
    """The app's rules, or the defaults (unsaved) when an admin never changed them."""
    try:
        return app.alert_rules
    except AlertRules.DoesNotExist:
        return AlertRules(app=app)


def _watched(enabled: Callable[[AlertRules], bool]) -> Iterator[tuple[App, AlertRules]]:
    saved = {r.app_id: r for r in AlertRules.objects.all()}
    for app in App.objects.filter(active=True).order_by("pk"):
        rules = saved.get(app.pk) or AlertRules(app=app)
        if enabled(rules):
            yield app, rules


def _real(app: App):
    return Delivery.objects.filter(app=app).exclude(source=Source.CANARY)


def _traffic(app: App):
    """What the success-rate and failures-in-a-row rules judge: not the canary, nor the test
    console, where people try wrong values on purpose to see the MMP's answer."""
    return _real(app).exclude(source=Source.FORM)


# --- one function per rule ---------------------------------------------------------------------


def find_low_success_rate(now: datetime) -> Found:
    found = Found()
    for app, rules in _watched(lambda r: r.success_rate_enabled):
        since = now - timedelta(minutes=rules.success_rate_window_minutes)
        counts = (
            _traffic(app)
            .filter(created_at__gte=since, status__in=FINAL_STATUSES)
            .aggregate(total=Count("id"), delivered=Count("id", filter=Q(status=Status.DELIVERED)))
        )
        total, delivered = counts["total"], counts["delivered"]
        if total < rules.success_rate_min_deliveries:
            found.unknown.add(app_subject(app))
            continue
        rate = 100 * delivered / total
        if rate < rules.success_rate_threshold:
            found.findings.append(
                Finding(
                    app_subject(app),
                    f"{app.name}: success rate {rate:.0f}% (below {rules.success_rate_threshold}%)",
                    f"{delivered} of the {total} deliveries created in the last "
                    f"{rules.success_rate_window_minutes} minutes and finished were delivered.",
                    app,
                    {"app": str(app.pk), "status": "unsuccessful"},
                    since,
                )
            )
    return found


def find_permanent_failures(now: datetime) -> Found:
    found = Found()
    for app, rules in _watched(lambda r: r.permanent_failures_enabled):
        n = rules.permanent_failures_in_row
        last = list(
            _traffic(app)
            .filter(status__in=FINAL_STATUSES)
            .order_by("-created_at", "-id")
            .values_list("status", "created_at", "last_message")[:n]
        )
        if len(last) == n and all(status == Status.FAILED for status, _, _ in last):
            found.findings.append(
                Finding(
                    app_subject(app),
                    f"{app.name}: the last {n} deliveries failed for good",
                    f"The MMP refused the last {n} finished deliveries; the latest said: "
                    f"{last[0][2] or '(nothing)'}",
                    app,
                    {"app": str(app.pk), "status": Status.FAILED},
                    last[-1][1],
                )
            )
    return found


def find_auth_refused(now: datetime) -> Found:
    found = Found()
    for app, _rules in _watched(lambda r: r.auth_refused_enabled):
        latest = (
            _real(app)
            .filter(created_at__gte=now - AUTH_LOOKBACK, last_http_status__isnull=False)
            .order_by("-created_at", "-id")
            .values("last_http_status", "last_message", "created_at")
            .first()
        )
        if latest and latest["last_http_status"] in AUTH_STATUSES:
            status = latest["last_http_status"]
            found.findings.append(
                Finding(
                    app_subject(app),
                    f"{app.name}: the MMP refuses its credentials (HTTP {status})",
                    f"The latest answer was HTTP {status}: {latest['last_message'] or '(no message)'}. "
                    "A token was probably revoked, rotated or pasted wrong.",
                    app,
                    {"app": str(app.pk), "http": str(status)},
                    latest["created_at"],
                )
            )
    return found


def find_waiting(now: datetime) -> Found:
    found = Found()
    for app, rules in _watched(lambda r: r.waiting_enabled):
        limit = timedelta(minutes=rules.waiting_minutes)
        waiting = (
            _real(app)
            .filter(status__in=PENDING_STATUSES, created_at__lt=now - limit)
            .aggregate(n=Count("id"), oldest=Min("created_at"))
        )
        if waiting["n"]:
            minutes = int((now - waiting["oldest"]).total_seconds() // 60)
            found.findings.append(
                Finding(
                    app_subject(app),
                    f"{app.name}: {waiting['n']} deliveries waiting over {rules.waiting_minutes} minutes",
                    f"{waiting['n']} deliveries are still queued, sending or retrying more than "
                    f"{rules.waiting_minutes} minutes after they were made; the oldest for {minutes} minutes.",
                    app,
                    {"app": str(app.pk), "status": "in_flight"},
                    waiting["oldest"],
                )
            )
    return found


def find_no_worker(now: datetime) -> Found:
    found = Found()
    queue = send_queue()
    try:
        workers = rq.Worker.all(queue=queue)
        alive = [w for w in workers if liveness.is_alive(queue.connection, w.name)]
    except RedisError as exc:
        detail = f"Redis, which holds the send queue, cannot be reached: {exc}"
        found.findings.append(Finding("workers", "Redis unreachable: no worker can send", detail))
        return found
    if not alive:
        waiting = Delivery.objects.filter(status__in=PENDING_STATUSES).count()
        found.findings.append(
            Finding(
                "workers",
                "No live send worker",
                f"No worker listens on the '{settings.SEND_QUEUE}' queue: nothing is sent. "
                f"{waiting} deliveries wait.",
                log_filters={"status": "in_flight"},
            )
        )
    return found


def find_failing_canaries(now: datetime) -> Found:
    found = Found()
    canaries = Canary.objects.filter(enabled=True, app__active=True).select_related("app")
    for canary in canaries:
        app = canary.app
        filters = {"app": str(app.pk), "source": Source.CANARY}
        if canary.last_error:
            title = f"{app.name}: the canary cannot be sent"
            found.findings.append(Finding(app_subject(app), title, canary.last_error, app, filters))
            continue
        latest = Delivery.objects.filter(app=app, source=Source.CANARY).order_by("-created_at", "-id").first()
        if latest is None:
            found.unknown.add(app_subject(app))
            continue
        patience = max(timedelta(minutes=canary.every_minutes), CANARY_MIN_PATIENCE)
        if latest.status in (Status.FAILED, Status.DEAD, Status.RETRYING):
            detail = f"The latest canary (delivery {latest.pk}) is {latest.get_status_display().lower()}: "
            detail += latest.last_message or latest.last_explanation or "(no answer)"
        elif latest.status in PENDING_STATUSES and latest.created_at < now - patience:
            detail = f"The latest canary (delivery {latest.pk}) has had no answer for over {patience}."
        else:
            continue
        title = f"{app.name}: the canary fails"
        found.findings.append(Finding(app_subject(app), title, detail, app, filters, latest.created_at))
    return found


def find_paused_hosts(now: datetime) -> Found:
    found = Found()
    for pause in paused_hosts():
        mmps = [
            name
            for name, p in PROVIDERS.items()
            if (urlsplit(getattr(settings, p.base_url_setting)).hostname or "").lower() == pause.host
        ]
        found.findings.append(
            Finding(
                f"host:{pause.host}",
                f"Sends to {pause.host} paused",
                f"{pause.reason} Its deliveries wait, without spending an attempt, until "
                f"{pause.until:%Y-%m-%d %H:%M:%S} UTC.",
                log_filters={"status": "in_flight", **({"mmp": mmps[0]} if len(mmps) == 1 else {})},
            )
        )
    return found


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    find: Callable[[datetime], Found]
    # What it watches, in plain words, for the app's rules (None: the defaults).
    watches: Callable[[AlertRules | None], str]


def _defaults(rules: AlertRules | None) -> AlertRules:
    return rules if rules is not None else AlertRules()


CHECKS = [
    RuleCheck(
        Rule.SUCCESS_RATE,
        find_low_success_rate,
        lambda r: (
            f"Opens when fewer than {_defaults(r).success_rate_threshold}% of the deliveries made in the "
            f"last {_defaults(r).success_rate_window_minutes} minutes and finished were delivered, once at "
            f"least {_defaults(r).success_rate_min_deliveries} have finished."
        ),
    ),
    RuleCheck(
        Rule.PERMANENT_FAILURES,
        find_permanent_failures,
        lambda r: (
            f"Opens when the MMP refused the last {_defaults(r).permanent_failures_in_row} finished "
            "deliveries for good: the integration is broken."
        ),
    ),
    RuleCheck(
        Rule.AUTH_REFUSED,
        find_auth_refused,
        lambda r: (
            "Opens at once when the MMP's latest answer is HTTP 401 or 403: a token was revoked, "
            "rotated or pasted wrong. Resolves when an answer says otherwise."
        ),
    ),
    RuleCheck(
        Rule.WAITING,
        find_waiting,
        lambda r: (
            f"Opens when a delivery is still queued, sending or retrying {_defaults(r).waiting_minutes} "
            "minutes after it was made."
        ),
    ),
    RuleCheck(
        Rule.NO_WORKER,
        find_no_worker,
        lambda r: "Opens when no send worker is alive: nothing is sent.",
    ),
    RuleCheck(
        Rule.CANARY,
        find_failing_canaries,
        lambda r: "Opens when the app's canary fails or gets no answer.",
    ),
    RuleCheck(
        Rule.HOST_PAUSED,
        find_paused_hosts,
        lambda r: "Opens while sends to an MMP host are paused after a run of failures.",
    ),
]
CHECK_OF = {check.rule: check for check in CHECKS}
