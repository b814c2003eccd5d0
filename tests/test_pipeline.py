"""The slice over real parts: send_event -> Delivery -> Redis -> a real RQ worker -> the emulator
over a socket -> Attempt rows holding the exact request and response."""

import subprocess
import sys
import time
from urllib.parse import parse_qsl

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from events.models import Attempt, Delivery, Status
from tests.conftest import ADJUST_APP_TOKEN, IDFA, run_worker, subprocess_env, worker_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(emulator):
    call_command("seed_demo")
    return emulator


def start_worker(*flags: str, output=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "rqworker", "sends", *flags],
        env=subprocess_env(),
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_seeded_event_goes_from_send_event_through_a_worker_process_to_the_emulator(
    demo, capsys, live_server
):
    event_time = str(int(time.time()) - 60)
    call_command(
        "send_event", "Demo Adjust iOS", "f0ob4r", "--device", f"idfa={IDFA}",
        "--param", "order=42", "--revenue", "4.99", "--currency", "EUR", "--created-at", event_time,
    )  # fmt: skip
    assert "Queued delivery" in capsys.readouterr().out
    delivery = Delivery.objects.get()
    assert delivery.status == Status.QUEUED

    worker = start_worker("--burst")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempt_count == 1
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.method == "POST"
    assert attempt.url == f"{live_server.url}/emulator/adjust/event"
    assert attempt.request_headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert attempt.request_headers["Authorization"].startswith("Bearer ••••")
    assert attempt.request_body == (
        f"s2s=1&event_token=f0ob4r&app_token=••••b54d&idfa={IDFA}&created_at_unix={event_time}"
        "&callback_params=%7B%22order%22%3A%2242%22%7D&currency=EUR&revenue=4.99&environment=sandbox"
    )
    sent = dict(parse_qsl(attempt.request_body))
    assert sent["s2s"] == "1"
    assert sent["event_token"] == "f0ob4r"
    assert sent["app_token"].startswith("••••")
    assert sent["idfa"] == IDFA
    assert sent["created_at_unix"] == event_time
    assert sent["callback_params"] == '{"order":"42"}'
    assert (sent["revenue"], sent["currency"], sent["environment"]) == ("4.99", "EUR", "sandbox")
    assert attempt.response_status == 200
    assert '"status"' in attempt.response_body and "OK" in attempt.response_body
    assert attempt.outcome == "delivered"
    assert attempt.finished_at >= attempt.started_at
    assert attempt.duration_ms > 0
    recorded = demo.recorded_events()
    assert len(recorded) == 1
    assert recorded[0].device_ids.get("idfa") == IDFA


def test_the_attempt_row_masks_the_secrets_it_sent(demo):
    call_command("send_event", "Demo Adjust iOS", "f0ob4r", "--device", f"idfa={IDFA}")
    run_worker()
    attempt = Attempt.objects.get()
    stored = " ".join(str(v) for v in Attempt.objects.values().get().values())
    assert ADJUST_APP_TOKEN not in stored
    assert attempt.response_status == 200


def test_send_event_waits_and_prints_the_emulators_answer(demo, capsys):
    with worker_process():
        call_command(
            "send_event", "Demo Adjust iOS", "f0ob4r", "--device", f"idfa={IDFA}", "--wait", "--timeout", "30"
        )
    out = capsys.readouterr().out
    assert "Status: Delivered after 1 attempt(s)" in out
    assert "HTTP status: 200" in out


def test_send_event_exits_non_zero_and_explains_a_rejected_event(demo, capsys):
    # The event token exists in s2sadmin but the emulated Adjust has never heard of it.
    from events.models import App, EventToken

    EventToken.objects.create(app=App.objects.get(name="Demo Adjust iOS"), name="Typo", token="zzzzzz")
    with worker_process(), pytest.raises(CommandError, match="failed"):
        call_command(
            "send_event",
            "Demo Adjust iOS",
            "zzzzzz",
            "--device",
            f"idfa={IDFA}",
            "--wait",
            "--timeout",
            "30",
        )
    out = capsys.readouterr().out
    assert "HTTP status: 400" in out
    assert "MMP answer: Invalid event token" in out
    assert "What it means:" in out


def test_a_tenjin_event_is_delivered_with_basic_auth(demo):
    call_command(
        "send_event", "Demo Tenjin Android", "level_up",
        "--device", "advertising_id=f024e65f-3dd9-4f16-9837-26bcef192d68",
        "--device", "analytics_installation_id=29eeb161-0fe7-4997-b6d5-3f02e9711f8c",
        "--set", "os_version=33", "--set", "value=50",
    )  # fmt: skip
    run_worker()
    delivery = Delivery.objects.get()
    assert delivery.status == Status.DELIVERED, delivery.last_explanation
    attempt = delivery.attempts.get()
    assert attempt.url.endswith("/emulator/tenjin/v0/event")
    assert attempt.request_headers["Authorization"].startswith("Basic ••••")
    sent = dict(parse_qsl(attempt.request_body))
    assert (sent["event"], sent["sdk_version"], sent["value"]) == ("level_up", "server", "50")


def test_a_retry_is_scheduled_by_rq_and_sent_by_a_worker_with_the_scheduler(demo, settings):
    settings.SEND_BACKOFF = [1]
    demo.script_faults(["500", "pass"])
    call_command("send_event", "Demo Adjust iOS", "f0ob4r", "--device", f"idfa={IDFA}")
    with worker_process():
        deadline = time.monotonic() + 30
        delivery = Delivery.objects.get()
        while delivery.status != Status.DELIVERED and time.monotonic() < deadline:
            time.sleep(0.2)
            delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    first, second = delivery.attempts.order_by("number")
    assert (first.response_status, first.outcome) == (500, "retry")
    assert (second.response_status, second.outcome) == (200, "delivered")
    assert (second.started_at - first.finished_at).total_seconds() >= 0.7


def test_seed_demo_refuses_to_run_without_the_emulator(settings):
    settings.EMULATOR_ENABLED = False
    with pytest.raises(CommandError, match="EMULATOR_ENABLED"):
        call_command("seed_demo")


def test_seed_demo_can_run_twice(demo):
    call_command("seed_demo")
    from events.models import App

    assert sorted(App.objects.values_list("name", flat=True)) == [
        "Demo Adjust iOS",
        "Demo AppsFlyer iOS",
        "Demo Singular Android",
        "Demo Tenjin Android",
    ]


def test_seed_demo_creates_only_what_is_missing_and_audits_it(demo):
    from events.models import App, AuditEntry

    created = sorted(AuditEntry.objects.values_list("action", "actor_name"))
    assert ("app.created", "") in created and ("security_token.added", "") in created
    assert len(created) == 4 + 1 + 9  # four apps, one security token, nine event tokens
    app = App.objects.get(name="Demo Adjust iOS")
    App.objects.filter(pk=app.pk).update(bundle_id="com.example.edited", default_environment="production")
    app.security_tokens.update(active=False)
    app.event_tokens.get(token="2y7e81").delete()
    call_command("seed_demo")
    app.refresh_from_db()
    assert (app.bundle_id, app.default_environment) == ("com.example.edited", "production")
    assert not app.security_tokens.filter(active=True).exists()  # deactivated stays deactivated
    assert app.event_tokens.filter(token="2y7e81").exists()  # missing, so seeded again
    assert AuditEntry.objects.filter(action="event_token.created").count() == 10
