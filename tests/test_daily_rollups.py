"""Daily rollups and the rollups' own retention: ranges of many days read their whole UTC days
from the daily rows and only the partial days at either end from the hourly rows, and the figures
stay exactly what a recount of the delivery rows says, overall, per app, per MMP, per bar and in
the latency histogram; hourly rows go after ROLLUP_RETENTION_DAYS (whole days), daily ones after
ROLLUP_DAILY_RETENTION_DAYS, within the retention run's time limit; a range reaching past the
hourly rows is read in whole days. (tests/test_rollups.py checks the engine's own writes.)"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.engine import retention
from events.models import Delivery, Source, Status
from events.reporting import figures, rollups
from events.reporting.models import DailyLatencyRollup, DailyOutcomeRollup, LatencyRollup, OutcomeRollup
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 10, 20, tzinfo=UTC)
RETRY_MS = 10_000.0
OUTCOMES = [  # (status, latency ms, reason): the deliveries cycle through these
    (Status.DELIVERED, 90.0, ""),
    (Status.DELIVERED, 240.0, ""),
    (Status.FAILED, 45.0, "Device not found"),
    (Status.DEAD, 3100.0, "Service unavailable"),
    (Status.DELIVERED, 700.0, ""),
]


def make(app, created_at: datetime, index: int, *, source: str = Source.API) -> Delivery:
    """A finished delivery and its steps in the rollups as the engine records them; every other
    one was retried once first (an attempt that counts no delivery)."""
    status, ms, reason = OUTCOMES[index % len(OUTCOMES)]
    retried = index % 2 == 0
    delivery = Delivery.objects.create(
        app=app, event_token=app.event_tokens.first(), source=source, environment="sandbox",
        device_id_type="idfa", device_id=IDFA, status=status, last_duration_ms=ms + index % 7,
        last_message=reason, created_at=created_at, attempt_count=2 if retried else 1,
    )  # fmt: skip
    steps = (
        [rollups.step(delivery, Status.RETRYING, reason="timeout", duration_ms=RETRY_MS)] if retried else []
    )
    steps.append(rollups.step(delivery, status, reason=reason, duration_ms=delivery.last_duration_ms))
    rollups.record_attempts(steps)
    return delivery


def fill(apps, start: datetime, end: datetime, every: timedelta = timedelta(hours=7)) -> int:
    """Deliveries from start to end, every `every` (minutes apart), across the apps, some test traffic."""
    moment, index = start, 0
    while moment < end:
        source = Source.FORM if index % 11 == 0 else Source.API
        make(apps[index % len(apps)], moment + timedelta(minutes=index % 50), index, source=source)
        moment += every
        index += 1
    return index


def recount(start: datetime, end: datetime, **scope) -> dict:
    """The figures as the delivery rows of [start, end) tell them."""
    rows = list(Delivery.objects.filter(created_at__gte=start, created_at__lt=end, **scope))
    latency = [0] * (len(rollups.BOUNDS) + 1)
    for row in rows:
        latency[rollups.bucket_of(row.last_duration_ms)] += 1
        latency[rollups.bucket_of(RETRY_MS)] += row.attempt_count - 1
    return {
        "sends": len(rows),
        "delivered": sum(row.status == Status.DELIVERED for row in rows),
        "failed": sum(row.status in (Status.FAILED, Status.DEAD) for row in rows),
        "retries": sum(row.attempt_count - 1 for row in rows),
        "reasons": Counter(row.last_message for row in rows if row.status != Status.DELIVERED),
        "latency": latency,
    }


def counted(f: figures.Figures) -> dict:
    return {
        "sends": f.sends,
        "delivered": f.delivered,
        "failed": f.failed,
        "retries": f.retries,
        "reasons": Counter(f.reasons),
        "latency": f.latency,
    }


def assert_exact(report: figures.Report) -> None:
    """Every figure of the report against a recount of the rows: overall, per app, per MMP, per bar."""
    span = report.range
    assert counted(report.overall) == recount(span.start, span.end)
    for app, f in report.by_app:
        assert counted(f) == recount(span.start, span.end, app=app)
    for provider, _, f in report.by_mmp:
        assert counted(f) == recount(span.start, span.end, app__provider=provider)
    for bar in report.bars:
        expected = recount(bar.start, bar.end)
        assert (bar.figures.delivered, bar.figures.failed) == (expected["delivered"], expected["failed"]), bar
    assert [b.start for b in report.bars] == sorted({b.start for b in report.bars})
    assert report.bars[0].start == span.start and report.bars[-1].end == span.end
    assert all(a.end == b.start for a, b in zip(report.bars, report.bars[1:], strict=False))


def test_the_daily_rows_are_the_hourly_rows_added_up_by_utc_day(adjust_app):
    late = datetime(2026, 11, 28, 23, 59, tzinfo=UTC)
    for index, moment in enumerate([late, late + timedelta(minutes=2), late + timedelta(hours=1)]):
        make(adjust_app, moment, index * 5)  # delivered; the first and last retried once
    days = {
        row.day: (row.deliveries, row.attempts)
        for row in DailyOutcomeRollup.objects.filter(status="delivered")
    }
    assert days == {late.date(): (1, 1), late.date() + timedelta(days=1): (2, 2)}
    retries = DailyOutcomeRollup.objects.get(status="retrying", day=late.date())
    assert (retries.deliveries, retries.attempts) == (0, 1)
    for hourly, daily in ((OutcomeRollup, DailyOutcomeRollup), (LatencyRollup, DailyLatencyRollup)):
        by_day, days = Counter(), Counter()
        for row in hourly.objects.all():
            by_day[rollups.day_of(row.hour)] += row.attempts
        for row in daily.objects.all():
            days[row.day] += row.attempts
        assert by_day == days


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (NOW - timedelta(days=45, hours=3), NOW - timedelta(days=2, hours=5)),  # partial days at both ends
        (datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 10, 23, 30, tzinfo=UTC)),  # whole days
        (NOW - timedelta(hours=30), NOW - timedelta(hours=3)),  # no whole day: hours only
    ],
)
def test_a_custom_range_is_exact_against_a_recount(adjust_app, tenjin_app, since, until):
    fill([adjust_app, tenjin_app, adjust_app], NOW - timedelta(days=60), NOW)
    report = figures.report(figures.custom(since, until, now=NOW))
    assert report.overall.sends > 0
    assert_exact(report)


@pytest.mark.parametrize("key", ["24h", "7d", "30d"])
def test_each_preset_is_exact_against_a_recount(adjust_app, tenjin_app, key):
    fill([adjust_app, tenjin_app], NOW - timedelta(days=40), NOW)
    assert_exact(figures.report(figures.preset(key, NOW)))


def test_test_traffic_one_app_and_one_mmp_are_exact_too(adjust_app, tenjin_app):
    fill([adjust_app, tenjin_app], NOW - timedelta(days=40), NOW)
    span = figures.preset("30d", NOW)
    without_tests = figures.report(span, include_tests=False).overall
    assert counted(without_tests) == recount(span.start, span.end, source=Source.API)
    one_app = figures.report(span, app=tenjin_app).overall
    assert counted(one_app) == recount(span.start, span.end, app=tenjin_app)
    one_mmp = figures.report(span, mmp="adjust").overall
    assert counted(one_mmp) == recount(span.start, span.end, app__provider="adjust")


def test_thirty_days_read_the_daily_rows_and_the_hours_of_the_edge_days_only(adjust_app):
    fill([adjust_app], NOW - timedelta(days=40), NOW)
    # A custom range (a preset's bars start at the reader's midnight: no partial first day).
    span = figures.custom(NOW - timedelta(days=30), NOW, now=NOW)
    assert span.start.hour == NOW.hour
    split = figures.Split.of(span.start, span.end)
    assert split.days == (span.start.date() + timedelta(days=1), NOW.date())
    assert split.hours == [
        (span.start, datetime.combine(split.days[0], datetime.min.time(), tzinfo=UTC)),
        (datetime.combine(NOW.date(), datetime.min.time(), tzinfo=UTC), span.end),
    ]
    with CaptureQueriesContext(connection) as queries:
        figures.report(span)
    hourly = [
        q["sql"] for q in queries if "events_outcomerollup" in q["sql"] or "events_latencyrollup" in q["sql"]
    ]
    daily = [q["sql"] for q in queries if "events_daily" in q["sql"]]
    assert len(daily) == 3  # outcomes, latencies, bars
    assert len(hourly) == 3 and all(" OR " in sql for sql in hourly)  # the two edges' hours only


def test_day_bars_are_utc_days(adjust_app):
    span = figures.custom(NOW - timedelta(days=30), NOW, now=NOW)
    report = figures.report(span)
    assert len(report.bars) == 31  # the partial first and last days and the 29 between
    assert all(bar.start.hour == 0 for bar in report.bars[1:])
    assert report.bars[-1].start == datetime(2026, 11, 30, tzinfo=UTC) and report.bars[-1].end == span.end


def test_the_retention_purge_leaves_the_figures_as_they_were(adjust_app, tenjin_app):
    fill([adjust_app, tenjin_app], NOW - timedelta(days=40), NOW)
    span = figures.preset("30d", NOW)
    before = figures.report(span)
    assert_exact(before)
    rows = Delivery.objects.count()
    assert retention.purge(days=0, now=NOW).deliveries == rows > 0
    assert not Delivery.objects.exists()
    after = figures.report(span)
    assert counted(after.overall) == counted(before.overall)
    assert [counted(b.figures) for b in after.bars] == [counted(b.figures) for b in before.bars]


# --- The rollups' own retention -----------------------------------------------------------------


def test_hourly_rows_go_in_whole_days_after_their_retention_and_daily_ones_later(adjust_app, settings):
    settings.ROLLUP_RETENTION_DAYS, settings.ROLLUP_DAILY_RETENTION_DAYS = 10, 30
    fill([adjust_app], NOW - timedelta(days=40), NOW, every=timedelta(hours=5))
    hours_kept, days_kept = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC).date()
    assert rollups.hourly_kept_since(NOW) == hours_kept and rollups.daily_kept_since(NOW) == days_kept
    assert OutcomeRollup.objects.filter(hour__lt=hours_kept).exists()
    assert DailyOutcomeRollup.objects.filter(day__lt=days_kept).exists()
    kept_days = {
        model: sorted(model.objects.filter(day__gte=days_kept).values_list("day", "attempts"))
        for model in (DailyOutcomeRollup, DailyLatencyRollup)
    }
    purged = retention.purge(now=NOW)  # RETENTION_DAYS (90) keeps every delivery
    assert purged.finished and purged.deliveries == 0 and purged.rollup_rows > 0
    assert f"with {purged.rollup_rows} rollup rows past their own retention" in str(purged)
    for model in (OutcomeRollup, LatencyRollup):  # rows every 5 hours: the first of the first day kept
        assert hours_kept <= model.objects.earliest("hour").hour < hours_kept + timedelta(hours=5)
    assert DailyOutcomeRollup.objects.earliest("day").day == days_kept
    assert DailyLatencyRollup.objects.earliest("day").day == days_kept
    for model, expected in kept_days.items():  # the kept days untouched
        assert sorted(model.objects.values_list("day", "attempts")) == expected
    # The last 7 days and 30 days (their start day read whole: its hours are gone) stay exact.
    assert_exact(figures.report(figures.preset("7d", NOW)))
    month = figures.preset("30d", NOW)
    assert month.whole_days and month.start == datetime(2026, 10, 31, tzinfo=UTC)
    assert_exact(figures.report(month))


def test_a_range_before_the_hourly_rows_is_read_in_whole_days(adjust_app, settings):
    settings.ROLLUP_RETENTION_DAYS = 10
    fill([adjust_app], NOW - timedelta(days=40), NOW, every=timedelta(hours=3))
    retention.purge(now=NOW)
    span = figures.custom(NOW - timedelta(days=25, hours=5), NOW - timedelta(days=23, hours=7), now=NOW)
    assert span.whole_days and span.bucket == timedelta(days=1)
    assert (span.start, span.end) == (datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC))
    assert span.label == "2026-11-05 00:00 to 2026-11-08 00:00 UTC"
    report = figures.report(span)
    assert report.overall.sends == 24  # every 3 hours for 3 days
    assert_exact(report)


def test_the_rollup_purge_keeps_to_the_time_limit_and_the_next_run_goes_on(adjust_app, settings):
    settings.ROLLUP_RETENTION_DAYS = 3
    fill([adjust_app], NOW - timedelta(days=8), NOW, every=timedelta(hours=2))
    first = retention.purge(now=NOW, batch_size=5, max_seconds=0)
    assert not first.finished and first.rollup_rows == 5
    while not (run := retention.purge(now=NOW, batch_size=5, max_seconds=0)).finished:
        assert 1 <= run.rollup_rows <= 5
    assert not OutcomeRollup.objects.filter(hour__lt=rollups.hourly_kept_since(NOW)).exists()
    assert not LatencyRollup.objects.filter(hour__lt=rollups.hourly_kept_since(NOW)).exists()


def test_the_rollup_retention_settings_are_checked(settings):
    settings.ROLLUP_RETENTION_DAYS, settings.ROLLUP_DAILY_RETENTION_DAYS = 40, 30
    assert "events.E020" in [problem.id for problem in run_checks()]
    settings.ROLLUP_RETENTION_DAYS = 0
    assert "events.E020" in [problem.id for problem in run_checks()]
    settings.ROLLUP_RETENTION_DAYS = 30
    assert "events.E020" not in [problem.id for problem in run_checks()]


def test_a_reader_in_another_zone_gets_local_days_from_the_hours_and_utc_days_past_them(adjust_app, settings):
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    settings.ROLLUP_RETENTION_DAYS = 35
    fill([adjust_app], NOW - timedelta(days=60), NOW, every=timedelta(hours=3))
    retention.purge(now=NOW)
    # 30 days kept by the hour: bars from Paris midnight, added up from the hourly rows.
    span = figures.preset("30d", NOW, paris)
    assert not span.whole_days and not span.bars_are_utc_days
    report = figures.report(span)
    assert all(bar.start.astimezone(paris).hour == 0 for bar in report.bars)
    assert_exact(report)
    # Reaching past the hours kept: whole UTC days, whatever the zone, and the label says which.
    older = figures.custom(NOW - timedelta(days=50), NOW - timedelta(days=40), paris, now=NOW)
    assert older.whole_days and older.bars_are_utc_days
    report = figures.report(older)
    assert all(bar.start.hour == 0 and bar.start.tzinfo == UTC for bar in report.bars)
    assert_exact(report)
