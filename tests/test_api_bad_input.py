"""One odd value at the API is that item's error, never the batch's; nothing is taken as something
else (a boolean as a number, a float as an id, a Unicode digit as 0-9, a repeated key); limits that
agree with the documented batch.

Each case posts a batch of the odd event between two good ones: the good ones are queued, the odd
one is refused on its own field with nothing saved or queued for it.
"""

import json

import pytest

from events.api.body import MAX_BODY_BYTES
from events.api.ingest import UNEXPECTED
from events.engine import send_queue
from events.models import Delivery
from tests.api_fixtures import *  # noqa: F403 (the fixtures api and raw_key)
from tests.api_fixtures import adjust_event, tenjin_event

pytestmark = pytest.mark.django_db

HUGE = "1" * 5000  # past Python's 4,300-digit limit on reading an integer

# (case, the odd event, the field its error must name, words the error must contain)
ITEM_CASES = [
    ("a superscript digit as the time", adjust_event(created_at="²"), "created_at", "unix seconds"),
    ("Arabic-Indic digits as unix seconds", adjust_event(created_at="١٧٦٤٤٦٠٠٠٠"), "created_at", "unix seconds"),
    ("Arabic-Indic digits as revenue", adjust_event(revenue="٤.٩٩", currency="EUR"), "revenue", "plain decimal"),
    ("a value of 5,000 digits as text", tenjin_event(fields={"os_version": "33", "value": HUGE}), "value", "5000 digits"),
    ("a lone surrogate in the user agent", adjust_event(user_agent="Mozilla\udc80"), "user_agent", "lone surrogate"),
    ("a lone surrogate as a callback value", adjust_event(callback_params={"a": "\udc80"}), "callback_params", "lone surrogate"),
    ("a lone surrogate in the id", adjust_event(id="order-\udc80"), "id", "lone surrogate"),
    ("an id of 101 characters", adjust_event(id="i" * 101), "id", "at most 100"),
    ("an id in s2sadmin's own namespace", adjust_event(id="s2s:bulk-1-2"), "id", "may not start with 's2s:'"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "odd", "field", "words"), ITEM_CASES, ids=[c[0] for c in ITEM_CASES])
def test_an_odd_value_rejects_its_item_and_the_rest_of_the_batch_goes_on(api, case, odd, field, words):
    response = api("post", "/events", {"events": [adjust_event(), odd, tenjin_event()]})
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert words in " ".join(results[1]["errors"][field]), results[1]["errors"]
    assert Delivery.objects.count() == 2
    queued = [i for job in send_queue().get_jobs() for i in job.args[0]]
    assert sorted(queued) == sorted([results[0]["delivery_id"], results[2]["delivery_id"]])


def test_a_number_of_5000_digits_in_the_json_is_its_fields_error(api):
    raw = json.dumps({"events": [adjust_event(), tenjin_event(fields={"os_version": "33", "value": 0})]})
    raw = raw.replace('"value": 0', f'"value": {HUGE}')
    body = api("post", "/events", raw).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"]
    assert body["results"][1]["errors"]["value"] == ["value has 5000 digits; at most 30 are allowed."]


def test_two_ids_that_differ_after_100_characters_are_not_one_event(api):
    body = api(
        "post", "/events", {"events": [adjust_event(id="x" * 100 + "a"), adjust_event(id="x" * 100 + "b")]}
    )
    assert [r["status"] for r in body.json()["results"]] == ["rejected", "rejected"]
    assert Delivery.objects.count() == 0


# (case, the odd event, where the 400 must point)
TYPE_CASES = [
    ("true as revenue", adjust_event(revenue=True, currency="EUR"), "events.0.revenue"),
    ("true as the app", adjust_event(app=True), "events.0.app"),
    ("1.0 as the app", adjust_event(app=1.0), "events.0.app"),
    ("a float as the time", adjust_event(created_at=1764460000.5), "events.0.created_at"),
    ("false as the time", adjust_event(created_at=False), "events.0.created_at"),
]


@pytest.mark.parametrize(("case", "odd", "where"), TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(api, case, odd, where):
    response = api("post", "/events", {"events": [odd]})
    assert response.status_code == 400
    assert any(where in detail["where"] for detail in response.json()["details"]), response.json()
    assert Delivery.objects.count() == 0 and send_queue().count == 0


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('{"events": [{"app": "Demo Adjust iOS", "app": "Demo Tenjin Android", "event": "f0ob4r"}]}', "app"),
        (
            '{"app": "Demo Adjust iOS", "event": "f0ob4r", "device_ids": {"idfa": "A"},'
            ' "callback_params": {"order": "1", "order": "2"}}',
            "order",
        ),
    ],
)
def test_a_key_given_twice_in_one_object_is_refused_by_name(api, raw, key):
    response = api("post", "/events", raw)
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"where": "body", "problem": f"The key '{key}' appears twice in one object; keep one."}
    ]
    assert Delivery.objects.count() == 0


def test_a_documented_batch_with_a_few_kb_of_params_per_event_is_taken(api):
    # 1,000 events (the documented maximum) of ~2.6 KB: over Django's 2.5 MB form limit.
    params = {f"p{i}": "v" * 100 for i in range(24)}
    events = [adjust_event(id=f"big-{i}", callback_params=params) for i in range(1000)]
    raw = json.dumps({"events": events})
    assert len(raw) > 2.6 * 1024 * 1024
    body = api("post", "/events", raw).json()
    assert body["accepted"] == 1000


def test_a_body_over_the_api_limit_gets_a_json_413_naming_it(api):
    raw = json.dumps({"events": [adjust_event(user_agent="u" * (MAX_BODY_BYTES + 1))]})
    response = api("post", "/events", raw)
    assert response.status_code == 413
    assert response.json() == {
        "error": f"The request body is {len(raw):,} bytes; the API takes at most {MAX_BODY_BYTES:,} "
        "bytes per request. Send fewer events per batch."
    }
    assert Delivery.objects.count() == 0


def test_a_bug_in_a_validator_refuses_that_item_and_the_rest_of_the_batch_goes_on(api, monkeypatch, caplog):
    # No input is known to make a validator raise anything but EventInvalid any more: the bug is
    # planted at the seam, for one event only.
    from events.providers.adjust import AdjustProvider

    real = AdjustProvider.validate

    def buggy(self, app, token, fields, **kwargs):
        if fields.get("user_agent") == "trigger":
            raise ZeroDivisionError("a bug")
        return real(self, app, token, fields, **kwargs)

    monkeypatch.setattr(AdjustProvider, "validate", buggy)
    body = api(
        "post", "/events", {"events": [adjust_event(), adjust_event(user_agent="trigger"), tenjin_event()]}
    )
    results = body.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["errors"] == {"__all__": [UNEXPECTED]}
    assert "Validating item 1 failed unexpectedly" in caplog.text and "ZeroDivisionError" in caplog.text
    assert Delivery.objects.count() == 2
