"""The Singular S2S emulator over a real socket: HTTP 200 for every verdict, the reason in the body,
sessions before events, time order, and its faults (mmp-apis-more.md §1.2)."""

import pytest
import requests

from events.emulator import registry

KEY = "emu_singular_sdk_key_0001"
SDID = "40009df0-d618-4d81-9da1-cbb3337b8dec"
IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
BUNDLE = "com.example.singular"


@pytest.fixture
def base(live_server, db):
    registry.clear_faults()
    registry.register_singular_key(KEY)
    return f"{live_server.url}/emulator/singular/api"


def v2(**params) -> dict:
    return {
        "a": KEY,
        "p": "Android",
        "i": BUNDLE,
        "ip": "203.0.113.7",
        "sdid": SDID,
        "n": "level_up",
        **params,
    }


def post(url: str, params: dict):
    return requests.post(url, data={k: v for k, v in params.items() if v is not None}, timeout=10)


def said(response) -> tuple[int, dict]:
    return response.status_code, response.json()


def error(reason: str) -> tuple[int, dict]:
    return 200, {"status": "error", "reason": reason}


def recorded():
    return list(registry.recorded_events("singular"))


OK = (200, {"status": "ok"})


def test_a_v2_event_is_ok_and_recorded_with_the_key_masked(base):
    assert said(post(f"{base}/v2/evt", v2(amt="-1.99", cur="USD", umilisec="1735732800000"))) == OK
    [row] = recorded()
    assert (row.app_key, row.platform, row.event_token, row.currency) == (
        BUNDLE,
        "Android",
        "level_up",
        "USD",
    )
    assert row.device_ids == {"sdid": SDID}
    assert KEY not in row.request_body and "a=••••0001" in row.request_body
    assert row.event_at.isoformat() == "2025-01-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"a": None}, "missing argument: a"),
        ({"p": None}, "missing argument: p"),
        ({"p": "Blackberry"}, "invalid platform: Blackberry"),
        ({"i": None}, "missing argument: i"),
        ({"n": None}, "missing argument: n"),
        ({"ip": None}, "missing argument: ip"),
    ],
)
def test_refusals_are_http_200_with_the_reason_in_the_body(base, change, reason):
    assert said(post(f"{base}/v2/evt", v2(**change))) == error(reason)
    assert recorded() == []


@pytest.mark.unconfirmed
def test_an_unknown_sdk_key_is_invalid(base):
    assert said(post(f"{base}/v2/evt", v2(a="nope"))) == error("invalid sdk key")


@pytest.mark.unconfirmed
def test_an_ipv6_address_is_an_invalid_argument(base):
    assert said(post(f"{base}/v2/evt", v2(ip="2001:db8::1"))) == error("invalid argument: ip")


@pytest.mark.unconfirmed
def test_v2_without_sdid_is_a_missing_argument(base):
    assert said(post(f"{base}/v2/evt", v2(sdid=None))) == error("missing argument: sdid")


@pytest.mark.unconfirmed
def test_an_account_without_s2s_is_refused(base):
    registry.register_singular_key(KEY, s2s_enabled=False)
    assert said(post(f"{base}/v2/evt", v2()))[1]["reason"].startswith("invalid account")


def test_v1_without_any_device_id_says_so(base):
    assert said(post(f"{base}/v1/evt", v2(sdid=None))) == error("no device ID supplied")


def test_v1_ios_wants_its_idfv(base):
    params = v2(sdid=None, p="iOS", idfa=IDFA, att_authorization_status="0")
    assert said(post(f"{base}/v1/evt", params)) == error("platform: iOS should have an idfv param")
    assert said(post(f"{base}/v1/evt", {**params, "idfv": IDFA})) == OK


def test_v1_takes_a_get_with_a_query_too(base):
    response = requests.get(f"{base}/v1/evt", params=v2(sdid=None, aifa=SDID), timeout=10)
    assert said(response) == OK


def test_an_event_without_a_session_is_recorded_but_not_attributed(base):
    assert said(post(f"{base}/v2/evt", v2())) == OK
    assert recorded()[0].params["attribution"].startswith("none")


@pytest.mark.unconfirmed
def test_a_launch_first_makes_the_event_attributed(base):
    assert said(post(f"{base}/v2/launch", {**v2(n=None), "ve": "14"})) == OK
    assert said(post(f"{base}/v2/evt", v2())) == OK
    event = next(row for row in recorded() if row.kind == "event")
    assert "attribution" not in event.params


def test_a_launch_needs_the_os_version(base):
    assert said(post(f"{base}/v1/launch", v2(n=None, sdid=None, aifa=SDID))) == error("missing argument: ve")


def test_an_event_earlier_than_the_last_is_accepted_and_flagged(base):
    registry.add_singular_session(BUNDLE, "Android", SDID)
    assert said(post(f"{base}/v2/evt", v2(umilisec="1735732800000"))) == OK
    assert said(post(f"{base}/v2/evt", v2(umilisec="1735729200000"))) == OK
    first, second = recorded()
    assert "out_of_order" not in first.params and "out_of_order" in second.params


def test_faults_answer_other_statuses_which_mean_retry(base):
    registry.script_faults(["500", "429"], provider="singular")
    assert post(f"{base}/v2/evt", v2()).status_code == 500
    assert post(f"{base}/v2/evt", v2()).status_code == 429
    assert recorded() == []


def test_faults_scoped_to_another_mmp_leave_singular_alone(base):
    registry.script_faults(["500"], provider="appsflyer")
    assert said(post(f"{base}/v2/evt", v2())) == OK
