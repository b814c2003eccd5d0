"""Injected faults (500, 429, timeouts, 500 after recording, latency), concurrency, and the
wall between the emulator and the sender."""

import ast
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from events.emulator import faults, registry
from events.emulator.models import EmuAdjustDevice
from tests.emulator_fixtures import (
    ADJUST_APP,
    ADJUST_URL,
    ANDROID_KEY,
    TENJIN_EVENT_URL,
    UNIQUE_EVENT,
    adjust_params,
    emu_adjust,  # noqa: F401 - a fixture
    emu_tenjin,  # noqa: F401 - a fixture
    tenjin_params,
)

pytestmark = pytest.mark.usefixtures("emu_adjust", "emu_tenjin")


def adjust(client, **changes):
    return client.get(ADJUST_URL, adjust_params(**changes))


def tenjin(client):
    return client.get(TENJIN_EVENT_URL, tenjin_params(api_key=ANDROID_KEY))


def recorded() -> int:
    return registry.recorded_events().count()


# --- Scripted faults ----------------------------------------------------------------------


def test_a_scripted_500_answers_adjusts_internal_error_without_recording(client):
    registry.script_faults(["500"])
    response = adjust(client)
    assert response.status_code == 500
    assert response.json() == {"error": "Event request failed (Internal error, contact support@adjust.com)"}
    assert recorded() == 0


@pytest.mark.unconfirmed
def test_a_scripted_500_answers_tenjins_internal_error(client):
    registry.script_faults(["500"])
    response = tenjin(client)
    assert (response.status_code, response.json()) == (500, {"code": 500, "message": "internal error"})
    assert recorded() == 0


@pytest.mark.unconfirmed
def test_a_scripted_429_says_when_to_retry(client):
    registry.set_faults(script=["429"], retry_after_seconds=7)
    response = adjust(client)
    assert response.status_code == 429
    assert response.json() == {"error": "Event request failed (Too many requests)"}
    assert response["Retry-After"] == "7"
    assert recorded() == 0


@pytest.mark.unconfirmed
def test_a_scripted_429_answers_tenjins_too_many_requests(client):
    registry.script_faults(["429"])
    response = tenjin(client)
    assert (response.status_code, response.json()) == (429, {"code": 429, "message": "too many requests"})
    assert response["Retry-After"] == "1"


def test_500_after_record_records_the_event_so_a_retry_duplicates_it(client):
    registry.script_faults(["500_after_record"])
    assert adjust(client).status_code == 500
    assert adjust(client).status_code == 200
    first, second = registry.recorded_events("adjust")
    assert (first.fault, second.fault) == ("500_after_record", "")


def test_500_after_record_answers_500_even_when_the_checks_refuse(client):
    registry.script_faults(["500_after_record"])
    assert adjust(client, event_token="nosuch").status_code == 500
    assert recorded() == 0


def test_a_scripted_timeout_sleeps_then_answers_without_recording(client):
    registry.set_faults(script=["timeout"], timeout_seconds=0.2)
    started = time.monotonic()
    response = adjust(client)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    assert recorded() == 0


def test_a_timeout_leaves_the_device_state_untouched(client):
    registry.script_faults(["timeout", "pass"])
    registry.set_faults(timeout_seconds=0)
    assert adjust(client, event_token=UNIQUE_EVENT).status_code == 200
    assert adjust(client, event_token=UNIQUE_EVENT).status_code == 200
    assert recorded() == 1


def test_the_script_is_consumed_one_entry_per_request_in_order(client):
    registry.script_faults(["429", "pass", "500"])
    assert [adjust(client).status_code for _ in range(4)] == [429, 200, 500, 200]
    assert recorded() == 2


def test_the_script_comes_before_the_shares(client):
    registry.set_faults(error_500=1.0, script=["pass"])
    assert [adjust(client).status_code for _ in range(2)] == [200, 500]


def test_a_share_of_1_fails_every_request(client):
    registry.set_faults(error_429=1.0)
    assert {adjust(client).status_code for _ in range(5)} == {429}


def test_the_shares_split_requests_roughly_by_their_fraction():
    config = registry.set_faults(error_500=0.3, error_429=0.2)
    drawn = [faults.draw(config, "adjust") for _ in range(2000)]
    assert 450 < drawn.count("500") < 750
    assert 280 < drawn.count("429") < 520
    assert 800 < drawn.count("pass") < 1200


def test_latency_is_added_to_every_answer(client):
    registry.set_faults(latency_ms=150)
    started = time.monotonic()
    assert adjust(client, event_token="nosuch").status_code == 400
    assert time.monotonic() - started >= 0.15


def test_faults_scoped_to_tenjin_leave_adjust_alone(client):
    registry.script_faults(["500"], provider="tenjin")
    assert adjust(client).status_code == 200
    assert tenjin(client).status_code == 500


def test_script_faults_keeps_the_other_settings_and_the_scope(client):
    registry.set_faults(retry_after_seconds=120, provider="adjust")
    registry.script_faults(["429", "429"])
    assert tenjin(client).status_code == 200
    assert adjust(client)["Retry-After"] == "120"


