"""Alert rules over real parts: events sent by a real worker to the emulator over HTTP, the checks
run as the maintenance job runs them, messages sent by a real worker of the default queue. For each
rule: it opens once, holds (no second incident, no second message), and resolves by itself."""

from datetime import timedelta

import django_rq
import pytest
from django.core import mail
from django.utils import timezone

from events import monitoring
from events.engine import create_delivery
from events.engine.limits import PAUSE_KEY, Limits
from events.models import EventToken, Outcome, Source
from events.monitoring.models import AlertChannel, AlertRules, Incident, Rule
from events.providers import Verdict
from events.transport import host_of
from tests.alert_receivers import run_alert_jobs
from tests.conftest import ADJUST_SECURITY_TOKEN, IDFA, run_worker

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN = "x0x0x0"  # an event token the emulated Adjust does not know: refused for good


@pytest.fixture
def live_worker(redis_conn):
    """A real SendWorker registered as a running one is (the rules' 'no live worker' sees it)."""
    worker = django_rq.get_worker("sends")
    worker.register_birth()
    yield worker
    worker.register_death()


@pytest.fixture
def watched(adjust, live_worker):
    """The Adjust demo app with its security token enforced by the emulator, and a mail channel."""
    adjust_app = adjust
    from events.emulator import registry

    registry.register_adjust_app(
        adjust_app.app_key,
        event_tokens=["f0ob4r"],
        security_tokens=[ADJUST_SECURITY_TOKEN],
        auth_enabled=True,
    )
    EventToken.objects.create(app=adjust_app, name="Unknown to Adjust", token=UNKNOWN)
    AlertChannel.objects.create(name="On call", kind="email", target="oncall@example.com")
    return adjust_app


def set_rules(app, **fields) -> AlertRules:
    defaults = {
        "success_rate_enabled": False,
        "permanent_failures_enabled": False,
        "auth_refused_enabled": False,
        "waiting_enabled": False,
    }
    rules, _ = AlertRules.objects.update_or_create(app=app, defaults={**defaults, **fields})
    return rules


def send(app, n: int, token: str = "f0ob4r", *, work: bool = True) -> None:
    event = app.event_tokens.get(token=token)
    for _ in range(n):
        create_delivery(app, event, {"device_ids": {"idfa": IDFA}}, source=Source.API)
    if work:
        run_worker()


def check(now=None) -> None:
    """One run of the checks as the maintenance job runs it, then the alert messages it queued."""
    monitoring.run_checks(now)
    run_alert_jobs()


def incidents(rule: str) -> list[Incident]:
    return list(Incident.objects.filter(rule=rule).order_by("pk"))


def refuse_token(app) -> None:
    """The MMP side: the token s2sadmin sends is deactivated (rotated in Adjust's dashboard)."""
    from events.emulator import registry

    registry.add_adjust_security_token(app.app_key, ADJUST_SECURITY_TOKEN, active=False)
    registry.add_adjust_security_token(app.app_key, "rotated0token0in0adjust0dashboard1")


def accept_token(app) -> None:
    from events.emulator import registry

    registry.add_adjust_security_token(app.app_key, ADJUST_SECURITY_TOKEN, active=True)


def test_auth_refused_opens_at_once_holds_and_resolves_with_one_message_each(watched):
    set_rules(watched, auth_refused_enabled=True)
    send(watched, 1)
    check()
    assert incidents(Rule.AUTH_REFUSED) == []

    refuse_token(watched)
    send(watched, 1)
    check()
    [incident] = incidents(Rule.AUTH_REFUSED)
    assert incident.is_open and "HTTP 401" in incident.title and watched.name in incident.title
    assert incident.log_filters == {"app": str(watched.pk), "http": "401"}
    assert [m.subject for m in mail.outbox] == [f"[s2sadmin] Incident: {incident.title}"]
    assert "oncall@example.com" in mail.outbox[0].to

    send(watched, 2)  # still refused: the same incident, no new message
    check()
    check()
    assert len(incidents(Rule.AUTH_REFUSED)) == 1 and len(mail.outbox) == 1

    accept_token(watched)
    send(watched, 1)
    check()
    [incident] = incidents(Rule.AUTH_REFUSED)
    assert not incident.is_open
    assert mail.outbox[1].subject == f"[s2sadmin] Resolved: {incident.title}"
    assert "no longer holds" in mail.outbox[1].body
    check()
    assert len(mail.outbox) == 2 and monitoring.open_incident_count() == 0


def test_permanent_failures_in_a_row(watched):
    set_rules(watched, permanent_failures_enabled=True, permanent_failures_in_row=3)
    send(watched, 2, token=UNKNOWN)  # unknown to the emulated Adjust: refused for good
    check()
    assert incidents(Rule.PERMANENT_FAILURES) == []  # two in a row are not three
    send(watched, 1, token=UNKNOWN)
    check()
    [incident] = incidents(Rule.PERMANENT_FAILURES)
    assert incident.is_open and "last 3 deliveries failed" in incident.title
    assert "Invalid event token" in incident.detail
    send(watched, 2, token=UNKNOWN)
    check()
    assert len(incidents(Rule.PERMANENT_FAILURES)) == 1 and len(mail.outbox) == 1
    send(watched, 1)  # one delivered: no longer N failures in a row
    check()
    assert not incidents(Rule.PERMANENT_FAILURES)[0].is_open and len(mail.outbox) == 2


