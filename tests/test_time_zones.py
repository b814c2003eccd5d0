"""Each user picks a time zone (offered once, UTC until then): every time on every page is shown in
it with its name, and times typed into the log's filters are read in it."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from events.accounts.models import Preferences
from events.engine import create_delivery
from events.forms.log import LogFilterForm
from events.log import query as log_query
from events.models import Delivery, Source, Status
from events.reporting import figures, rollups
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


# --- The overview's bars in the reader's zone ---------------------------------------------------

KOLKATA = "Asia/Kolkata"  # UTC+05:30: its midnight falls inside a UTC hour
# Fixed moments: the 30 days before the first cross the end of summer time in Paris (Oct 25).
AFTER_SUMMER_TIME = datetime(2026, 11, 10, 10, 20, tzinfo=UTC)
LATE_NOVEMBER = datetime(2026, 11, 30, 10, 20, tzinfo=UTC)


def rolled_up(app, at: datetime) -> Delivery:
    """A delivered delivery, its step in the overview's hourly rollups as the engine records it."""
    delivery = Delivery.objects.create(
        app=app, event_token=app.event_tokens.first(), source=Source.API, environment="sandbox",
        device_id_type="idfa", device_id=IDFA, status=Status.DELIVERED, last_duration_ms=10, created_at=at,
    )  # fmt: skip
    rollups.record_attempts([rollups.step(delivery, Status.DELIVERED, sent=True, duration_ms=10)])
    return delivery


@pytest.mark.parametrize("now", [AFTER_SUMMER_TIME, LATE_NOVEMBER])
def test_daily_and_six_hour_bars_start_at_the_readers_midnight(now):
    paris = ZoneInfo(PARIS)
    days = figures.preset("30d", now, paris).boundaries()
    assert len(days) == 32  # 31 bars: the day 30 days ago, from its midnight, to today
    assert {moment.astimezone(paris).time() for moment in days[:-1]} == {time(0)}
    assert days[-1] == datetime(now.year, now.month, now.day, 11, tzinfo=UTC)  # the current hour's end
    quarters = figures.preset("7d", now, paris).boundaries()
    assert {(m.astimezone(paris).hour, m.minute) for m in quarters[:-1]} == {(0, 0), (6, 0), (12, 0), (18, 0)}


def test_off_the_hour_a_day_starts_with_the_rollup_hour_that_holds_midnight():
    kolkata = ZoneInfo(KOLKATA)
    span = figures.preset("30d", LATE_NOVEMBER, kolkata)
    assert span.off_the_hour
    assert {moment.astimezone(kolkata).time() for moment in span.boundaries()[:-1]} == {time(23, 30)}
    # A moment just after local midnight (18:40 UTC) and one just before (18:20) share a bar.
    after = figures.bar_start(datetime(2026, 11, 20, 18, 40, tzinfo=UTC), kolkata, timedelta(days=1))
    before = figures.bar_start(datetime(2026, 11, 20, 18, 20, tzinfo=UTC), kolkata, timedelta(days=1))
    assert after == before == datetime(2026, 11, 20, 18, tzinfo=UTC)


def test_the_overview_counts_a_day_from_the_readers_midnight_and_its_links_agree(
    client_for, viewer, adjust_app
):
    """A delivery at 23:30 UTC is the next day in Paris: its bar is that day's, and the bar's link,
    read in Paris time as the log reads it, lists it."""
    yesterday = timezone.now().astimezone(UTC).date() - timedelta(days=2)
    late = rolled_up(adjust_app, datetime.combine(yesterday, time(23, 30), tzinfo=UTC))
    Preferences.objects.create(user=viewer, time_zone=PARIS)
    paris = ZoneInfo(PARIS)
    with timezone.override(paris):
        report = figures.report(figures.preset("30d", timezone.now(), paris))
        (bar,) = [bar for bar in report.bars if bar.figures.sends]
        assert bar.start.astimezone(paris) == datetime.combine(
            yesterday + timedelta(days=1), time(0), tzinfo=paris
        )
        form = LogFilterForm(QueryDict(figures.log_url(bar.figures.filters).split("?", 1)[1]))
        assert [d.pk for d in log_query.filtered(form.filters())] == [late.pk]
    page = client_for(viewer).get(f"{reverse('overview')}?range=30d").content.decode()
    assert f"one bar per day ({PARIS}, from midnight)" in page
    assert f"From ({PARIS})" in page and f"Until ({PARIS})" in page
    # The bar's tooltip gives its local start and names the zone; nothing on the page says UTC.
    assert f"{bar.start.astimezone(paris):%b %-d}, 00:00–" in page
    assert " UTC" not in re.sub(r"<select.*?</select>", "", page, flags=re.S)


def test_hour_labels_show_local_hours_and_an_off_the_hour_zone_is_explained(client_for, viewer):
    Preferences.objects.create(user=viewer, time_zone=KOLKATA)
    page = client_for(viewer).get(f"{reverse('overview')}?range=24h").content.decode()
    labels = re.findall(
        r'<text class="axis" x="[^"]+" y="[^"]+" text-anchor="(?:start|middle|end)">([^<]+)</text>', page
    )
    assert len(labels) == 3 and all(label.endswith(":30") for label in labels), labels
    assert 'id="zone-off-the-hour"' in page and "counts are kept per UTC hour" in page
    week = client_for(viewer).get(f"{reverse('overview')}?range=30d").content.decode()
    assert "each bar starts with the hour that contains your midnight, at 23:30 your time" in week


def test_a_paused_host_says_until_when_in_the_readers_zone(client_for, viewer, redis_conn):
    import json

    from events.engine import limits

    until = (timezone.now() + timedelta(minutes=2)).replace(microsecond=0)
    redis_conn.set(
        limits.PAUSE_KEY + "s2s.adjust.com",
        json.dumps({"host": "s2s.adjust.com", "until": until.timestamp(), "reason": "20 failures in a row."}),
    )
    Preferences.objects.create(user=viewer, time_zone=PARIS)
    page = client_for(viewer).get(reverse("overview")).content.decode()
    local = until.astimezone(ZoneInfo(PARIS))
    assert "are paused until <time" in page
    assert f">{local:%Y-%m-%d %H:%M:%S} {local.tzname()}</time>: 20 failures in a row." in page
