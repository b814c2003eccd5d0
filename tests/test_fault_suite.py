"""The fault suite at CI size: 1,000 events through real worker processes, a real emulator server
and a real Redis, with 30% faulty answers, two SIGKILLs of the workers and a Redis restart.

About two minutes, so it runs when S2S_FAULT_SUITE=1 (CI sets it); select it alone with
`S2S_FAULT_SUITE=1 ./scripts/test tests/test_fault_suite.py -k suite`. `manage.py fault_suite`
runs 10,000. The emulator's dropped-connection fault, which the suite uses, is proven here too.
"""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from events.emulator.faults import Dropped
from events.models import Source, Status
from tests.conftest import database_url_for_subprocesses, queue_adjust_event, run_worker, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = int(os.environ.get("S2S_FAULT_SUITE_EVENTS", "1000"))


@pytest.mark.skipif(os.environ.get("S2S_FAULT_SUITE") != "1", reason="set S2S_FAULT_SUITE=1 to run it")
def test_the_fault_suite_loses_nothing_and_duplicates_only_ambiguous_deliveries():
    run = subprocess.run(
        [
            sys.executable, str(settings.BASE_DIR / "manage.py"), "fault_suite",
            "--events", str(EVENTS), "--database-url", database_url_for_subprocesses(), "--timeout", "270",
        ],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    print(run.stdout, run.stderr)
    table = dict(
        re.findall(r"^  (sent|delivered|failed|ambiguous|duplicates|lost)\s+(\d+)", run.stdout, re.M)
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (table["sent"], table["delivered"], table["failed"], table["lost"]) == (
        str(EVENTS),
        str(EVENTS),
        "0",
        "0",
    )
    # The counters of what happened (not the banner of what was planned).
    breakage = re.search(r"^==> Result \((\d+) worker kills, (\d+) Redis restart", run.stdout, re.M)
    assert breakage is not None and breakage.groups() == ("2", "1")
    assert run.stdout.rstrip().endswith("PASS")


@pytest.mark.parametrize(("fault", "recorded"), [("drop", 0), ("drop_after_record", 1)])
def test_a_dropped_connection_reaches_the_sender_as_one_and_is_retried_as_ambiguous(
    emulator, adjust_app, fault, recorded
):
    emulator.register_adjust_app(adjust_app.app_key, event_tokens=["f0ob4r"])
    emulator.script_faults([fault, "pass"])
    delivery = queue_adjust_event(adjust_app, source=Source.CLI)
    run_worker()
    delivery.refresh_from_db()
    dropped = delivery.attempts.get(number=1)
    assert (dropped.response_status, dropped.ambiguous) == (None, True)
    assert "was dropped before an answer came" in dropped.error
    assert (delivery.status, delivery.ambiguous) == (Status.DELIVERED, True)
    assert len(emulator.recorded_events()) == recorded + 1


def test_a_timeout_after_recording_is_retried_as_ambiguous_and_recorded_twice(emulator, adjust_app, settings):
    # A real MMP that answered too late: the sender gave up on an event it kept.
    settings.HTTP_READ_TIMEOUT = 0.3
    emulator.register_adjust_app(adjust_app.app_key, event_tokens=["f0ob4r"])
    emulator.set_faults(timeout_seconds=0.8)
    emulator.script_faults(["timeout_after_record", "pass"])
    delivery = queue_adjust_event(adjust_app, source=Source.CLI)
    run_worker()
    delivery.refresh_from_db()
    timed_out = delivery.attempts.get(number=1)
    assert (timed_out.response_status, timed_out.ambiguous) == (None, True)
    assert (delivery.status, delivery.ambiguous) == (Status.DELIVERED, True)
    assert len(emulator.recorded_events()) == 2  # the duplicate a blind retry makes, marked ambiguous


def test_without_a_socket_to_close_the_drop_surfaces_as_the_exception(emulator, client):
    emulator.script_faults(["drop"])
    with pytest.raises(Dropped):
        client.post("/emulator/adjust/event", {"s2s": "1"})
