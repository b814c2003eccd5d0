"""Each user picks a time zone (offered once, UTC until then): every time on every page is shown in
it with its name, and times typed into the log's filters are read in it."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from events.accounts.models import Preferences
from events.engine import create_delivery
from events.models import Delivery, Source
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"


def a_delivery(app, at: datetime) -> Delivery:
    delivery, _ = create_delivery(
        app, app.event_tokens.get(token="f0ob4r"), {"device_ids": {"idfa": IDFA}}, source=Source.CLI
    )
    Delivery.objects.filter(pk=delivery.pk).update(created_at=at)
    return delivery


def test_a_user_is_asked_once_and_then_sees_times_in_their_zone(client_for, viewer, adjust_app, redis_conn):
    delivery = a_delivery(adjust_app, datetime(2026, 11, 20, 10, 30, 5, tzinfo=UTC))
    client = client_for(viewer)
    url = reverse("delivery", args=[delivery.pk])
    page = client.get(url).content.decode()
    assert 'id="time-zone-ask"' in page and "Times are shown in UTC." in page
    assert ">2026-11-20 10:30:05 UTC</time>" in page
    response = client.post(reverse("time_zone"), {"time_zone": PARIS, "next": url}, follow=True)
    assert response.redirect_chain[-1][0] == url
    page = response.content.decode()
    assert f"Times are now shown in {PARIS}." in page and 'id="time-zone-ask"' not in page
    assert ">2026-11-20 11:30:05 CET</time>" in page
    assert Preferences.objects.get(user=viewer).time_zone == PARIS


def test_keeping_utc_is_a_choice_too(client_for, viewer):
    client = client_for(viewer)
    client.post(reverse("time_zone"), {"time_zone": "UTC"})
    assert 'id="time-zone-ask"' not in client.get(reverse("overview")).content.decode()


def test_the_log_reads_typed_times_in_the_users_zone_and_says_so(client_for, viewer, adjust_app, redis_conn):
    delivery = a_delivery(adjust_app, datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
    Preferences.objects.create(user=viewer, time_zone=PARIS)
    client = client_for(viewer)
    page = client.get(f"{reverse('log')}?since=2026-11-20T11:15").content.decode()  # 10:15 UTC
    assert f"From ({PARIS})" in page and f"/deliveries/{delivery.pk}/" in page
    page = client.get(f"{reverse('log')}?since=2026-11-20T11:45").content.decode()  # 10:45 UTC
    assert f"/deliveries/{delivery.pk}/" not in page


def test_an_unknown_zone_or_a_foreign_next_is_refused(client_for, viewer):
    client = client_for(viewer)
    response = client.post(reverse("time_zone"), {"time_zone": "Mars/Olympus"}, follow=True)
    assert "Choose a time zone from the list." in response.content.decode()
    assert not Preferences.objects.exists()
    response = client.post(reverse("time_zone"), {"time_zone": PARIS, "next": "https://evil.example/"})
    assert response["Location"] == reverse("overview")


def test_the_time_zone_page_lists_the_zones_with_the_current_one_chosen(client_for, viewer):
    Preferences.objects.create(user=viewer, time_zone=PARIS)
    page = client_for(viewer).get(reverse("time_zone")).content.decode()
    assert f'<option value="{PARIS}" selected>' in page and '<option value="Asia/Tokyo">' in page
