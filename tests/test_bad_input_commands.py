"""Bad input at the management commands send_event and import_config: each refuses it with a clear
error naming what is wrong, and nothing is queued or half saved."""

import json

import pytest
from django.core.management import CommandError, call_command

from events.engine import send_queue
from events.models import App, Delivery, EventToken
from tests.bad_input_helpers import MARKUP, SQL
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db


# --- send_event ----------------------------------------------------------------------------

SEND_EVENT_CASES = [
    ("a device without =", ["--device", "idfa"], "--device"),
    ("a bad idfa", ["--device", "idfa=nope"], "idfa"),
    (
        "revenue below the minimum",
        ["--device", f"idfa={IDFA}", "--revenue", "0.0001", "--currency", "EUR"],
        "revenue",
    ),
    ("an unknown currency", ["--device", f"idfa={IDFA}", "--revenue", "1", "--currency", "ZZZ"], "currency"),
    ("an IPv6 address", ["--device", f"idfa={IDFA}", "--ip", "::1"], "ip_address"),
    ("a field twice", ["--device", f"idfa={IDFA}", "--revenue", "1", "--set", "revenue=2"], "revenue"),
    ("markup as a parameter key", ["--device", f"idfa={IDFA}", "--set", f"{MARKUP}=1"], MARKUP),
    ("a superscript digit as the time", ["--device", f"idfa={IDFA}", "--created-at", "²"], "created_at"),
    ("revenue of 5,000 digits", ["--device", f"idfa={IDFA}", "--revenue", "9" * 5000, "--currency", "EUR"], "revenue"),
    ("a lone surrogate in a parameter", ["--device", f"idfa={IDFA}", "--param", "note=\udc80"], "callback_params"),
    ("an idempotency key of 101 characters", ["--device", f"idfa={IDFA}", "--idempotency-key", "k" * 101], "--idempotency-key"),
    ("a key in s2sadmin's own namespace", ["--device", f"idfa={IDFA}", "--idempotency-key", "s2s:bulk-1-2"], "--idempotency-key"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "args", "named"), SEND_EVENT_CASES, ids=[c[0] for c in SEND_EVENT_CASES])
def test_send_event_refuses_bad_input_naming_it(adjust_app, redis_conn, case, args, named):
    with pytest.raises(CommandError) as refused:
        call_command("send_event", adjust_app.name, "f0ob4r", *args)
    assert named in str(refused.value)
    assert Delivery.objects.count() == 0 and send_queue().count == 0


def test_send_event_refuses_an_unknown_app_and_event(adjust_app):
    with pytest.raises(CommandError, match="No app named 'Nope'"):
        call_command("send_event", "Nope", "f0ob4r", "--device", f"idfa={IDFA}")
    with pytest.raises(CommandError, match="No app named '99999"):
        call_command("send_event", "9" * 5000, "f0ob4r", "--device", f"idfa={IDFA}")
    with pytest.raises(CommandError, match="is not an event of this app"):
        call_command("send_event", adjust_app.name, SQL, "--device", f"idfa={IDFA}")


# --- import_config -------------------------------------------------------------------------


def config(**app) -> bytes:
    entry = {"name": "Imported", "provider": "adjust", "platform": "ios", "app_key": "abcdefabcdef", **app}
    return json.dumps({"version": 1, "apps": [entry]}).encode()


IMPORT_CASES = [
    ("not JSON", b"{apps: [", "Not valid JSON"),
    ("not UTF-8", b"\xff\xfe{}", "not UTF-8"),
    ("an unknown provider", config(provider="branch"), "provider must be one of"),
    ("markup as the platform", config(platform=MARKUP), "platform must be one of"),
    ("a name of 101 characters", config(name="n" * 101), "name must be a string of at most 100"),
    ("a blank name", config(name="   "), "name must be a string"),
    ("an unknown key", config(url="https://evil.example"), "unknown keys ['url']"),
    ("a Tenjin app defaulting to sandbox", config(provider="tenjin", platform="android", default_environment="sandbox"), "Tenjin has no sandbox"),
    ("active that is not a boolean", config(active="yes"), "active must be true or false"),
    ("event tokens that are not a list", config(event_tokens={"token": "x"}), "event_tokens: must be a list"),
    # Issue 9: each a clear message, nothing saved; the dashboard's rules whichever door.
    ("a name that is a list", config(name=["Imported"]), "name must be a string of at most 100"),
    ("a security token active 'maybe'", config(security_tokens=[{"label": "p", "value": "v8s5opi0zs45607l", "active": "maybe"}]), "active must be true or false, not 'maybe'"),
    ("JSON nested 100,000 deep", b'{"version": 1, "apps": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ("an event token name of 101 characters", config(event_tokens=[{"token": "abc123", "name": "n" * 101}]), "name is longer than 100 characters"),
    ("an Adjust token of kind purchase", config(event_tokens=[{"token": "abc123", "kind": "purchase"}]), "Only Tenjin apps have purchase events"),
    ("an Adjust token with a space", config(event_tokens=[{"token": "abc 123"}]), "An Adjust event token is letters and digits only"),
    ("a Tenjin app on web without a bundle id", config(provider="tenjin", platform="web", default_environment="production"), "Tenjin apps are one of"),
    ("a 10,000-character security token", config(security_tokens=[{"label": "p", "value": "v" * 10_000}]), "8 to 200 characters long; this one has 10000"),
    ("a security token with spaces", config(security_tokens=[{"label": "p", "value": "v8s5 opi0zs45607l"}]), "A security token has no spaces"),
    ("archived that is not a boolean", config(event_tokens=[{"token": "abc123", "archived": "yes"}]), "archived must be true or false"),
    ("a key given twice", b'{"version": 1, "apps": [{"name": "A", "name": "B"}]}', "The key 'name' appears twice in one object"),
    ("a zero-width space in an app name", config(name="Demo Adjust\u200b iOS"), "U+200B"),
    ("a right-to-left override in a token name", config(event_tokens=[{"token": "abc123", "name": "Buy\u202e"}]), "U+202E"),
    ("a zero-width joiner in a security token label", config(security_tokens=[{"label": "p\u200d", "value": "v8s5opi0zs45607l"}]), "U+200D"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "content", "message"), IMPORT_CASES, ids=[c[0] for c in IMPORT_CASES])
def test_import_config_refuses_a_bad_file_changing_nothing(tmp_path, adjust_app, case, content, message):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    before = (App.objects.count(), EventToken.objects.count())
    with pytest.raises(CommandError) as refused:
        call_command("import_config", str(path))
    assert message in str(refused.value)
    assert "nothing" in str(refused.value).lower()
    assert (App.objects.count(), EventToken.objects.count()) == before
