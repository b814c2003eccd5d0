"""Copy as curl: the exact request, each secret as an environment variable reference, the rest
quoted so the shell expands nothing; checked by running the command through a real shell."""

import base64
import shlex
import subprocess

import pytest

from events.curl import CurlCommand, curl_command, curl_for_attempt, curl_for_request
from events.models import Attempt
from events.providers import get_provider
from events.secrets import Masker
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, IDFA, TENJIN_SDK_KEY

pytestmark = pytest.mark.django_db


def argv(command: str, **env: str) -> list[str]:
    """What the shell passes to curl: the command run by bash with `curl` replaced by printf."""
    script = "printf '%s\\0' " + command.removeprefix("curl ")
    out = subprocess.run(["bash", "-c", script], capture_output=True, env=env, check=True).stdout
    return out.decode().split("\0")[:-1]


def build(app, token="f0ob4r", **params):
    params = {"idfa": IDFA, "created_at_unix": "1767225600", "environment": "sandbox", **params}
    return get_provider(app).build(app, app.event_tokens.get(token=token), params)


def test_adjust_secrets_become_variables(adjust_app, adjust_security_token):
    command = curl_for_request(adjust_app, build(adjust_app))
    assert ADJUST_APP_TOKEN not in command.text and ADJUST_SECURITY_TOKEN not in command.text
    assert command.variables == ["ADJUST_S2S_TOKEN", "ADJUST_APP_TOKEN"]
    args = argv(command.text, ADJUST_APP_TOKEN=ADJUST_APP_TOKEN, ADJUST_S2S_TOKEN=ADJUST_SECURITY_TOKEN)
    assert args[:3] == ["-X", "POST", "https://s2s.adjust.com/event"]
    assert f"Authorization: Bearer {ADJUST_SECURITY_TOKEN}" in args
    body = args[args.index("--data-raw") + 1]
    assert body == build(adjust_app).body.decode()  # byte for byte what s2sadmin sends


def test_tenjin_basic_auth_is_left_to_curl(tenjin_app):
    outbound = get_provider(tenjin_app).build(
        tenjin_app, tenjin_app.event_tokens.get(token="level_up"), {"advertising_id": "x", "os_version": "33"}
    )
    command = curl_for_request(tenjin_app, outbound)
    assert TENJIN_SDK_KEY not in command.text
    assert base64.b64encode(f"{TENJIN_SDK_KEY}:".encode()).decode() not in command.text
    args = argv(command.text, TENJIN_SDK_KEY=TENJIN_SDK_KEY)
    assert args[args.index("-u") + 1] == f"{TENJIN_SDK_KEY}:"
    assert command.variables == ["TENJIN_SDK_KEY"]


def test_a_stored_attempt_maps_its_masks_back_to_variables(adjust_app, adjust_security_token):
    from tests.test_deliveries import add_attempt, make_delivery

    outbound = build(adjust_app)
    masker = Masker(outbound.secrets)
    attempt = add_attempt(
        make_delivery(adjust_app),
        request_headers=masker.headers(outbound.headers),
        request_body=masker.text(outbound.body.decode()),
    )
    command = curl_for_attempt(Attempt.objects.select_related("delivery__app").get(pk=attempt.pk))
    args = argv(command.text, ADJUST_APP_TOKEN=ADJUST_APP_TOKEN, ADJUST_S2S_TOKEN=ADJUST_SECURITY_TOKEN)
    assert f"Authorization: Bearer {ADJUST_SECURITY_TOKEN}" in args
    assert args[args.index("--data-raw") + 1] == outbound.body.decode()


def test_a_stored_attempts_wire_headers_leave_host_and_length_to_curl(adjust_app, adjust_security_token):
    from events import transport
    from tests.test_deliveries import add_attempt, make_delivery

    outbound = build(adjust_app)
    masker = Masker(outbound.secrets)
    wire = masker.headers(transport.wire_headers(outbound))
    attempt = add_attempt(
        make_delivery(adjust_app), request_headers=wire, request_body=outbound.body.decode()
    )
    args = argv(curl_for_attempt(attempt).text, ADJUST_S2S_TOKEN=ADJUST_SECURITY_TOKEN)
    sent = [args[i + 1].partition(":")[0] for i, arg in enumerate(args) if arg == "-H"]
    assert sorted(sent) == sorted(name for name in wire if name not in ("Host", "Content-Length"))


