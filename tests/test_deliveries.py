"""A delivery's page: status, parameters and attempts with their requests and answers decoded, MMP
text always escaped, SKAdNetwork keys highlighted; the status fragment it polls; resend, clone and
the raw answer download."""

import html
import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from events.engine import create_delivery, send_queue
from events.models import Attempt, Delivery, OrderMark, Outcome, Source, Status
from tests.conftest import (
    ADJUST_APP_TOKEN,
    ADJUST_SECURITY_TOKEN,
    IDFA,
    TENJIN_ADVERTISING_ID,
    TENJIN_INSTALLATION_ID,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('mmp')</script>"


def make_delivery(app, *, token="f0ob4r", source=Source.FORM, **fields) -> Delivery:
    fields = {"device_ids": {"idfa": IDFA}, "callback_params": {"order": "42"}, **fields}
    delivery, _ = create_delivery(app, app.event_tokens.get(token=token), fields, source=source)
    return delivery


def add_attempt(
    delivery: Delivery, *, status=200, body='{"status": "OK"}', outcome=Outcome.DELIVERED, **extra
) -> Attempt:
    number = delivery.attempts.count() + 1
    values = dict(
        delivery=delivery,
        number=number,
        method="POST",
        url="https://s2s.adjust.com/event",
        request_headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Bearer ••••" + ADJUST_SECURITY_TOKEN[-4:],
        },
        request_body=f"s2s=1&event_token=f0ob4r&app_token=••••{ADJUST_APP_TOKEN[-4:]}&idfa={IDFA}&callback_params=%7B%22order%22%3A%2242%22%7D",
        response_status=status,
        response_headers={"Content-Type": "application/json"},
        response_body=body,
        duration_ms=123.4,
        outcome=outcome,
        finished_at=delivery.created_at,
    )
    attempt = Attempt.objects.create(**{**values, **extra})
    final = {Outcome.DELIVERED: Status.DELIVERED, Outcome.PERMANENT: Status.FAILED}.get(
        outcome, Status.RETRYING
    )
    Delivery.objects.filter(pk=delivery.pk).update(
        status=final, attempt_count=number, last_http_status=status, last_outcome=outcome,
        last_message=attempt.mmp_message, last_explanation=attempt.explanation, last_duration_ms=123.4,
    )  # fmt: skip
    return attempt


@pytest.fixture
def delivered(adjust_app, adjust_security_token):
    delivery = make_delivery(adjust_app)
    add_attempt(delivery)
    delivery.refresh_from_db()
    return delivery


# --- Who may ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, delivered):
    attempt = delivered.attempts.get()
    for url in (
        reverse("delivery", args=[delivered.pk]),
        reverse("delivery_status", args=[delivered.pk]),
        reverse("delivery_clone", args=[delivered.pk]),
        reverse("attempt_response", args=[attempt.pk]),
    ):
        assert client.get(url).status_code == 302
    assert client.post(reverse("delivery_resend", args=[delivered.pk])).status_code == 302


