"""Actions that cannot hurt by accident: a production resend is confirmed like the test form; a
delivery still on its way is never copied, a retrying one is retried now instead; every change
that stops sends (or a login) asks first, and a POST without the confirmation changes nothing."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from events.engine import create_delivery, jobs, send_queue
from events.models import ApiKey, App, Delivery, EventToken, SecurityToken, Source, Status
from tests.conftest import IDFA, run_worker


def queue_adjust(app, environment="sandbox") -> Delivery:
    fields = {"device_ids": {"idfa": IDFA}, "environment": environment}
    delivery, _ = create_delivery(app, app.event_tokens.get(token="f0ob4r"), fields, source=Source.FORM)
    return delivery


def finish(delivery: Delivery, status=Status.DELIVERED) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(status=status, finished_at=timezone.now())
    delivery.refresh_from_db()
    return delivery


# --- Resend and retry now -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_retrying_delivery_is_retried_now_not_copied(emulator, adjust, client_for, marketer, settings):
    settings.SEND_BACKOFF = [3600, 3600]  # the scheduled retry would come in an hour
    emulator.script_faults(["500"])
    delivery = queue_adjust(adjust)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING and delivery.attempt_count == 1
    client = client_for(marketer)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert "Retry now" in page and "Resend now" not in page

    response = client.post(reverse("delivery_resend", args=[delivery.pk]), follow=True)
    assert f"Not resent: delivery {delivery.pk} is still retrying." in response.content.decode()
    assert Delivery.objects.count() == 1

    response = client.post(reverse("delivery_retry", args=[delivery.pk]), follow=True)
    assert f"Delivery {delivery.pk} is being retried now." in response.content.decode()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempt_count == 2
    assert Delivery.objects.count() == 1 and len(emulator.recorded_events()) == 1
    # The retry scheduled for later still exists; when it comes it finds nothing to do.
    assert len(ScheduledJobRegistry(queue=send_queue()).get_job_ids()) == 1
    assert jobs.send_deliveries([delivery.pk]) == {"skipped": 1}
    delivery.refresh_from_db()
    assert delivery.attempt_count == 2


@pytest.mark.django_db
def test_retry_now_on_a_final_delivery_changes_nothing(client_for, marketer, adjust_app, redis_conn):
    delivery = finish(queue_adjust(adjust_app), Status.FAILED)
    redis_conn.flushdb()
    response = client_for(marketer).post(reverse("delivery_retry", args=[delivery.pk]), follow=True)
    assert f"Delivery {delivery.pk} is failed, not waiting to retry." in response.content.decode()
    assert send_queue().count == 0 and Delivery.objects.get().status == Status.FAILED


@pytest.mark.django_db
def test_a_queued_delivery_offers_neither_resend_nor_retry(client_for, marketer, adjust_app, redis_conn):
    delivery = queue_adjust(adjust_app)
    client = client_for(marketer)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert "Resend now" not in page and "Retry now" not in page
    client.post(reverse("delivery_resend", args=[delivery.pk]))
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_viewers_cannot_retry(client_for, viewer, adjust_app, redis_conn):
    delivery = queue_adjust(adjust_app)
    assert client_for(viewer).post(reverse("delivery_retry", args=[delivery.pk])).status_code == 403
    assert client_for(viewer).get(reverse("delivery_retry", args=[delivery.pk])).status_code == 405


@pytest.mark.django_db
def test_a_production_resend_needs_the_box_ticked(client_for, marketer, adjust_app, redis_conn):
    delivery = finish(queue_adjust(adjust_app, environment="production"))
    client = client_for(marketer)
    page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert "Adjust&#x27;s live data again" in page and 'name="confirm_production"' in page
    url = reverse("delivery_resend", args=[delivery.pk])
    response = client.post(url, {"confirmed": "yes"}, follow=True)
    assert "Not resent: a production resend counts as real data" in response.content.decode()
    assert Delivery.objects.count() == 1
    response = client.post(url, {"confirmed": "yes", "confirm_production": "on"})
    new = Delivery.objects.exclude(pk=delivery.pk).get()
    assert new.resent_from == delivery and new.environment == "production"


@pytest.mark.django_db
def test_a_sandbox_resend_is_one_click(client_for, marketer, adjust_app, redis_conn):
    delivery = finish(queue_adjust(adjust_app))
    page = client_for(marketer).get(reverse("delivery", args=[delivery.pk])).content.decode()
    assert 'name="confirm_production"' not in page and "Resend now" in page
    client_for(marketer).post(reverse("delivery_resend", args=[delivery.pk]))
    assert Delivery.objects.filter(resent_from=delivery).count() == 1


# --- Changes that stop sends ask first ------------------------------------------------------


def stoppers(app: App, spare: SecurityToken, key: ApiKey, person):
    """(url, page that offers it, what it says will stop, still as it was?)"""
    event_token = app.event_tokens.get(token="2y7e81")
    return [
        (
            reverse("app_deactivate", args=[app.pk]),
            reverse("app_detail", args=[app.pk]),
            "its queued and retrying events stop unsent",
            lambda: App.objects.get(pk=app.pk).active,
        ),
        (
            reverse("security_token_activate", args=[app.pk, spare.pk]),
            reverse("security_tokens", args=[app.pk]),
            "It replaces the active token",
            lambda: not SecurityToken.objects.get(pk=spare.pk).active,
        ),
        (  # the token made active just above
            reverse("security_token_deactivate", args=[app.pk, spare.pk]),
            reverse("security_tokens", args=[app.pk]),
            "every event is refused with 401",
            lambda: SecurityToken.objects.get(pk=spare.pk).active,
        ),
        (
            reverse("event_token_remove", args=[app.pk, event_token.pk]),
            reverse("app_detail", args=[app.pk]),
            "the test form, the API and bulk uploads refuse it",
            lambda: EventToken.objects.filter(pk=event_token.pk).exists(),
        ),
        (
            reverse("user_deactivate", args=[person.pk]),
            reverse("users"),
            "They are signed out at once",
            lambda: type(person).objects.get(pk=person.pk).is_active,
        ),
        (
            reverse("api_key_revoke", args=[key.pk]),
            reverse("api_keys"),
            "will get 401 at once",
            lambda: ApiKey.objects.get(pk=key.pk).active,
        ),
    ]


@pytest.mark.django_db
def test_every_change_that_stops_sends_says_what_stops_and_needs_a_confirmation(
    client_for, admin, marketer, adjust_security_token
):
    from events.api import keys as apikeys

    app = adjust_security_token.app
    spare = SecurityToken.objects.create(app=app, label="spare", value="spare0token0value", active=False)
    key, _ = apikeys.create_api_key("backend", [app], user=admin)
    client = client_for(admin)
    for url, page, consequence, unchanged in stoppers(app, spare, key, marketer):
        body = client.get(page).content.decode()
        form_at = body.index(f'action="{url}"')
        assert '<details class="confirm"' in body[form_at - 400 : form_at], url
        assert consequence in body[form_at : form_at + 700], url
        response = client.post(url, follow=True)
        assert "Nothing changed: confirm first" in response.content.decode(), url
        assert unchanged(), url
        client.post(url, {"confirmed": "yes"})
        assert not unchanged(), url


# --- The test form: nothing chosen for the user, Enter never sends ----------------------------


@pytest.mark.django_db
def test_the_test_form_chooses_no_event_and_enter_previews(client_for, marketer, adjust_app, redis_conn):
    client = client_for(marketer)
    page = client.get(reverse("send"), {"app": adjust_app.pk}).content.decode()
    assert '<option value="" selected>Choose an event…</option>' in page
    form = page[page.index('id="send-form"') :]
    # The form's first submit button is the one Enter presses (HTML's implicit submission).
    first_button = form[form.index("<button") : form.index("</button>")]
    assert 'value="preview"' in first_button and 'type="submit"' in first_button
    response = client.post(
        reverse("send"),
        {
            "app": adjust_app.pk,
            "environment": "sandbox",
            "id_type_0": "idfa",
            "id_value_0": IDFA,
            "action": "send",
        },
    )
    assert "Choose the event to send." in response.content.decode()
    assert Delivery.objects.count() == 0