def test_success_rate_below_its_threshold(watched):
    set_rules(watched, success_rate_enabled=True, success_rate_threshold=90, success_rate_min_deliveries=4)
    send(watched, 2, token=UNKNOWN)
    check()
    assert incidents(Rule.SUCCESS_RATE) == []  # two finished deliveries say nothing either way
    send(watched, 2)
    check()
    [incident] = incidents(Rule.SUCCESS_RATE)
    assert "50%" in incident.title and "2 of the 4" in incident.detail
    assert incident.log_filters == {"app": str(watched.pk), "status": "unsuccessful"}
    send(watched, 4)  # 6 of 8: still below, the same incident
    check()
    assert len(incidents(Rule.SUCCESS_RATE)) == 1 and "75%" in incidents(Rule.SUCCESS_RATE)[0].title
    check(timezone.now() + timedelta(hours=2))  # nothing in the window: unknown, it holds
    assert incidents(Rule.SUCCESS_RATE)[0].is_open
    send(watched, 16)  # 22 of 24
    check()
    assert not incidents(Rule.SUCCESS_RATE)[0].is_open
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[s2sadmin] Incident", "[s2sadmin] Resolved"]


def test_deliveries_waiting_longer_than_the_limit(watched):
    set_rules(watched, waiting_enabled=True, waiting_minutes=10)
    send(watched, 3, work=False)  # no worker takes them
    check()
    assert incidents(Rule.WAITING) == []
    later = timezone.now() + timedelta(minutes=11)
    check(later)
    [incident] = incidents(Rule.WAITING)
    assert "3 deliveries waiting over 10 minutes" in incident.title
    check(later + timedelta(minutes=1))
    assert len(incidents(Rule.WAITING)) == 1 and len(mail.outbox) == 1
    run_worker()
    check(later + timedelta(minutes=2))
    assert not incidents(Rule.WAITING)[0].is_open and len(mail.outbox) == 2


def test_no_live_worker(watched, live_worker):
    set_rules(watched)
    check()
    assert incidents(Rule.NO_WORKER) == []
    live_worker.register_death()
    check()
    [incident] = incidents(Rule.NO_WORKER)
    assert incident.title == "No live send worker" and incident.subject == "workers"
    check()
    assert len(incidents(Rule.NO_WORKER)) == 1
    live_worker.register_birth()
    check()
    assert not incidents(Rule.NO_WORKER)[0].is_open and len(mail.outbox) == 2


def test_a_paused_mmp_host_is_an_incident(watched, settings, redis_conn):
    set_rules(watched)
    settings.SEND_BREAKER_FAILURES = 2
    settings.SEND_BREAKER_PAUSE = 60
    host = host_of(settings.ADJUST_BASE_URL)
    limits = Limits()
    for _ in range(2):  # what the send run counts after two answers worth retrying
        limits.note(host, Verdict(Outcome.RETRY, "HTTP 500", "server error"), 500)
    check()
    [incident] = incidents(Rule.HOST_PAUSED)
    assert incident.subject == f"host:{host}" and "2 failures in a row" in incident.detail
    # Every emulated MMP shares the live server's host here: the log is filtered by status only.
    assert incident.log_filters == {"status": "in_flight"}
    check()
    assert len(incidents(Rule.HOST_PAUSED)) == 1
    redis_conn.delete(PAUSE_KEY + host)  # the pause ended
    check()
    assert not incidents(Rule.HOST_PAUSED)[0].is_open


def test_a_muted_incident_sends_nothing_and_a_reopening_stays_quiet(watched):
    set_rules(watched, auth_refused_enabled=True)
    refuse_token(watched)
    send(watched, 1)
    check()
    incident = incidents(Rule.AUTH_REFUSED)[0]
    incident.muted_until = timezone.now() + timedelta(hours=1)
    incident.save()
    accept_token(watched)
    send(watched, 1)
    check()
    refuse_token(watched)
    send(watched, 1)
    check()
    first, second = incidents(Rule.AUTH_REFUSED)
    assert not first.is_open and second.is_open and second.muted_until == first.muted_until
    assert len(mail.outbox) == 1  # the first opening only


def test_a_rule_switched_off_for_the_app_watches_nothing(watched):
    set_rules(watched)  # every traffic rule off
    refuse_token(watched)
    send(watched, 6, token=UNKNOWN)
    check()
    assert not Incident.objects.filter(app=watched).exists()


def test_open_incident_count_is_the_gauge_of_open_incidents(watched):
    assert monitoring.open_incident_count() == 0
    Incident.objects.create(rule=Rule.WAITING, subject="app:1", title="one")
    Incident.objects.create(rule=Rule.WAITING, subject="app:2", title="two", resolved_at=timezone.now())
    assert monitoring.open_incident_count() == 1


def test_check_alerts_from_cron_tells_that_no_worker_is_alive_without_a_worker(adjust, settings, redis_conn):
    """No worker runs the message jobs then: the command sends them itself."""
    from django.core.management import call_command

    from tests.alert_receivers import smtp_server, use_smtp

    set_rules(adjust)
    with smtp_server() as (box, port):
        use_smtp(settings, port)
        AlertChannel.objects.create(name="On call", kind="email", target="oncall@example.com")
        call_command("check_alerts")
    assert box.subjects() == ["[s2sadmin] Incident: No live send worker"]
    assert "nothing is sent" in box.messages[0].get_content()


def test_test_console_sends_do_not_count_as_failures_in_a_row(watched):
    set_rules(watched, permanent_failures_enabled=True, permanent_failures_in_row=2)
    event = watched.event_tokens.get(token=UNKNOWN)
    for _ in range(3):  # someone trying a wrong event in the test console
        create_delivery(watched, event, {"device_ids": {"idfa": IDFA}}, source=Source.FORM)
    run_worker()
    check()
    assert incidents(Rule.PERMANENT_FAILURES) == []
