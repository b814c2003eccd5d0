"""Proof over HTTP, on the settings the tests share with production (DEBUG off): odd values sent
to the API over a live server, generated past the schema's types (booleans, floats, huge integers,
Unicode digits, lone surrogates, invisible characters), always get a JSON answer, never a 500; the
valid events of a batch are queued and nothing is queued or saved for what was refused; nothing is
accepted as something else. The dashboard's test form answers odd values with its styled page.
"""

import json
import re

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.api.keys import create_api_key
from events.engine import send_queue
from events.models import Delivery
from tests.api_fixtures import adjust_event, tenjin_event
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "HUGE_NUMBER"  # replaced by a 5,000-digit JSON number literal (json.dumps cannot write one)
ASCII_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

odd_text = st.text(
    alphabet=st.characters(categories=["Nd", "No", "Cs", "Cf", "Zs", "Lu", "Po"]), min_size=1, max_size=12
)
odd_value = st.one_of(
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.just(HUGE),
    odd_text,
    st.sampled_from(["²", "٤.٩٩", "١٧٦٤٤٦٠٠٠٠", "\udc80", "1e3", "4.99", "EUR", "10.0.0.1", "s2s:bulk-1-2"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(odd_text, odd_text, max_size=2),
)
FIELDS = ["id", "app", "revenue", "currency", "created_at", "ip_address", "user_agent", "environment"]
odd_event = st.fixed_dictionaries(
    {},
    optional={
        **{name: odd_value for name in FIELDS},
        "callback_params": st.one_of(odd_value, st.dictionaries(odd_text, odd_value, max_size=3)),
        "device_ids": st.one_of(odd_value, st.dictionaries(st.sampled_from(["idfa", "gps_adid"]), odd_value)),
    },
)


@pytest.fixture
def live_api(live_server, adjust_app, tenjin_app, redis_conn):
    _, raw = create_api_key("hypothesis", [adjust_app, tenjin_app], rate_limit_per_minute=100_000)
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {raw}", "Content-Type": "application/json"})

    def post(body: dict) -> requests.Response:
        data = json.dumps(body).replace(f'"{HUGE}"', "1" * 5000)
        return session.post(f"{live_server.url}/api/v1/events", data=data.encode(), timeout=30)

    yield post
    session.close()


def queued_ids() -> set[int]:
    return {delivery_id for job in send_queue().get_jobs() for delivery_id in job.args[0]}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(odd=odd_event, which=st.sampled_from(["adjust", "tenjin"]))
def _odd_batches(post, odd, which):
    base = adjust_event() if which == "adjust" else tenjin_event()
    before = set(Delivery.objects.values_list("pk", flat=True))
    response = post({"events": [adjust_event(), {**base, **odd}, tenjin_event()]})
    assert response.status_code in (202, 400), response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    new = Delivery.objects.exclude(pk__in=before)
    if response.status_code == 400:
        assert body["error"] and body["details"]
        assert not new.exists()
        return
    accepted = {r["delivery_id"] for r in body["results"] if r["status"] == "accepted"}
    assert body["results"][0]["status"] == body["results"][2]["status"] == "accepted"
    assert set(new.values_list("pk", flat=True)) == accepted
    assert accepted <= queued_ids()
    rejected = [r for r in body["results"] if r["status"] == "rejected"]
    assert all(r["errors"] and all(r["errors"].values()) for r in rejected)
    for params in new.values_list("params", flat=True):  # nothing accepted as something else
        for name in ("revenue", "created_at_unix", "value", "price", "quantity"):
            assert name not in params or ASCII_NUMBER.fullmatch(params[name]), params
        assert all(ord(c) < 0xD800 or ord(c) > 0xDFFF for c in json.dumps(params, ensure_ascii=False))


def test_odd_values_at_the_api_over_http_get_json_and_lose_nothing(live_api):
    _odd_batches(live_api)


ODD_FORM_VALUES = [
    {"created_at": "²"},
    {"revenue": "٤.٩٩", "currency": "EUR"},
    {"revenue": "9" * 5000, "currency": "EUR"},
    {"ip_address": "169.254.169.254"},
    {"callback_key_60": "k", "callback_value_60": "v"},
]


@pytest.mark.parametrize("odd", ODD_FORM_VALUES, ids=[next(iter(o)) for o in ODD_FORM_VALUES])
def test_the_test_form_over_http_answers_odd_values_with_its_page(
    live_server, adjust_app, marketer, redis_conn, odd
):
    with requests.Session() as browser:
        login = f"{live_server.url}/login/"
        browser.get(login, timeout=30)
        signed_in = browser.post(
            login,
            data={
                "username": marketer.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": login},
            timeout=30,
        )
        assert signed_in.status_code == 200 and signed_in.url != login
        token = adjust_app.event_tokens.get(token="f0ob4r")
        form = {
            "app": adjust_app.pk, "event_token": token.pk, "environment": "sandbox", "id_type_0": "idfa",
            "id_value_0": "D2CADB5F-410F-4963-AC0C-2A78534BDF1E", "action": "send",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"], **odd,
        }  # fmt: skip
        encoded = {k: str(v).encode("utf-8", "surrogatepass") for k, v in form.items()}
        response = browser.post(
            f"{live_server.url}/send/", data=encoded, headers={"Referer": login}, timeout=30
        )
    assert response.status_code == 200
    assert response.text.lstrip().lower().startswith("<!doctype html>")
    assert "Traceback" not in response.text and "Server Error" not in response.text
    assert 'class="error"' in response.text
    assert Delivery.objects.count() == 0 and send_queue().count == 0
