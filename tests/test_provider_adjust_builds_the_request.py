"""Adjust: the request an event becomes."""

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from tests.adjust_provider_helpers import adjust, event, validate
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, IDFA

# The request ------------------------------------------------------------------------------------

DOC_BODY = (
    "s2s=1&event_token=f0ob4r&app_token=4w565xzmb54d&idfa=D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
    "&created_at=2017-01-02T15%3A04%3A05Z%2B0200"
    "&callback_params=%7B%22f0o%22%3A%22bar%22%2C%20%22bar%22%3A%22baz%22%7D"
    "&partner_params=%7B%22f0o%22%3A%22bar%22%2C%20%22bar%22%3A%22baz%22%7D"
    "&currency=EUR&revenue=123.4&environment=sandbox"
)


def test_it_builds_adjusts_documentation_example_byte_for_byte(adjust_app):
    fields = {
        "device_ids": {"idfa": IDFA},
        "created_at": "2017-01-02T15:04:05Z+0200",
        "callback_params": {"f0o": "bar", "bar": "baz"},
        "partner_params": '{"f0o":"bar","bar":"baz"}',
        "currency": "EUR",
        "revenue": "123.4",
        "environment": "sandbox",
    }
    valid = validate(adjust_app, fields, now=datetime(2017, 1, 3, tzinfo=UTC))
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), valid.params)
    assert request.body.decode() == DOC_BODY
    assert parse_qsl(request.body.decode()) == parse_qsl(DOC_BODY)


def test_it_posts_a_form_to_the_event_endpoint_and_lists_the_app_token_as_a_secret(adjust_app, settings):
    settings.ADJUST_BASE_URL = "https://s2s.adjust.com"
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert request.method == "POST"
    assert request.url == "https://s2s.adjust.com/event"
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert request.secrets == (ADJUST_APP_TOKEN,)
    assert request.security_token_id is None


def test_it_strips_a_trailing_slash_from_the_base_url(adjust_app, settings):
    settings.ADJUST_BASE_URL = "http://127.0.0.1:8000/emulator/adjust/"
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert request.url == "http://127.0.0.1:8000/emulator/adjust/event"


def test_it_sends_the_active_security_token_as_a_bearer_header(adjust_app, adjust_security_token):
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert request.headers["Authorization"] == f"Bearer {ADJUST_SECURITY_TOKEN}"
    assert request.secrets == (ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN)
    assert request.security_token_id == adjust_security_token.pk


def test_it_sends_no_inactive_security_token(adjust_app, adjust_security_token):
    adjust_security_token.active = False
    adjust_security_token.save()
    request = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA})
    assert "Authorization" not in request.headers


def test_it_encodes_spaces_as_percent_20_like_adjusts_examples(adjust_app):
    valid = validate(adjust_app, event(user_agent="Mozilla/5.0 (iPhone)"))
    body = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), valid.params).body.decode()
    assert "user_agent=Mozilla%2F5.0%20%28iPhone%29" in body


def test_it_puts_the_other_parameters_after_the_environment(adjust_app):
    valid = validate(adjust_app, event(ip_address="203.0.113.7", os_name="ios", environment="production"))
    body = adjust.build(adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), valid.params).body.decode()
    names = [name for name, _ in parse_qsl(body)]
    assert names == [
        "s2s",
        "event_token",
        "app_token",
        "idfa",
        "created_at_unix",
        "environment",
        "ip_address",
        "os_name",
    ]


def test_its_params_hold_no_secret_and_none_of_the_fixed_parameters(adjust_app, adjust_security_token):
    valid = validate(adjust_app, event())
    assert set(valid.params) == {"idfa", "created_at_unix", "environment"}
    assert ADJUST_APP_TOKEN not in json.dumps(valid.params)
