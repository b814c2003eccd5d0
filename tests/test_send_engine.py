"""The send engine at an MMP's latency: many sends in flight per worker, limits per host and per
app, pauses, attempt rows written per batch, and each device's events in order across workers.
Real workers, real Redis, the emulator over a socket."""

import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.engine import create_delivery, enqueue_deliveries, jobs, limits, new_delivery, send_queue
from events.engine.jobs import send_deliveries
from events.models import Attempt, Delivery, EventToken, Source, Status
from events.providers import get_provider
from tests.conftest import run_worker, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def device(n: int) -> str:
    return f"D2CADB5F-410F-4963-AC0C-{n:012X}"


def queue_events(app, count: int, *, token: str = "f0ob4r") -> list[Delivery]:
    event_token = app.event_tokens.get(token=token)
    with transaction.atomic():  # one job for all of them
        return [
            create_delivery(app, event_token, {"device_ids": {"idfa": device(n)}}, source=Source.API)[0]
            for n in range(count)
        ]


def most_at_once(attempts) -> int:
    """The largest number of these attempts that were waiting for an answer at the same moment."""
    edges = sorted(
        [(a.started_at, 1) for a in attempts] + [(a.finished_at, -1) for a in attempts],
        key=lambda edge: (edge[0], edge[1]),
    )
    current = peak = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def test_one_worker_keeps_many_sends_in_flight(adjust, emulator, settings):
    settings.SEND_CONCURRENCY = 16
    emulator.set_faults(latency_ms=400)
    queue_events(adjust, 16)
    run_worker()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert most_at_once(Attempt.objects.all()) >= 12


def test_in_flight_to_one_host_stays_within_its_limit(adjust, emulator, settings):
    settings.SEND_MAX_IN_FLIGHT_PER_HOST = 2
    emulator.set_faults(latency_ms=150)
    queue_events(adjust, 8)
    run_worker()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert most_at_once(Attempt.objects.all()) <= 2


def test_an_apps_rate_holds_across_its_sends(adjust, emulator):
    adjust.max_events_per_second = 4
    adjust.save()
    queue_events(adjust, 12)
    run_worker()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    per_second = Counter(int(a.started_at.timestamp()) for a in Attempt.objects.all())
    assert max(per_second.values()) <= 4
    assert len(per_second) >= 3


def test_the_mmps_published_rate_applies_when_the_app_sets_none(adjust):
    assert limits.app_rate(adjust) is None  # Adjust publishes no rate
    adjust.max_events_per_second = 250
    assert limits.app_rate(adjust) == 250.0


def test_a_run_of_failures_pauses_the_host_and_the_rest_wait_without_spending_an_attempt(
    adjust, emulator, settings, redis_conn
):
    settings.SEND_CONCURRENCY = 1  # one after the other, so the pause meets the rest
    settings.SEND_BREAKER_FAILURES = 3
    settings.SEND_BREAKER_PAUSE = 120
    settings.SEND_BACKOFF = [300]
    emulator.script_faults(["500", "500", "500"])
    deliveries = queue_events(adjust, 6)
    send_deliveries([d.pk for d in deliveries])
    (pause,) = limits.paused_hosts()
    assert pause.host == "localhost"
    assert "3 failures in a row" in pause.reason
    assert timedelta(seconds=100) < pause.until - timezone.now() <= timedelta(seconds=120)
    rows = Delivery.objects.order_by("pk")
    assert [d.attempt_count for d in rows] == [1, 1, 1, 0, 0, 0]
    assert {d.status for d in rows} == {Status.RETRYING}
    waiting = rows[5]
    assert "Sends to this MMP are paused until" in waiting.last_explanation
    assert "3 failures in a row" in waiting.last_explanation
    assert abs((waiting.next_attempt_at - pause.until).total_seconds()) < 1
    assert Attempt.objects.count() == 3


def test_a_429_slows_the_host_down_and_answers_worth_keeping_speed_it_up_again(adjust):
    from events.models import Outcome
    from events.providers import Verdict

    run_limits = limits.Limits()
    run_limits.per_host = 8
    slow_down = Verdict(Outcome.RETRY, "Too many requests", "", retry_after=1)
    run_limits.note("s2s.adjust.com", slow_down, 429)
    run_limits.note("s2s.adjust.com", slow_down, 429)
    assert run_limits.allowance["s2s.adjust.com"] == 2
    run_limits.note("s2s.adjust.com", Verdict(Outcome.DELIVERED, "OK", ""), 200)
    assert run_limits.allowance["s2s.adjust.com"] == 3


