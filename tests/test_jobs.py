"""What the send job does with each kind of answer, against the emulator over a real socket and a
real RQ worker: retries, permanent failures, ambiguous answers, and never sending twice."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from events.engine import create_delivery, enqueue_deliveries, jobs, send_queue
from events.models import Delivery, Source, Status
from tests.conftest import (
    IDFA,
    TENJIN_ADVERTISING_ID,
    TENJIN_INSTALLATION_ID,
    run_worker,
)

pytestmark = pytest.mark.django_db(transaction=True)


def queue_adjust(app, token="f0ob4r", **extra) -> Delivery:
    fields = {"device_ids": {"idfa": IDFA}, **extra}
    delivery, _ = create_delivery(app, app.event_tokens.get(token=token), fields, source=Source.CLI)
    return delivery


def queue_tenjin(app) -> Delivery:
    fields = {
        "device_ids": {
            "advertising_id": TENJIN_ADVERTISING_ID,
            "analytics_installation_id": TENJIN_INSTALLATION_ID,
        },
        "os_version": "33",
    }
    delivery, _ = create_delivery(app, app.event_tokens.get(token="level_up"), fields, source=Source.CLI)
    return delivery


def outcomes(delivery: Delivery) -> list[tuple[int | None, str]]:
    return [(a.response_status, a.outcome) for a in delivery.attempts.order_by("number")]


def test_a_500_then_a_200_makes_two_attempts_and_delivers(emulator, adjust):
    emulator.script_faults(["500", "pass"])
    delivery = queue_adjust(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert outcomes(delivery) == [(500, "retry"), (200, "delivered")]
    assert delivery.attempt_count == 2
    first = delivery.attempts.get(number=1)
    assert first.mmp_message == "Internal error, contact support@adjust.com"
    assert first.ambiguous is True


def test_an_adjust_5xx_marks_the_delivery_ambiguous(emulator, adjust):
    # "500 after recording": Adjust kept the event, the retry records it a second time.
    emulator.script_faults(["500_after_record", "pass"])
    delivery = queue_adjust(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.ambiguous is True
    assert len(emulator.recorded_events()) == 2


def test_with_ambiguous_retries_off_an_adjust_5xx_fails_at_once(emulator, adjust, settings):
    settings.SEND_RETRY_AMBIGUOUS = False
    emulator.script_faults(["500_after_record"])
    delivery = queue_adjust(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.ambiguous is True
    assert "SEND_RETRY_AMBIGUOUS is off" in delivery.last_explanation
    assert len(emulator.recorded_events()) == 1


def test_an_unknown_event_token_fails_after_one_attempt_with_an_explanation(emulator, adjust):
    delivery = queue_adjust(adjust, token="2y7e81")
    emulator_forgets_token("2y7e81")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert outcomes(delivery) == [(400, "permanent")]
    assert delivery.last_message == "Invalid event token"
    assert delivery.last_explanation
    assert delivery.finished_at is not None


def emulator_forgets_token(token: str) -> None:
    from events.emulator.models import EmuAdjustEventToken

    EmuAdjustEventToken.objects.filter(token=token).delete()


def test_a_tenjin_202_is_a_failure_not_a_success(emulator, tenjin):
    emulator.set_tenjin_key_enabled(tenjin.app_key, False)  # Tenjin answers 202 "not logged" for it
    delivery = queue_tenjin(tenjin)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert outcomes(delivery) == [(202, "permanent")]
    assert "not logged" in delivery.last_message


def test_a_tenjin_event_is_delivered(emulator, tenjin):
    delivery = queue_tenjin(tenjin)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED, delivery.last_explanation
    assert delivery.ambiguous is False


def test_a_tenjin_5xx_is_retried_without_being_marked_ambiguous(emulator, tenjin):
    emulator.script_faults(["500", "pass"])
    delivery = queue_tenjin(tenjin)
    run_worker()
    delivery.refresh_from_db()
    assert outcomes(delivery) == [(500, "retry"), (200, "delivered")]
    assert delivery.ambiguous is False


def test_it_gives_up_after_the_last_backoff_step_and_marks_the_delivery_dead(emulator, adjust, settings):
    settings.SEND_BACKOFF = [0, 0]
    emulator.script_faults(["500", "500", "500", "pass"])
    delivery = queue_adjust(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DEAD
    assert delivery.attempt_count == 3
    assert "Gave up after 3 attempts" in delivery.last_explanation


def test_a_429_waits_at_least_as_long_as_retry_after_says(emulator, adjust, redis_conn):
    emulator.set_faults(retry_after_seconds=120)
    emulator.script_faults(["429"])
    delivery = queue_adjust(adjust)
    before = timezone.now()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    assert outcomes(delivery) == [(429, "retry")]
    assert delivery.next_attempt_at >= before + timedelta(seconds=119)
    scheduled = ScheduledJobRegistry(queue=send_queue())
    assert len(scheduled.get_job_ids()) == 1


def test_a_retry_is_scheduled_with_rqs_scheduler_on_the_backoff(emulator, adjust, settings):
    settings.SEND_BACKOFF = [60]
    settings.SEND_BACKOFF_JITTER = 0.2
    emulator.script_faults(["500"])
    delivery = queue_adjust(adjust)
    before = timezone.now()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    assert before + timedelta(seconds=47) <= delivery.next_attempt_at <= before + timedelta(seconds=73)
    registry = ScheduledJobRegistry(queue=send_queue())
    (job_id,) = registry.get_job_ids()
    due = registry.get_scheduled_time(job_id)
    assert abs((due - delivery.next_attempt_at).total_seconds()) < 2


def test_a_read_timeout_is_retried_and_marked_ambiguous(emulator, adjust, settings):
    settings.HTTP_READ_TIMEOUT = 0.5
    emulator.set_faults(timeout_seconds=2)
    emulator.script_faults(["timeout", "pass"])
    delivery = queue_adjust(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    first = delivery.attempts.get(number=1)
    assert first.response_status is None
    assert "no answer within 0.5 s" in first.error
    assert first.ambiguous is True
    assert delivery.ambiguous is True


def test_a_refused_connection_is_retried_and_not_ambiguous(emulator, adjust, settings):
    from tests.local_server import free_port

    settings.ADJUST_BASE_URL = f"http://127.0.0.1:{free_port()}/emulator/adjust"
    delivery = queue_adjust(adjust)
    settings.SEND_BACKOFF = [300]
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    attempt = delivery.attempts.get()
    assert "refused the connection" in attempt.error
    assert attempt.ambiguous is False


def test_the_same_delivery_enqueued_twice_is_sent_once(emulator, adjust):
    delivery = queue_adjust(adjust)
    enqueue_deliveries([delivery.pk])
    enqueue_deliveries([delivery.pk])
    assert send_queue().count == 3
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts.count() == 1
    assert len(emulator.recorded_events()) == 1


def test_two_jobs_racing_for_one_delivery_send_it_once(emulator, adjust):
    delivery = queue_adjust(adjust)
    results = []
    barrier = threading.Barrier(4)

    def racer():
        barrier.wait()
        try:
            results.append(jobs.send_one(delivery.pk))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(emulator.recorded_events()) == 1


def test_a_deleted_delivery_is_skipped(emulator, adjust):
    delivery = queue_adjust(adjust)
    Delivery.objects.filter(pk=delivery.pk).delete()
    assert jobs.send_deliveries([delivery.pk]) == {"skipped": 1}


def test_one_job_sends_a_batch_of_deliveries(emulator, adjust, settings):
    settings.SEND_BATCH_SIZE = 10
    now = int(timezone.now().timestamp())
    deliveries = [queue_adjust(adjust, created_at=str(now - 10 + i)) for i in range(3)]
    # create_delivery enqueued one job each; send them all as one batch instead.
    send_queue().empty()
    enqueue_deliveries([d.pk for d in deliveries])
    assert send_queue().count == 1
    run_worker()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_a_deactivated_app_sends_nothing(emulator, adjust):
    delivery = queue_adjust(adjust)
    adjust.active = False
    adjust.save()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempts.count() == 0
    assert "deactivated" in delivery.last_explanation
    assert len(emulator.recorded_events()) == 0


def test_sending_stamps_the_security_tokens_last_use(emulator, adjust, adjust_security_token):
    assert adjust_security_token.last_used_at is None
    queue_adjust(adjust)
    run_worker()
    adjust_security_token.refresh_from_db()
    assert adjust_security_token.last_used_at is not None


def test_a_secret_that_cannot_be_decrypted_sends_nothing_and_waits_for_a_fix(emulator, adjust, settings):
    from cryptography.fernet import Fernet

    delivery = queue_adjust(adjust)
    settings.SEND_BACKOFF = [300]
    settings.SECRETS_KEYS = [Fernet.generate_key().decode()]  # the key changed without re-encrypting
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    assert delivery.attempt_count == 0
    assert delivery.attempts.count() == 0
    assert "cannot be decrypted with SECRETS_KEY" in delivery.last_explanation
    assert len(emulator.recorded_events()) == 0


def test_a_resend_is_a_new_delivery_linked_to_the_original(emulator, adjust, marketer):
    from events.engine import resend_delivery

    original = queue_adjust(adjust)
    run_worker()
    again = resend_delivery(original, user=marketer)
    run_worker()
    again.refresh_from_db()
    original.refresh_from_db()
    assert again.status == Status.DELIVERED
    assert (again.resent_from, again.created_by, again.params) == (original, marketer, original.params)
    assert original.status == Status.DELIVERED
    assert len(emulator.recorded_events()) == 2


def test_a_resend_of_a_delivery_still_retrying_waits_behind_it(emulator, adjust, marketer):
    """Same device, same event token: the copy goes out after the original ends, never before it
    (Adjust would then refuse the original)."""
    from events.engine import resend_delivery

    emulator.script_faults(["429"])
    emulator.set_faults(retry_after_seconds=600)
    original = queue_adjust(adjust)
    run_worker()
    again = resend_delivery(original, user=marketer)
    run_worker()
    again.refresh_from_db()
    original.refresh_from_db()
    assert (original.status, again.status) == (Status.RETRYING, Status.QUEUED)
    assert len(emulator.recorded_events()) == 0
    # The original ends (here: its retry is brought forward and delivered); the copy goes next.
    Delivery.objects.filter(pk=original.pk).update(next_attempt_at=timezone.now())
    enqueue_deliveries([original.pk])
    run_worker()
    again.refresh_from_db()
    original.refresh_from_db()
    assert (original.status, again.status) == (Status.DELIVERED, Status.DELIVERED)
