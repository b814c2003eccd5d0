"""After a full run of sends, no secret value can be read in the database, the logs, or any page
of the site: every URL pattern (tests/url_walk.py), filled with the objects that exist, opened as
each role, plus the Django admin's pages. New dashboard pages are swept as soon as they exist.

tests/test_secret_leaks.py covers the export, Redis and command output; this adds the pages, the
admin and error reports."""

import logging
import sys

import pytest
from django.core.files.base import ContentFile
from django.views.debug import ExceptionReporter

from events.api.keys import create_api_key
from events.engine import create_delivery
from events.models import BulkSend, Source
from tests import url_walk
from tests.conftest import (
    ADJUST_SECURITY_TOKEN,
    APPSFLYER_ID,
    APPSFLYER_S2S_TOKEN,
    IDFA,
    SINGULAR_SDID,
    SINGULAR_SDK_KEY,
    TENJIN_ADVERTISING_ID,
    TENJIN_INSTALLATION_ID,
    TENJIN_SDK_KEY,
    make_user,
    run_worker,
)
from tests.test_secret_leaks import assert_no_secret, dump_database

pytestmark = pytest.mark.django_db(transaction=True)


SLACK_URL = "https://hooks.slack.example/services/T0001/B0001/slackhooksecret0123456789"
SIGNING_SECRET = "whsec_c2lnbmluZ3NlY3JldGZvcnRoZXN3ZWVwMDEyMzQ1Njc4OQ=="


@pytest.fixture
def full_run(
    emulator, adjust_app, adjust_security_token, tenjin_app, appsflyer_app, singular_app, settings, tmp_path
):
    """Deliveries of every kind (delivered, retried, rejected), an API key and a bulk send."""
    settings.MEDIA_ROOT = tmp_path
    emulator.register_adjust_app(
        adjust_app.app_key,
        event_tokens=["f0ob4r"],
        security_tokens=[ADJUST_SECURITY_TOKEN],
        auth_enabled=True,
    )
    emulator.register_tenjin_app(tenjin_app.bundle_id, tenjin_app.platform, sdk_keys=[TENJIN_SDK_KEY])
    emulator.script_faults(["500", "pass"])
    for token in ("f0ob4r", "2y7e81"):  # the second is unknown to the emulated Adjust: rejected
        event = adjust_app.event_tokens.get(token=token)
        create_delivery(adjust_app, event, {"device_ids": {"idfa": IDFA}}, source=Source.FORM)
    fields = {
        "device_ids": {
            "advertising_id": TENJIN_ADVERTISING_ID,
            "analytics_installation_id": TENJIN_INSTALLATION_ID,
        },
        "os_version": "33",
    }
    create_delivery(tenjin_app, tenjin_app.event_tokens.get(token="level_up"), fields, source=Source.CLI)
    # AppsFlyer delivered (the token in a header); Singular refused inside an HTTP 200 (unknown key).
    emulator.register_appsflyer_app(appsflyer_app.bundle_id, "ios", s2s_tokens=[APPSFLYER_S2S_TOKEN])
    af_fields = {"device_ids": {"appsflyer_id": APPSFLYER_ID}, "os_version": "17.5"}
    create_delivery(appsflyer_app, appsflyer_app.event_tokens.get(), af_fields, source=Source.FORM)
    sg_fields = {"device_ids": {"sdid": SINGULAR_SDID}, "ip_address": "203.0.113.7"}
    create_delivery(singular_app, singular_app.event_tokens.get(), sg_fields, source=Source.CLI)
    run_worker()
    _, raw_api_key = create_api_key("ci", [adjust_app])
    BulkSend.objects.create(
        app=adjust_app, file=ContentFile(b"idfa\n" + IDFA.encode(), name="events.csv"), filename="events.csv"
    )
    from django.contrib.auth import get_user_model

    from events.accounts.models import SavedView

    owner = get_user_model().objects.create_user("saved-view-owner")
    SavedView.objects.create(user=owner, name="Rejected", query="status=failed")
    from events.monitoring.models import AlertChannel, Incident

    AlertChannel.objects.create(name="Team Slack", kind="slack", target=SLACK_URL)
    AlertChannel.objects.create(
        name="Backend",
        kind="webhook",
        target="https://hooks.example.com/alerts",
        signing_secret=SIGNING_SECRET,
    )
    Incident.objects.create(
        rule="auth_refused", subject=f"app:{adjust_app.pk}", app=adjust_app, title="Demo: 401", detail="401"
    )

    from events.models import Delivery
    from events.resend.preview import preview

    preview(owner, Delivery.objects.values_list("pk", flat=True))  # a bulk resend, previewed

    from events.callbacks.models import CallbackEndpoint
    from events.callbacks.signing import new_secret

    callback_secret = new_secret()
    CallbackEndpoint.objects.create(
        app=adjust_app, url="https://backend.example.com/results", secret=callback_secret
    )
    return [
        SLACK_URL,
        SIGNING_SECRET,
        *(adjust_app.app_key, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY, APPSFLYER_S2S_TOKEN, SINGULAR_SDK_KEY),
        raw_api_key,
        callback_secret,
        callback_secret.removeprefix("whsec_"),
    ]


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def test_no_page_shows_a_secret_to_any_role_after_a_full_run(
    full_run, client, admin, marketer, viewer, caplog
):
    caplog.set_level(logging.DEBUG)
    secrets = full_run
    superuser = make_user("root", None)
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    ids = url_walk.existing_ids()
    opened = 0
    for user in (admin, marketer, viewer, superuser):
        client.force_login(user)
        urls = [r.url(ids) for r in url_walk.routes()] + url_walk.admin_urls(ids)
        for url in filter(None, urls):
            response = client.get(url)
            # /ready/ answers 503 by design here: no worker runs during this walk.
            assert response.status_code < 500 or url == "/ready/", (
                f"{url} as {user.username}: {response.status_code}"
            )
            assert_no_secret(body_of(response), f"{url} as {user.username}", secrets)
            opened += 1
    assert opened > 40
    assert_no_secret(dump_database(), "the database", secrets)
    assert_no_secret(caplog.text, "the logs", secrets)