def test_an_outsider_is_refused_everywhere(client_for, outsider, delivered):
    client = client_for(outsider)
    attempt = delivered.attempts.get()
    for url in (
        reverse("delivery", args=[delivered.pk]),
        reverse("delivery_status", args=[delivered.pk]),
        reverse("delivery_clone", args=[delivered.pk]),
        reverse("attempt_response", args=[attempt.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("delivery_resend", args=[delivered.pk])).status_code == 403


def test_a_viewer_reads_but_cannot_resend_or_clone(client_for, viewer, delivered, redis_conn):
    client = client_for(viewer)
    page = client.get(reverse("delivery", args=[delivered.pk])).content.decode()
    assert "Attempt 1" in page
    assert "Resend now" not in page and "Clone into the test form" not in page
    assert client.get(reverse("attempt_response", args=[delivered.attempts.get().pk])).status_code == 200
    assert client.post(reverse("delivery_resend", args=[delivered.pk])).status_code == 403
    assert client.get(reverse("delivery_clone", args=[delivered.pk])).status_code == 403
    assert Delivery.objects.count() == 1


def test_resend_rejects_get(client_for, marketer, delivered):
    assert client_for(marketer).get(reverse("delivery_resend", args=[delivered.pk])).status_code == 405


def test_the_status_fragment_and_the_page_reject_post(client_for, marketer, delivered):
    client = client_for(marketer)
    assert client.post(reverse("delivery", args=[delivered.pk])).status_code == 405
    assert client.post(reverse("delivery_status", args=[delivered.pk])).status_code == 405


def test_unknown_ids_are_404(client_for, marketer, db):
    client = client_for(marketer)
    assert client.get(reverse("delivery", args=[999999])).status_code == 404
    assert client.get(reverse("delivery_status", args=[999999])).status_code == 404
    assert client.post(reverse("delivery_resend", args=[999999])).status_code == 404
    assert client.get(reverse("delivery_clone", args=[999999])).status_code == 404
    assert client.get(reverse("attempt_response", args=[999999])).status_code == 404


# --- The page ----------------------------------------------------------------------------------


def test_the_page_shows_status_parameters_and_the_attempt(client_for, marketer, delivered):
    page = client_for(marketer).get(reverse("delivery", args=[delivered.pk])).content.decode()
    assert f"Delivery {delivered.pk}" in page
    assert 'class="badge delivered"' in page
    assert 'class="badge test"' in page  # sent from the test form
    assert IDFA in page and "f0ob4r" in page
    # The request's form body is decoded into a table, its JSON value indented.
    assert '<th scope="row">callback_params</th>' in page
    assert "&quot;order&quot;: &quot;42&quot;" in page
    assert "Bearer ••••" in page
    assert "123 ms" in page
    assert "&quot;status&quot;: &quot;OK&quot;" in page  # the JSON answer, pretty-printed
    assert ADJUST_APP_TOKEN not in page and ADJUST_SECURITY_TOKEN not in page
    # Copy as curl: the stored masks become variables.
    text = html.unescape(page)
    assert '"$ADJUST_S2S_TOKEN"' in text and "app_token='\"$ADJUST_APP_TOKEN\"'&idfa=" in text
    assert 'data-final="true"' in page


def test_an_answer_with_a_script_is_escaped(client_for, marketer, adjust_app):
    delivery = make_delivery(adjust_app)
    add_attempt(
        delivery, status=400, outcome=Outcome.PERMANENT, body=SCRIPT,
        mmp_message=SCRIPT, explanation=f"Adjust said {SCRIPT}", response_headers={"X-Evil": SCRIPT},
    )  # fmt: skip
    add_attempt(delivery, status=400, outcome=Outcome.PERMANENT, body=json.dumps({"error": SCRIPT}))
    client = client_for(marketer)
    for url in (reverse("delivery", args=[delivery.pk]), reverse("delivery_status", args=[delivery.pk])):
        page = client.get(url).content.decode()
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(&#x27;mmp&#x27;)&lt;/script&gt;" in page


def test_skadnetwork_keys_in_an_answer_are_highlighted(client_for, marketer, delivered):
    body = json.dumps(
        {"status": "OK", "skadn_conv_value": 42, "skadn_coarse_value": "high", "skadn_lock_window": 0}
    )
    add_attempt(delivered, body=body)
    page = client_for(marketer).get(reverse("delivery", args=[delivered.pk])).content.decode()
    assert "SKAdNetwork conversion value in the answer" in page
    assert '<mark class="skan">  &quot;skadn_conv_value&quot;: 42,</mark>' in page
    assert '<mark class="skan">  &quot;skadn_coarse_value&quot;: &quot;high&quot;,</mark>' in page
    assert "<dt>skadn_lock_window</dt>" in page


def test_an_answer_without_skadnetwork_keys_has_no_highlight(client_for, marketer, delivered):
    page = client_for(marketer).get(reverse("delivery", args=[delivered.pk])).content.decode()
    assert 'mark class="skan"' not in page and "SKAdNetwork conversion value" not in page


def test_a_waiting_delivery_polls_its_status_fragment(
    client_for, marketer, adjust_app, adjust_security_token
):
    delivery = make_delivery(adjust_app)
    client = client_for(marketer)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert 'data-final="false"' in page
    assert reverse("delivery_status", args=[delivery.pk]) in page
    assert "No attempt yet" in page
    # Before any attempt, copy as curl shows the request as it would be built now.
    assert '"$ADJUST_S2S_TOKEN"' in html.unescape(page)
    fragment = client.get(reverse("delivery_status", args=[delivery.pk])).content.decode()
    assert fragment.lstrip().startswith('<div id="delivery-status"') and "<html" not in fragment
    add_attempt(delivery)
    fragment = client.get(reverse("delivery_status", args=[delivery.pk])).content.decode()
    assert 'data-final="true"' in fragment and "Attempt 1" in fragment


def test_an_ambiguous_delivery_says_so(client_for, marketer, delivered):
    Delivery.objects.filter(pk=delivered.pk).update(ambiguous=True)
    page = client_for(marketer).get(reverse("delivery", args=[delivered.pk])).content.decode()
    assert "may have been recorded by the MMP" in page


def test_the_raw_answer_downloads_as_an_inert_file(client_for, viewer, adjust_app):
    delivery = make_delivery(adjust_app)
    attempt = add_attempt(delivery, body=SCRIPT)
    response = client_for(viewer).get(reverse("attempt_response", args=[attempt.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="attempt-{attempt.pk}-response.txt"'
    assert response.content == SCRIPT.encode()


# --- Resend and clone ----------------------------------------------------------------------------


def test_resend_queues_a_linked_delivery(
    client_for, marketer, delivered, redis_conn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(marketer).post(reverse("delivery_resend", args=[delivered.pk]))
    new = Delivery.objects.exclude(pk=delivered.pk).get()
    assert response["Location"] == reverse("delivery", args=[new.pk])
    assert new.resent_from == delivered and new.created_by == marketer
    assert new.params == delivered.params and new.status == Status.QUEUED
    assert send_queue().count == 1
    page = client_for(marketer).get(reverse("delivery", args=[new.pk])).content.decode()
    assert f"delivery {delivered.pk}</a>" in page  # "Resent from"
    page = client_for(marketer).get(reverse("delivery", args=[delivered.pk])).content.decode()
    assert f"delivery {new.pk}</a>" in page  # "Resent as"


def test_clone_fills_the_test_form_with_the_deliverys_input(client_for, marketer, adjust_app):
    delivery = make_delivery(
        adjust_app, token="2y7e81", revenue="4.99", currency="EUR", partner_params={"p": "v"}
    )
    page = client_for(marketer).get(reverse("delivery_clone", args=[delivery.pk])).content.decode()
    assert f'Cloned from <a href="{reverse("delivery", args=[delivery.pk])}">' in page
    assert 'id="send-form"' in page
    signup = adjust_app.event_tokens.get(token="2y7e81").pk
    assert f'<option value="{signup}" selected data-kind="event">' in page
    assert '<option value="idfa" selected data-rule="uppercase with hyphens"' in page
    assert f'name="id_value_0" value="{IDFA}"' in page
    assert 'name="callback_key_0" id="id_callback_key_0" value="order"' in page
    assert 'name="callback_value_0" id="id_callback_value_0" value="42"' in page
    assert 'name="partner_key_0" id="id_partner_key_0" value="p"' in page
    assert 'name="revenue" value="4.99"' in page
    assert '<option value="EUR" selected>' in page
    assert "The event time is set to now" in page


def test_clone_of_a_tenjin_delivery(client_for, marketer, tenjin_app):
    fields = {
        "device_ids": {"advertising_id": TENJIN_ADVERTISING_ID, "analytics_installation_id": TENJIN_INSTALLATION_ID},
        "os_version": "33", "value": "7",
    }  # fmt: skip
    delivery, _ = create_delivery(
        tenjin_app, tenjin_app.event_tokens.get(token="level_up"), fields, source=Source.CLI
    )
    page = client_for(marketer).get(reverse("delivery_clone", args=[delivery.pk])).content.decode()
    assert f'name="advertising_id" value="{TENJIN_ADVERTISING_ID}"' in page
    assert 'name="value" value="7"' in page
    assert 'name="os_version" value="33"' in page


def test_a_resend_the_guard_refuses_says_why_and_queues_nothing(client_for, marketer, delivered, redis_conn):
    # For real: Adjust accepted a newer event for this device and event token since (the order
    # guard's own ledger), so resending the older one would be rejected.
    OrderMark.objects.create(
        app=delivered.app,
        event_token=delivered.event_token,
        device_id=IDFA,
        newest_event_time=delivered.created_at + timedelta(hours=1),
    )
    response = client_for(marketer).post(reverse("delivery_resend", args=[delivered.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("delivery", args=[delivered.pk])
    assert "Not resent (created_at):" in response.content.decode()
    assert "already accepted" in response.content.decode()
    assert Delivery.objects.count() == 1
    assert send_queue().count == 0


def test_a_key_that_cannot_be_decrypted_leaves_the_page_without_a_curl_command(
    client_for, marketer, adjust_app, settings, caplog
):
    delivery = make_delivery(adjust_app)  # queued, no attempt yet: the command is built from the app
    settings.SECRETS_KEYS = [Fernet.generate_key().decode()]  # SECRETS_KEY changed, not re-encrypted
    response = client_for(marketer).get(reverse("delivery", args=[delivery.pk]))
    assert response.status_code == 200
    assert "curl " not in response.content.decode()
    assert f"No curl command for delivery {delivery.pk}: A stored secret cannot be decrypted" in caplog.text
