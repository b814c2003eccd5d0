"""Nothing lost: deliveries whose job is gone (Redis was down, restarted, or the worker died) are
found and sent again, once. A Redis server of the test's own is stopped and started for real, and a
real worker process is killed with SIGKILL mid-batch."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import rq
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from events import embedded_redis
from events.engine import enqueue_deliveries, liveness, reconciler, send_queue, workers
from events.models import Attempt, Delivery, Status
from tests.conftest import ADJUST_SECURITY_TOKEN, IDFA, queue_adjust_event, run_worker, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_redis(settings):
    """A redis-server of this test's own, which it may stop and start again."""
    socket_path = django_settings.RUN_DIR / f"rt-{uuid.uuid4().hex[:8]}.sock"
    server = embedded_redis.start(socket_path)
    url = embedded_redis.url_for(socket_path)
    settings.RQ_QUEUES = {name: {**queue, "URL": url} for name, queue in settings.RQ_QUEUES.items()}
    control = {"server": server, "path": socket_path, "url": url}

    def stop():
        embedded_redis.stop(control["server"])

    def start():
        control["server"] = embedded_redis.start(socket_path)

    control.update(stop=stop, start=start)
    yield control
    embedded_redis.stop(control["server"])


@pytest.fixture
def adjust(emulator, adjust_app, adjust_security_token, settings):
    emulator.register_adjust_app(
        adjust_app.app_key, event_tokens=["f0ob4r"], security_tokens=[ADJUST_SECURITY_TOKEN]
    )
    settings.RECONCILE_GRACE = 0
    return adjust_app


def queue_event(app, idfa: str = IDFA) -> Delivery:
    return queue_adjust_event(app, idfa=idfa)


def idfa(n: int) -> str:
    return f"{n:08X}-0000-4000-8000-000000000000"


def test_a_delivery_made_while_redis_is_down_is_saved_as_queued_and_sent_once_redis_is_back(
    adjust, own_redis, emulator, capsys
):
    own_redis["stop"]()
    call_command("send_event", adjust.name, "f0ob4r", "--device", f"idfa={IDFA}")
    output = capsys.readouterr()
    assert "Queued delivery" in output.out
    assert "saved as queued and goes out once Redis" in output.err
    delivery = Delivery.objects.get()
    assert delivery.status == Status.QUEUED

    own_redis["start"]()
    assert send_queue().count == 0
    run_worker()  # its maintenance runs the reconciler first
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert len(emulator.recorded_events()) == 1


def test_jobs_lost_with_a_redis_restart_are_enqueued_again(adjust, own_redis, emulator):
    deliveries = [queue_event(adjust, idfa(n)) for n in range(3)]
    assert send_queue().count == 3
    own_redis["stop"]()
    own_redis["start"]()
    assert send_queue().count == 0
    run_worker()
    assert {d.status for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])} == {
        Status.DELIVERED
    }
    assert len(emulator.recorded_events()) == 3


def test_a_retry_whose_scheduled_job_was_lost_is_sent_when_overdue(adjust, own_redis, emulator, settings):
    settings.SEND_BACKOFF = [1]
    emulator.script_faults(["500"])
    delivery = queue_event(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    own_redis["stop"]()
    own_redis["start"]()
    time.sleep(1.2)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempt_count == 2


def test_a_delivery_with_its_job_still_waiting_is_not_enqueued_twice(adjust, redis_conn):
    queue_event(adjust)
    assert reconciler.reconcile().requeued == 0
    assert send_queue().count == 1


def test_a_retry_scheduled_in_redis_and_not_yet_overdue_is_left_to_the_scheduler(adjust, emulator, settings):
    settings.SEND_BACKOFF = [600]
    emulator.script_faults(["429"])
    delivery = queue_event(adjust)
    run_worker()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=5))
    settings.RECONCILE_GRACE = 30
    assert reconciler.reconcile().requeued == 0