def test_a_stored_tenjin_attempt_uses_the_variable_for_basic_auth(tenjin_app):
    from events.models import Delivery
    from tests.test_deliveries import add_attempt

    outbound = get_provider(tenjin_app).build(
        tenjin_app, tenjin_app.event_tokens.first(), {"os_version": "33"}
    )
    masker = Masker(outbound.secrets)
    delivery = Delivery.objects.create(
        app=tenjin_app, event_token=tenjin_app.event_tokens.first(), source="cli", environment="production"
    )
    attempt = add_attempt(delivery, request_headers=masker.headers(outbound.headers))
    assert '-u "$TENJIN_SDK_KEY:"' in curl_for_attempt(attempt).text


def test_nothing_but_the_variables_is_expanded_by_the_shell():
    hostile = "a'b $(touch /tmp/pwned) `id` $HOME \\ \" ; & | \n"
    command = curl_command(
        "POST", "https://x.example/e?q=$HOME", {"X-Test": hostile}, f"v={hostile}&k=SECRET", {"SECRET": "KEY"}
    )
    args = argv(command, KEY="the-key", HOME="/root")
    assert args[2] == "https://x.example/e?q=$HOME"
    assert f"X-Test: {hostile}" in args
    assert args[args.index("--data-raw") + 1] == f"v={hostile}&k=the-key"
    assert shlex.split(command)  # and it is one well-formed command


def test_the_command_sends_the_user_agent_of_the_transport():
    from events.transport import USER_AGENT

    args = argv(curl_command("GET", "https://x.example/", {}, "", {}))
    assert f"User-Agent: {USER_AGENT}" in args and "--data-raw" not in args


def test_a_curl_command_prints_as_its_text():
    assert str(CurlCommand("curl x")) == "curl x" and CurlCommand('"$A_B:" "$C"').variables == ["A_B", "C"]


def test_a_tenjin_attempt_from_before_a_key_rotation_shows_its_masked_header(tenjin_app):
    """The stored credential is the old key's mask, which is no base64: shown as stored, never a 500."""
    from events.models import Delivery
    from tests.test_deliveries import add_attempt

    outbound = get_provider(tenjin_app).build(
        tenjin_app, tenjin_app.event_tokens.first(), {"os_version": "33"}
    )
    delivery = Delivery.objects.create(
        app=tenjin_app, event_token=tenjin_app.event_tokens.first(), source="cli", environment="production"
    )
    attempt = add_attempt(delivery, request_headers=Masker(outbound.secrets).headers(outbound.headers))
    tenjin_app.app_key = "NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY99"
    tenjin_app.save()
    command = curl_for_attempt(Attempt.objects.select_related("delivery__app").get(pk=attempt.pk))
    assert f"Authorization: Basic ••••{TENJIN_SDK_KEY[-4:]}" in argv(command.text)
    assert TENJIN_SDK_KEY not in command.text


def test_a_tenjin_delivery_page_answers_after_a_key_rotation(client_for, viewer, tenjin_app):
    from django.urls import reverse

    from events.models import Delivery
    from tests.test_deliveries import add_attempt

    outbound = get_provider(tenjin_app).build(
        tenjin_app, tenjin_app.event_tokens.first(), {"os_version": "33"}
    )
    delivery = Delivery.objects.create(
        app=tenjin_app, event_token=tenjin_app.event_tokens.first(), source="cli", environment="production"
    )
    add_attempt(delivery, request_headers=Masker(outbound.secrets).headers(outbound.headers))
    tenjin_app.app_key = "NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY99"
    tenjin_app.save()
    response = client_for(viewer).get(reverse("delivery", args=[delivery.pk]))
    assert response.status_code == 200
    assert TENJIN_SDK_KEY not in response.content.decode()
