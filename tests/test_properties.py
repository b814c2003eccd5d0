"""Properties of the validators, over many generated inputs (Hypothesis): what they promise holds
for every value, not only for the examples in test_provider_*.py."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from events.engine.retry_policy import decide
from events.models import Outcome, Status
from events.providers import EventInvalid, get_provider
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

pytestmark = pytest.mark.django_db
# The apps are read, never changed, by every example: one per test is enough.
examples = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

flat_strings = st.dictionaries(st.text(max_size=20), st.text(max_size=40), min_size=1, max_size=8)
not_a_string = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.lists(st.text(), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)  # fmt: skip


def adjust_validate(app, **fields):
    fields.setdefault("device_ids", {"idfa": IDFA})
    return get_provider(app).validate(app, app.event_tokens.get(token="f0ob4r"), fields)


def adjust_errors(app, **fields) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as refused:
        adjust_validate(app, **fields)
    return refused.value.errors


def plain(number: Decimal) -> str:
    return format(number, "f")


@examples
@given(params=flat_strings, name=st.sampled_from(["callback_params", "partner_params"]))
def test_any_flat_object_of_strings_round_trips(adjust_app, params, name):
    valid = adjust_validate(adjust_app, **{name: params})
    assert json.loads(valid.params[name]) == params


@examples
@given(params=flat_strings, name=st.sampled_from(["callback_params", "partner_params"]))
def test_the_same_object_given_as_json_text_gives_the_same_parameter(adjust_app, params, name):
    assert (
        adjust_validate(adjust_app, **{name: json.dumps(params)}).params[name]
        == (adjust_validate(adjust_app, **{name: params}).params[name])
    )


@examples
@given(params=flat_strings, key=st.text(max_size=10), bad=not_a_string)
def test_any_value_that_is_not_a_string_is_refused_by_name(adjust_app, params, key, bad):
    errors = adjust_errors(adjust_app, callback_params={**params, key: bad})
    assert any(f"'{key}'" in message for message in errors["callback_params"])


@examples
@given(amount=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000000000"), places=3))
def test_any_revenue_within_adjusts_limits_is_sent_as_given(adjust_app, amount):
    assert adjust_validate(adjust_app, revenue=plain(amount), currency="EUR").params["revenue"] == plain(
        amount
    )


@examples
@given(
    amount=st.one_of(
        st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("0.0009"), places=4),
        st.decimals(min_value=Decimal("100000000000.01"), max_value=Decimal("1e15"), places=2),
    )
)
def test_any_revenue_outside_adjusts_limits_is_refused(adjust_app, amount):
    assert "revenue" in adjust_errors(adjust_app, revenue=plain(amount), currency="EUR")


@examples
@given(idfa=st.uuids())
def test_any_idfa_in_uppercase_is_accepted_and_lowercased_refused(adjust_app, idfa):
    upper, lower = str(idfa).upper(), str(idfa).lower()
    assert adjust_validate(adjust_app, device_ids={"idfa": upper}).device_id == upper
    assume(upper != lower)  # all digits: the same either way
    assert "idfa" in adjust_errors(adjust_app, device_ids={"idfa": lower})


@examples
@given(seconds_ago=st.integers(min_value=60, max_value=58 * 24 * 3600 - 60))
def test_any_time_within_58_days_passes_and_any_older_one_is_refused(adjust_app, seconds_ago):
    now = datetime.now(UTC)
    recent = int((now - timedelta(seconds=seconds_ago)).timestamp())
    assert adjust_validate(adjust_app, created_at=str(recent)).event_time == datetime.fromtimestamp(
        recent, UTC
    )
    old = int((now - timedelta(days=58, seconds=seconds_ago)).timestamp())
    assert "created_at" in adjust_errors(adjust_app, created_at=str(old))


@examples
@given(value=st.integers())
def test_a_tenjin_value_is_accepted_exactly_when_it_is_a_whole_number_from_0_to_2_31_minus_1(
    tenjin_app, value
):
    fields = {
        "device_ids": {
            "advertising_id": TENJIN_ADVERTISING_ID,
            "analytics_installation_id": TENJIN_INSTALLATION_ID,
        },
        "os_version": "33",
        "value": str(value),
    }
    event = tenjin_app.event_tokens.get(token="level_up")
    if 0 <= value <= 2**31 - 1:
        assert get_provider(tenjin_app).validate(tenjin_app, event, fields).params["value"] == str(value)
    else:
        with pytest.raises(EventInvalid) as refused:
            get_provider(tenjin_app).validate(tenjin_app, event, fields)
        assert "value" in refused.value.errors


@settings(max_examples=300, deadline=None)
@given(
    attempts=st.integers(min_value=1, max_value=30),
    outcome=st.sampled_from(list(Outcome)),
    ambiguous=st.booleans(),
    retry_after=st.none() | st.floats(min_value=0, max_value=10**6),
    age=st.floats(min_value=0, max_value=3 * 24 * 3600),
)
def test_the_retry_policy_never_schedules_past_its_limits(attempts, outcome, ambiguous, retry_after, age):
    from django.conf import settings as django_settings

    now = datetime(2026, 11, 22, tzinfo=UTC)
    decision = decide(
        outcome, ambiguous=ambiguous, retry_after=retry_after, attempts_made=attempts,
        created_at=now - timedelta(seconds=age), now=now,
    )  # fmt: skip
    if decision.status == Status.RETRYING:
        assert attempts < len(django_settings.SEND_BACKOFF) + 1
        assert age + decision.delay <= django_settings.SEND_MAX_AGE
        if retry_after is not None:
            assert decision.delay >= min(retry_after, django_settings.SEND_RETRY_AFTER_MAX)
    assert decision.status != Status.RETRYING or outcome == Outcome.RETRY