def test_an_error_report_masks_the_secrets_of_the_request_being_sent(adjust_app, adjust_security_token, rf):
    from events.providers import get_provider

    request_being_sent = get_provider(adjust_app).build(
        adjust_app, adjust_app.event_tokens.get(token="f0ob4r"), {"idfa": IDFA}
    )
    body = request_being_sent.body.decode()
    app_key = adjust_app.app_key
    try:
        raise RuntimeError("the MMP went away")
    except RuntimeError:
        report = ExceptionReporter(rf.post("/send/", {"app_key": app_key, "value": "x"}), *sys.exc_info())
        text = report.get_traceback_text()
        html = report.get_traceback_html()
    assert "app_token=••••" in html, "the variables are shown, masked"
    for where, shown in (("text", text), ("html", html)):
        assert_no_secret(shown, f"the error report ({where})", [app_key, ADJUST_SECURITY_TOKEN])
    assert body  # the local variable the report had to mask


def test_an_error_report_hides_settings_with_credentials_in_a_url(rf, settings):
    settings.REDIS_URL = "redis://:hunter2-redis-password@redis.internal:6379/0"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        text = ExceptionReporter(rf.get("/"), *sys.exc_info()).get_traceback_text()
    assert "hunter2-redis-password" not in text


def test_a_500_page_outside_debug_shows_nothing_of_the_error(client, admin, settings):
    from django.urls import path

    def broken(request):
        secret_here = "v8s5opi0zs45607l8h8c48wak2vxb5oe"  # noqa: F841 - in the frame on purpose
        raise RuntimeError("boom v8s5opi0zs45607l8h8c48wak2vxb5oe")

    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [path("broken/", broken)]})
    client.raise_request_exception = False
    client.force_login(admin)
    response = client.get("/broken/")
    assert response.status_code == 500
    assert "v8s5opi0zs45607l8h8c48wak2vxb5oe" not in body_of(response)
