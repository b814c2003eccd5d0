"""The canary per app: sent by the checks every N minutes through the real pipeline to the emulator,
marked as a canary, left out of the overview's figures, shown on the app's page, and an incident
when it fails (and only the canary's incident: the traffic rules leave canaries out)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import monitoring
from events.models import AuditEntry, Delivery, Source, Status
from events.monitoring.models import Canary, Incident, Rule
from events.reporting.models import OutcomeRollup
from tests.alert_receivers import run_alert_jobs
from tests.conftest import ADJUST_SECURITY_TOKEN, IDFA, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def canary(adjust, redis_conn) -> Canary:
    import django_rq

    worker = django_rq.get_worker("sends")
    worker.register_birth()  # a live worker: the no-worker rule stays quiet
    from events.emulator import registry

    registry.register_adjust_app(
        adjust.app_key, event_tokens=["f0ob4r"], security_tokens=[ADJUST_SECURITY_TOKEN], auth_enabled=True
    )
    yield Canary.objects.create(
        app=adjust,
        enabled=True,
        every_minutes=10,
        event_token=adjust.event_tokens.get(token="f0ob4r"),
        device_id_type="idfa",
        device_id=IDFA,
    )
    worker.register_death()


def check(now=None) -> None:
    monitoring.run_checks(now)
    run_worker()
    run_alert_jobs()


def canaries(app) -> list[Delivery]:
    return list(Delivery.objects.filter(app=app, source=Source.CANARY).order_by("pk"))


def test_a_canary_is_sent_every_n_minutes_in_the_sandbox_and_left_out_of_the_figures(canary):
    check()
    [first] = canaries(canary.app)
    assert first.status == Status.DELIVERED and first.environment == "sandbox" and first.is_canary
    assert first.attempts.get().response_status == 200  # a real answer of the emulated Adjust
    check(timezone.now() + timedelta(minutes=5))
    assert len(canaries(canary.app)) == 1  # not due yet
    check(timezone.now() + timedelta(minutes=11))
    assert len(canaries(canary.app)) == 2
    assert not OutcomeRollup.objects.filter(app_id=canary.app.pk).exists()
    assert list(Incident.objects.values_list("rule", "title")) == []


def test_a_failing_canary_opens_its_incident_and_resolves_when_it_passes(canary):
    from events.emulator import registry

    registry.add_adjust_security_token(canary.app.app_key, ADJUST_SECURITY_TOKEN, active=False)
    registry.add_adjust_security_token(canary.app.app_key, "rotated0token0in0adjust0dashboard1")
    check()
    check()  # the canary's answer is in: judged now
    [incident] = Incident.objects.all()
    assert incident.rule == Rule.CANARY and incident.app == canary.app  # not the traffic's 401 rule
    assert "canary fails" in incident.title and "Failed to authorize request" in incident.detail
    assert incident.log_filters == {"app": str(canary.app.pk), "source": "canary"}
    check(timezone.now() + timedelta(minutes=11))  # a second canary, refused too: the same incident
    assert Incident.objects.count() == 1 and incident.title in Incident.objects.get().title

    registry.add_adjust_security_token(canary.app.app_key, ADJUST_SECURITY_TOKEN, active=True)
    check(timezone.now() + timedelta(minutes=22))
    check(timezone.now() + timedelta(minutes=23))
    incident.refresh_from_db()
    assert not incident.is_open
    assert [d.status for d in canaries(canary.app)] == [Status.FAILED, Status.FAILED, Status.DELIVERED]


def test_a_canary_that_cannot_be_sent_is_an_incident_that_says_why(canary):
    canary.device_id = ""
    canary.save()
    check()
    [incident] = Incident.objects.all()
    assert "cannot be sent" in incident.title and "no test device" in incident.detail
    assert canaries(canary.app) == []


def test_the_apps_page_shows_the_strip_of_recent_canaries(canary, client_for, marketer):
    check()
    check(timezone.now() + timedelta(minutes=11))
    page = client_for(marketer).get(reverse("app_detail", args=[canary.app.pk])).content.decode()
    assert page.count('class="canary-result delivered"') == 2
    for delivery in canaries(canary.app):
        assert reverse("delivery", args=[delivery.pk]) in page


def test_an_admin_sets_the_canary_and_rules_the_mmp_would_refuse_are_named(adjust_app, client_for, admin):
    client = client_for(admin)
    url = reverse("app_alerts", args=[adjust_app.pk])
    assert (
        "Opens at once when the MMP&#x27;s latest answer is HTTP 401 or 403"
        in client.get(url).content.decode()
    )
    token = adjust_app.event_tokens.get(token="f0ob4r")
    form = {
        "rules-success_rate_enabled": "on",
        "rules-success_rate_threshold": "80",
        "rules-success_rate_window_minutes": "15",
        "rules-success_rate_min_deliveries": "20",
        "rules-permanent_failures_in_row": "5",
        "rules-auth_refused_enabled": "on",
        "rules-waiting_minutes": "30",
        "canary-enabled": "on",
        "canary-every_minutes": "5",
        "canary-event_token": str(token.pk),
        "canary-device_id_type": "idfa",
        "canary-device_id": "not-an-idfa",
    }
    response = client.post(url, form)
    assert (
        response.status_code == 200 and "The MMP would refuse this canary event" in response.content.decode()
    )
    assert not Canary.objects.exists()
    response = client.post(url, {**form, "canary-device_id": IDFA})
    assert response.status_code == 302
    rules = adjust_app.alert_rules
    assert rules.success_rate_threshold == 80 and not rules.permanent_failures_enabled
    assert Canary.objects.get().every_minutes == 5
    assert {"alert_rules.updated", "canary.updated"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )
