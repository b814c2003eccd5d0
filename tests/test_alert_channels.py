"""Alert channels against real receivers: an SMTP server (aiosmtpd) started by the test, and an
HTTP receiver that checks the Standard Webhooks signature. Secrets in channel URLs are encrypted,
masked on pages and in errors, and webhook hosts are checked like any outbound host."""

import base64
import hashlib
import hmac
import json

import django_rq
import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import AuditEntry
from events.monitoring import send_test_message
from events.monitoring.channels import ChannelError, deliver, signature_headers
from events.monitoring.messages import channel_test_message, message_for
from events.monitoring.models import AlertChannel, Incident, Rule
from events.monitoring.notify import OPENED, enqueue_alerts
from tests.alert_receivers import run_alert_jobs, smtp_server, use_smtp, webhook_receiver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_" + base64.b64encode(b"a signing key of thirty-two byte").decode()


@pytest.fixture
def incident(adjust_app) -> Incident:
    return Incident.objects.create(
        rule=Rule.AUTH_REFUSED,
        subject=f"app:{adjust_app.pk}",
        app=adjust_app,
        title=f"{adjust_app.name}: the MMP refuses its credentials (HTTP 401)",
        detail="The latest answer was HTTP 401: Not authorized.",
        log_filters={"app": str(adjust_app.pk), "http": "401"},
    )


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """A receiver's check, written from the Standard Webhooks specification, not from our code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig.partition(",")[2], expected) for sig in headers["webhook-signature"].split()
    )


def test_email_reaches_a_real_smtp_server(settings, incident, redis_conn):
    settings.SITE_URL = "https://s2s.example.com"
    with smtp_server() as (box, port):
        use_smtp(settings, port)
        channel = AlertChannel.objects.create(
            name="On call", kind="email", target="a@example.com, b@example.com"
        )
        enqueue_alerts([channel.pk], incident.pk, OPENED)
        run_alert_jobs()
    [message] = box.messages
    assert message["Subject"] == f"[s2sadmin] Incident: {incident.title}"
    assert sorted(box.envelopes[0].rcpt_tos) == ["a@example.com", "b@example.com"]
    body = message.get_content()
    assert "HTTP 401: Not authorized" in body
    assert f"https://s2s.example.com/log/?app={incident.app_id}&http=401" in body
    assert "https://s2s.example.com/alerts/" in body
    channel.refresh_from_db()
    assert channel.last_sent_at is not None and channel.last_error == ""


def test_an_unreachable_mail_server_is_the_channels_error_and_rq_retries(settings, incident, redis_conn):
    with smtp_server() as (_box, port):
        pass  # started and stopped: nothing listens on the port now
    use_smtp(settings, port)
    channel = AlertChannel.objects.create(name="On call", kind="email", target="a@example.com")
    enqueue_alerts([channel.pk], incident.pk, OPENED)
    run_alert_jobs()
    channel.refresh_from_db()
    assert "The mail server did not take the message" in channel.last_error
    assert len(django_rq.get_queue("default").scheduled_job_registry) == 1  # tried again later


def test_slack_webhook_gets_text_json(settings, incident, redis_conn):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with webhook_receiver() as receiver:
        url = f"{receiver.url}/services/T000/B000/xoxsecretpart0123456789"
        channel = AlertChannel.objects.create(name="Slack", kind="slack", target=url)
        deliver(channel, message_for(incident, OPENED))
    [(method, path, headers, body)] = receiver.requests
    assert method == "POST" and path == "/services/T000/B000/xoxsecretpart0123456789"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["text"].startswith(incident.title)


def test_generic_webhook_is_signed_as_standard_webhooks_say(settings, incident, redis_conn):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with webhook_receiver() as receiver:
        channel = AlertChannel.objects.create(
            name="Backend", kind="webhook", target=f"{receiver.url}/hooks", signing_secret=SECRET
        )
        enqueue_alerts([channel.pk], incident.pk, OPENED)
        run_alert_jobs()
    [(_, _, headers, body)] = receiver.requests
    assert verify(SECRET, headers, body)
    assert not verify(
        "whsec_" + base64.b64encode(b"another key entirely, not ours!!").decode(), headers, body
    )
    payload = json.loads(body)
    assert payload["type"] == "incident.opened"
    assert payload["data"]["rule"] == "auth_refused" and payload["data"]["app"] == incident.app.name
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60


def test_signature_matches_the_specifications_example():
    # The example in the Standard Webhooks specification (its README's "Signature scheme").
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    headers = signature_headers(secret, body, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", at=1614265330)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_webhooks_to_private_addresses_are_refused_unless_allowed(settings, incident):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with webhook_receiver() as receiver:
        channel = AlertChannel.objects.create(name="Inside", kind="slack", target=f"{receiver.url}/x")
        with pytest.raises(ChannelError, match="private or reserved address"):
            deliver(channel, channel_test_message(channel))
    assert receiver.requests == []


def test_a_redirect_is_not_followed(settings, incident):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with webhook_receiver(status=302) as receiver:
        channel = AlertChannel.objects.create(name="Moved", kind="slack", target=f"{receiver.url}/x")
        with pytest.raises(ChannelError, match="answered HTTP 302"):
            deliver(channel, channel_test_message(channel))
    assert len(receiver.requests) == 1


def test_a_failing_webhooks_error_never_shows_its_secret_path(settings, incident):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    secret_part = "T000/B000/abcdefghijklmnop"
    with webhook_receiver(status=500) as receiver:
        channel = AlertChannel.objects.create(
            name="Slack", kind="slack", target=f"{receiver.url}/{secret_part}"
        )
        with pytest.raises(ChannelError) as failure:
            deliver(channel, channel_test_message(channel))
    assert "HTTP 500" in str(failure.value) and "abcdefghijklmnop" not in str(failure.value)


def test_channel_pages_mask_the_url_and_the_test_button_sends(settings, client_for, admin, redis_conn):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    client = client_for(admin)
    with webhook_receiver() as receiver:
        url = f"{receiver.url}/services/T1/B1/verysecretslackpath0042"
        response = client.post(
            reverse("alert_channel_create"), {"name": "Team Slack", "kind": "slack", "target": url}
        )
        assert response.status_code == 302
        channel = AlertChannel.objects.get()
        page = client.get(reverse("alert_channels")).content.decode()
        assert "verysecretslackpath0042" not in page and "••••0042" in page
        response = client.post(reverse("alert_channel_test", args=[channel.pk]), follow=True)
        assert "Sent a test message to &#x27;Team Slack&#x27;" in response.content.decode()
    assert json.loads(receiver.requests[0][3])["text"].startswith("A test message from s2sadmin")
    entry = AuditEntry.objects.get(action="alert_channel.created")
    assert "verysecretslackpath0042" not in json.dumps(entry.changes)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT target FROM events_alertchannel")
        assert "verysecretslackpath0042" not in cursor.fetchone()[0]  # encrypted at rest


def test_the_channel_form_says_what_is_wrong(settings, client_for, admin):
    client = client_for(admin)
    cases = [
        ({"kind": "email", "target": "not-an-address"}, "is not an email address"),
        ({"kind": "slack", "target": "ftp://example.com/x"}, "must start with https://"),
        ({"kind": "slack", "target": "http://127.0.0.1:9/x"}, "private or reserved address"),
        ({"kind": "webhook", "target": "https://127.0.0.1/x", "signing_secret": "short"}, "24 characters"),
    ]
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    for data, error in cases:
        response = client.post(reverse("alert_channel_create"), {"name": "X", **data})
        assert response.status_code == 200 and error in response.content.decode(), data
    assert not AlertChannel.objects.exists()


def test_a_test_message_can_be_queued_for_the_workers(settings, redis_conn):
    with smtp_server() as (box, port):
        use_smtp(settings, port)
        channel = AlertChannel.objects.create(name="On call", kind="email", target="a@example.com")
        assert send_test_message(channel.pk)
        run_alert_jobs()
    assert box.subjects() == ["[s2sadmin] Test message"]


def test_only_admins_act_on_incidents_and_each_act_is_audited(client_for, admin, viewer, incident):
    assert client_for(viewer).post(reverse("incident_acknowledge", args=[incident.pk])).status_code == 403
    client = client_for(admin)
    client.post(reverse("incident_acknowledge", args=[incident.pk]))
    client.post(reverse("incident_mute", args=[incident.pk]))  # not confirmed: nothing changes
    incident.refresh_from_db()
    assert incident.acknowledged_by == admin and incident.muted_until is None
    client.post(reverse("incident_mute", args=[incident.pk]), {"confirmed": "yes"})
    incident.refresh_from_db()
    assert incident.is_muted()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"incident.acknowledged", "incident.muted"} <= actions
    page = client_for(viewer).get(reverse("alerts")).content.decode()
    assert incident.title in page and f"/log/?app={incident.app_id}&amp;http=401" in page