def test_clear_faults_removes_the_script_and_the_shares(client):
    registry.set_faults(error_500=1.0, latency_ms=500, script=["429"])
    registry.clear_faults()
    assert adjust(client).status_code == 200


def test_set_faults_refuses_shares_that_add_up_to_more_than_1():
    with pytest.raises(ValueError, match="add up"):
        registry.set_faults(error_500=0.6, timeout=0.6)


def test_set_faults_refuses_unknown_script_entries():
    with pytest.raises(ValueError, match="Unknown script entries"):
        registry.script_faults(["503"])


def test_set_faults_refuses_unknown_settings():
    with pytest.raises(TypeError, match="error_503"):
        registry.set_faults(error_503=0.5)


def test_the_admin_shows_the_faults_and_the_recorded_events(admin_client, client):
    adjust(client, callback_params='{"a":"b"}')
    registry.set_faults(error_500=0.25)
    assert admin_client.get("/admin/emulator/emufaults/").status_code == 200
    assert admin_client.get("/admin/emulator/emurecordedevent/").status_code == 200
    event = registry.recorded_events().get()
    assert admin_client.get(f"/admin/emulator/emurecordedevent/{event.pk}/change/").status_code == 200


def test_the_admin_refuses_fault_shares_adding_up_to_more_than_1(admin_client):
    form = {"error_500": "0.7", "error_429": "0.7", "timeout": "0", "error_500_after_record": "0"}
    form |= {"latency_ms": "0", "retry_after_seconds": "1", "timeout_seconds": "30", "script": "[]"}
    response = admin_client.post("/admin/emulator/emufaults/add/", {**form, "provider": ""})
    assert response.status_code == 200
    assert "add up to at most 1" in response.content.decode()


def test_reset_emulator_forgets_everything(client):
    adjust(client)
    registry.script_faults(["500"])
    registry.reset_emulator()
    assert recorded() == 0
    assert adjust(client).status_code == 404


# --- Over a real socket -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_scripted_timeout_makes_the_client_give_up_and_records_nothing(live_server):
    registry.set_faults(script=["timeout"], timeout_seconds=1.0)
    url = f"{live_server.url}{ADJUST_URL}?{urlencode(adjust_params())}"
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, timeout=0.3)
    time.sleep(1.0)  # let the server thread finish its sleep and its dry run
    assert recorded() == 0
    assert requests.get(url, timeout=5).status_code == 200
    assert recorded() == 1


@pytest.mark.django_db(transaction=True)
def test_a_500_then_pass_over_http(live_server):
    registry.script_faults(["500", "pass"])
    url = f"{live_server.url}{ADJUST_URL}"
    with requests.Session() as session:
        statuses = [session.post(url, data=adjust_params(), timeout=5).status_code for _ in range(2)]
    assert statuses == [500, 200]
    assert recorded() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_take_each_script_entry_once(live_server):
    registry.script_faults(["500"] * 5)
    url = f"{live_server.url}{ADJUST_URL}?{urlencode(adjust_params())}"
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=10).status_code, range(16)))
    assert sorted(statuses) == [200] * 11 + [500] * 5
    assert recorded() == 11


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_a_unique_event_are_accepted_once(live_server):
    url = f"{live_server.url}{ADJUST_URL}?{urlencode(adjust_params(event_token=UNIQUE_EVENT))}"
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=10).status_code, range(12)))
    assert sorted(statuses) == [200] + [400] * 11
    assert recorded() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_sightings_of_a_device_install_it_once(live_server):
    registry.register_adjust_app(ADJUST_APP, lenient_devices=True)
    params = adjust_params(idfa=None, gps_adid="38400000-8cf0-11bd-b23e-000000000042")
    url = f"{live_server.url}{ADJUST_URL}?{urlencode(params)}"
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=10).status_code, range(12)))
    assert statuses == [200] * 12
    assert EmuAdjustDevice.objects.filter(identifiers__kind="gps_adid").count() == 1


# --- The wall between the emulator and the sender ----------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# They configure both sides, so they are the only sender-side modules allowed to know the emulator.
CONFIGURES_BOTH = {
    "events/management/commands/seed_demo.py",
    "events/management/commands/demo.py",
    # The fault suite seeds the emulator and counts what it recorded, to find lost and duplicate events.
    "events/fault_suite.py",
}


def imported_modules(path: Path) -> set[str]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            modules.update(f"{base}.{alias.name}" for alias in node.names)
            modules.add(base)
    return modules


def is_emulator(module: str) -> bool:
    return module == "events.emulator" or module.startswith("events.emulator.")


def test_nothing_outside_the_emulator_imports_it_but_the_seed_and_demo_commands():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "events").rglob("*.py")
        if not path.is_relative_to(ROOT / "events" / "emulator")
        and str(path.relative_to(ROOT)) not in CONFIGURES_BOTH
        for module in imported_modules(path)
        if is_emulator(module)
    ]
    assert offenders == []


def test_the_emulator_imports_nothing_from_the_sender():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "events" / "emulator").rglob("*.py")
        for module in imported_modules(path)
        if (module == "events" or module.startswith("events.")) and not is_emulator(module)
    ]
    assert offenders == []