def test_attempt_rows_are_written_per_batch(adjust, emulator, settings, monkeypatch):
    settings.SEND_CONCURRENCY = 20
    # One recording window longer than the whole run: how many windows the answers fall into
    # depends on the machine's load, and this test is about writes per window.
    monkeypatch.setattr(jobs, "RECORD_EVERY_SECONDS", 5.0)
    emulator.set_faults(latency_ms=300)
    deliveries = queue_events(adjust, 20)
    send_queue().empty()
    with CaptureQueriesContext(connection) as queries:
        send_deliveries([d.pk for d in deliveries])
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    sql = [q["sql"] for q in queries.captured_queries]
    attempt_inserts = [s for s in sql if s.startswith('INSERT INTO "events_attempt"')]
    attempt_updates = [s for s in sql if s.startswith('UPDATE "events_attempt"')]
    assert len(attempt_inserts) == 1
    # Completed in one statement for the window's answers, not one by one.
    assert len(attempt_updates) == 1


# --- Each device's events in order, across workers --------------------------------------------


def start_workers(count: int) -> list[subprocess.Popen]:
    env = subprocess_env(SEND_MAX_ATTEMPTS="12", SEND_CONCURRENCY="16", SEND_RUN_SECONDS="5")
    return [
        subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "rqworker", "sends", "--with-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def test_each_devices_events_reach_adjust_in_time_order_across_four_busy_workers(adjust, emulator):
    """10,000 events over 100 devices and 3 event tokens, created and enqueued in shuffled batches,
    with 10% transient faults: every one is delivered, none is refused for its order by s2sadmin
    or by the emulated Adjust, and the emulator receives each key's events in time order."""
    EventToken.objects.create(app=adjust, name="Level", token="l3v3l1")
    emulator.register_adjust_app(adjust.app_key, event_tokens=["f0ob4r", "2y7e81", "l3v3l1"])
    emulator.set_faults(error_500=0.05, error_429=0.03, dropped=0.02, retry_after_seconds=1)
    tokens = list(adjust.event_tokens.all())
    start = timezone.now() - timedelta(days=1)
    events = [
        (device(n % 100), tokens[n % 3], start + timedelta(seconds=n)) for n in range(10_000)
    ]  # about 33 events per (device, event token), one second apart
    random.Random(8).shuffle(events)
    provider = get_provider(adjust)
    rows = []
    for idfa, token, when in events:
        fields = {"device_ids": {"idfa": idfa}, "created_at": str(int(when.timestamp()))}
        rows.append(new_delivery(adjust, token, provider.validate(adjust, token, fields), source=Source.API))
    Delivery.objects.bulk_create(rows, batch_size=1000)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    random.Random(9).shuffle(ids)
    workers = start_workers(4)
    try:
        enqueue_deliveries(ids)
        deadline = time.monotonic() + 600
        while Delivery.objects.exclude(status__in=(Status.DELIVERED, Status.FAILED, Status.DEAD)).exists():
            assert time.monotonic() < deadline, Counter(Delivery.objects.values_list("status", flat=True))
            time.sleep(1)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(20)

    assert Counter(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED: 10_000}
    assert not Delivery.objects.filter(last_explanation__contains="Adjust would reject").exists()
    received = defaultdict(list)
    for event in emulator.recorded_events(provider="adjust"):
        received[(event.device_ids.get("idfa"), event.event_token)].append(event.event_at)
    assert len(received) == 300
    assert sum(len(times) for times in received.values()) == 10_000
    for key, times in received.items():
        assert times == sorted(times), f"{key} reached the emulator out of order"


def test_the_overview_shows_a_paused_host_why_and_until_when(client_for, admin, redis_conn):
    import json

    until = timezone.now() + timedelta(minutes=2)
    redis_conn.set(
        limits.PAUSE_KEY + "s2s.adjust.com",
        json.dumps({"host": "s2s.adjust.com", "until": until.timestamp(), "reason": "20 failures in a row."}),
    )
    page = client_for(admin).get("/").content.decode()
    assert "Sends to <strong>s2s.adjust.com</strong> are paused until" in page
    assert f"{until:%Y-%m-%d %H:%M:%S} UTC</time>: 20 failures in a row." in page