def test_a_claim_older_than_a_send_job_may_run_is_given_back(adjust, emulator):
    delivery = queue_event(adjust)
    send_queue().empty()
    long_ago = timezone.now() - timedelta(hours=2)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, claimed_at=long_ago, claim_token="lost", attempt_count=1
    )
    report = reconciler.reconcile()
    assert (report.released, report.requeued) == (1, 1)
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.ambiguous) == (Status.DELIVERED, 1, False)


def test_a_claim_of_a_live_worker_is_left_alone(adjust, redis_conn):
    delivery = queue_event(adjust)
    worker = workers.SendWorker(["sends"], connection=redis_conn)
    worker.register_birth()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING,
        claimed_at=timezone.now(),
        claim_token="t",
        claimed_by=worker.name,
        attempt_count=1,
    )
    assert reconciler.reconcile().released == 0
    worker.register_death()


def test_right_after_redis_restarted_a_missing_registration_is_not_taken_for_a_dead_worker(adjust, own_redis):
    delivery = queue_event(adjust)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, claimed_at=timezone.now(), claim_token="t", claimed_by="not-registered-yet"
    )
    assert reconciler.redis_uptime(send_queue().connection) < liveness.liveness_ttl()
    assert reconciler.reconcile().released == 0


def start_worker_process() -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(django_settings.BASE_DIR / "manage.py"),
            "rqworker",
            "sends",
            "--with-scheduler",
        ],
        env=subprocess_env(
            HTTP_CONNECT_TIMEOUT="0.3", HTTP_READ_TIMEOUT="2.5", WORKER_LIVENESS_TTL="1", WORKER_TTL="16"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(condition, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_batch_claimed_by_a_worker_killed_mid_send_is_sent_again_and_the_open_attempt_marked_ambiguous(
    adjust, emulator, redis_conn, settings
):
    settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT = 0.3, 3.5
    settings.WORKER_LIVENESS_TTL, settings.WORKER_TTL = 1, 16  # as the worker process: liveness is 9 s
    emulator.set_faults(latency_ms=3000)  # the emulator records, then answers 3 s later
    with transaction.atomic():  # one transaction: one job for the three
        batch = [queue_event(adjust, idfa(n)) for n in range(3)]
    worker = start_worker_process()
    try:
        wait_for(lambda: Attempt.objects.filter(finished_at=None).exists(), what="an attempt to start")
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(10)
    # The three went out together (one worker keeps many sends in flight): all three are open.
    in_flight = list(Attempt.objects.filter(finished_at=None))
    claimed = Delivery.objects.filter(pk__in=[d.pk for d in batch], status=Status.SENDING)
    assert {a.delivery_id for a in in_flight} == {d.pk for d in batch} == {d.pk for d in claimed}
    worker_name = in_flight[0].delivery.claimed_by
    assert worker_name and {d.claimed_by for d in claimed} == {worker_name}
    assert reconciler.reconcile().released == 0, "its registration has not expired yet"

    emulator.set_faults(latency_ms=0)
    wait_for(lambda: not liveness.is_alive(redis_conn, worker_name), what="the registration to expire")
    wait_for(lambda: reconciler.redis_uptime(redis_conn) > liveness.liveness_ttl(), what="Redis uptime")
    assert reconciler.reconcile().released == 3
    run_worker()

    for lost in Delivery.objects.filter(pk__in=[d.pk for d in batch]):
        assert (lost.status, lost.ambiguous, lost.attempt_count) == (Status.DELIVERED, True, 2)
        first = lost.attempts.get(number=1)
        assert (first.outcome, first.ambiguous) == ("retry", True)
        assert "worker stopped during the attempt" in first.error
    assert len(emulator.recorded_events()) == 6  # the killed attempts had been recorded: three duplicates


def test_the_reconciler_runs_from_worker_maintenance_at_most_once_per_interval(adjust, redis_conn, caplog):
    delivery = queue_event(adjust)
    send_queue().empty()
    first = workers.SendWorker(["sends"], connection=redis_conn)
    second = workers.SendWorker(["sends"], connection=redis_conn)
    for worker in (first, second):
        worker.register_birth()
        worker.run_maintenance_tasks()
        worker.register_death()
    sends = [job for job in send_queue().jobs if job.func_name == "events.engine.jobs.send_deliveries"]
    assert len(sends) == 1, "enqueued once, by the first worker's maintenance"
    assert redis_conn.ttl(liveness.RECONCILE_LOCK) > 0
    assert delivery.pk in reconciler.ids_with_jobs(send_queue(), timezone.now())


def test_a_send_worker_keeps_its_registration_short_even_during_a_long_job(redis_conn):
    worker = workers.SendWorker(["sends"], connection=redis_conn, worker_ttl=420)
    worker.register_birth()
    worker.heartbeat(3600)
    assert 0 < redis_conn.ttl(worker.key) <= liveness.liveness_ttl()
    assert worker.worker_ttl == django_settings.WORKER_TTL
    worker.register_death()


def test_a_worker_registers_again_when_redis_lost_its_registration(redis_conn):
    worker = workers.SendWorker(["sends"], connection=redis_conn)
    worker.register_birth()
    redis_conn.flushdb()
    worker._last_beat = 0
    worker.beat()
    assert liveness.is_alive(redis_conn, worker.name)
    assert worker.name in {w.name for w in rq.Worker.all(connection=redis_conn)}
    worker.register_death()


def test_a_retry_past_the_maximum_age_is_dead_without_being_sent(adjust, emulator, settings):
    settings.SEND_MAX_AGE = 3600
    delivery = queue_event(adjust)
    send_queue().empty()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.RETRYING,
        attempt_count=1,
        next_attempt_at=timezone.now(),
        created_at=timezone.now() - timedelta(hours=2),
    )
    enqueue_deliveries([delivery.pk])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DEAD
    assert "SEND_MAX_AGE" in delivery.last_explanation
    assert emulator.recorded_events().count() == 0


def test_a_send_job_that_stops_mid_batch_gives_back_what_it_had_not_started(
    adjust, emulator, monkeypatch, settings
):
    from events.engine import jobs

    settings.SEND_MAX_IN_FLIGHT_PER_HOST = 1  # one in flight at a time, the others waiting their turn
    emulator.set_faults(latency_ms=300)  # the first answer comes once its batch is due for recording
    with transaction.atomic():
        batch = [queue_event(adjust, idfa(n)) for n in range(3)]

    def time_is_up(answered, *more):
        raise TimeoutError("the job's time is up")  # as RQ's timeout would, mid-batch

    monkeypatch.setattr(jobs, "record", time_is_up)
    with pytest.raises(TimeoutError):
        jobs.send_deliveries([d.pk for d in batch])
    statuses = [Delivery.objects.get(pk=d.pk).status for d in batch]
    # The first went out and its answer was not recorded: the reconciler completes it (ambiguous).
    # The two that never went out are back in the queue, their unsent attempt rows gone.
    assert statuses == [Status.SENDING, Status.QUEUED, Status.QUEUED]
    assert list(Attempt.objects.values_list("delivery_id", "finished_at")) == [(batch[0].pk, None)]
    assert len(emulator.recorded_events()) == 1


def test_an_answer_that_comes_after_the_reconciler_took_the_claim_back_does_not_overwrite_it(
    adjust, emulator
):
    from events.engine import attempts, claims, jobs

    delivery = queue_event(adjust)
    send_queue().empty()
    (claimed,) = claims.claim("run-1", "gone-worker", ids=[delivery.pk], limit=1)
    (prepared,) = attempts.prepare([claimed], {})
    finished = jobs.send(prepared)  # delivered by the emulator, not yet recorded
    # Meanwhile the worker looked dead for long enough: the reconciler gives the claim back.
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now() - timedelta(hours=2))
    assert reconciler.reconcile().released == 1
    given_back = Delivery.objects.get(pk=delivery.pk)

    recorded = attempts.record([finished])

    assert recorded.statuses == {delivery.pk: "lost_claim"}
    row = Delivery.objects.get(pk=delivery.pk)
    assert (row.status, row.claim_token, row.ambiguous) == (given_back.status, given_back.claim_token, True)
    attempt = Attempt.objects.get(pk=prepared.attempt.pk)
    assert attempt.response_status == 200
    assert "had lost its claim" in attempt.explanation
