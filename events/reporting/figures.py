"""The overview's figures for a time range, read from the hourly and daily rollups (rollups.py).

A range is whole hours of delivery creation, like the rollups: "last 24 hours" at 10:20 is 10:00
yesterday to 11:00 today. Each figure carries the request-log filters that list exactly the
deliveries it counts (`log_filters`), so the page can link every number to the log.

Its whole UTC days are read from the daily rows and only the hours of the partial days at its two
ends from the hourly rows (`Split`): the 30 days' figures read about 30 rows per app and key
instead of 720. The latency histogram is added up the same way, so the percentiles cover the
whole window. Bars of a day are UTC days (the first and last ones partial); bars of an hour or six
are read from the hourly rows, whose ranges are ten days at most. A range reaching back past
the hourly rows' retention is read in whole days only (`preset`, `custom`).

Cost: a few grouped reads of the rollups and one of the deliveries still in flight, through the
status index. None grows with the number of deliveries, only with the range's days and the apps.
"""

import itertools
import math
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property, lru_cache
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.urls import get_script_prefix, reverse

from events.models import App, Delivery, Provider, Source, Status
from events.reporting.models import DailyLatencyRollup, DailyOutcomeRollup, LatencyRollup, OutcomeRollup
from events.reporting.rollups import BOUNDS, hour_of, hourly_kept_since

TOP_REASONS = 5
IN_FLIGHT = (Status.QUEUED, Status.SENDING, Status.RETRYING)
NO_ANSWER = "(no answer from the MMP)"
LOG_TIME = "%Y-%m-%dT%H:%M"


def log_url(filters: dict[str, str], **more: str) -> str:
    """The request log filtered to these deliveries."""
    return _log_path(get_script_prefix()) + "?" + urlencode({**filters, **more})


@lru_cache(maxsize=8)
def _log_path(script_prefix: str) -> str:
    # The overview makes hundreds of these links (four per bar): the path is reversed once per
    # script prefix (the one reverse() reads now), not for each.
    return reverse("log")


@dataclass(frozen=True)
class Range:
    key: str  # 1h, 24h, 7d, 30d or custom
    label: str
    start: datetime  # on the hour, UTC
    end: datetime  # on the hour, exclusive
    # The reader's zone: bars of six hours and of a day start at its midnight (see boundaries()),
    # and the log links read their times in it, as the log's form does.
    zone: tzinfo = UTC
    whole_days: bool = False  # read from the daily rows alone: start and end at midnight UTC

    @property
    def bucket(self) -> timedelta:
        """The chart's bar: an hour up to two days, six hours up to ten, then a day."""
        if self.whole_days:
            return timedelta(days=1)
        return bucket_for(self.end - self.start)

    def boundaries(self) -> list[datetime]:
        """Where the bars start (UTC, on the hour), and the range's end last.

        Hourly bars are the rollups' UTC hours. Bars of six hours and of a day start at the
        reader's midnight (and 06:00, 12:00, 18:00): the rollups count whole UTC hours, so in a
        zone whose offset is not a whole number of hours (Asia/Kolkata, +05:30) a bar starts with
        the rollup hour that contains that local time (23:30 for midnight there); the page says so.
        """
        if self.whole_days:  # the daily rows' own days, whatever the reader's zone (the page says so)
            days = (self.end - self.start).days
            return [self.start + timedelta(days=d) for d in range(days)] + [self.end]
        if self.bucket == timedelta(hours=1):
            hours = int((self.end - self.start).total_seconds() // 3600)
            return [self.start + timedelta(hours=h) for h in range(hours)] + [self.end]
        step = int(self.bucket.total_seconds() // 3600)
        starts = [self.start]
        local = self.start.astimezone(self.zone)
        day, hour = local.date(), local.hour - local.hour % step
        while True:
            hour += step
            if hour >= 24:
                day, hour = day + timedelta(days=1), 0
            moment = hour_of(datetime.combine(day, time(hour), tzinfo=self.zone))
            if moment >= self.end:
                return [*starts, self.end]
            if moment > starts[-1]:
                starts.append(moment)

    @property
    def off_the_hour(self) -> bool:
        """Whether the zone's offset at the range's start is not a whole number of hours."""
        offset = self.start.astimezone(self.zone).utcoffset() or timedelta()
        return offset % timedelta(hours=1) != timedelta()

    @cached_property
    def bars_are_utc_days(self) -> bool:
        """Whether each bar but the first and last is a whole UTC day (a reader in UTC, or a range
        read in whole days): those bars add up the daily rows, the others the hourly ones."""
        inner = self.boundaries()[1:-1]
        return self.bucket == timedelta(days=1) and all(moment == midnight(moment) for moment in inner)

    def log_filters(self, start: datetime | None = None, end: datetime | None = None) -> dict[str, str]:
        start, end = max(start or self.start, self.start), min(end or self.end, self.end)
        # In the reader's zone: the log's form reads typed times in it.
        return {
            "since": f"{start.astimezone(self.zone):{LOG_TIME}}",
            "until": f"{end.astimezone(self.zone):{LOG_TIME}}",
        }


def bucket_for(span: timedelta) -> timedelta:
    if span <= timedelta(days=2):
        return timedelta(hours=1)
    return timedelta(hours=6) if span <= timedelta(days=10) else timedelta(days=1)


def bar_start(moment: datetime, zone: tzinfo, bucket: timedelta) -> datetime:
    """The start of the bar `moment` falls in: its rollup hour, or the rollup hour holding the
    local midnight (or 06:00, 12:00, 18:00) at or before the end of that hour."""
    hour = hour_of(moment)
    if bucket <= timedelta(hours=1):
        return hour
    step = int(bucket.total_seconds() // 3600)
    # A local boundary inside this rollup hour (23:30 UTC+05:30 ...) starts its bar here.
    local = (hour + timedelta(minutes=59, seconds=59)).astimezone(zone)
    return hour_of(datetime.combine(local.date(), time(local.hour - local.hour % step), tzinfo=zone))


PRESETS = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}
MAX_CUSTOM = timedelta(days=400)


def preset(key: str, now: datetime, zone: tzinfo = UTC) -> Range:
    """The last hour, day, week or month; with bars of six hours or a day, from the start of the
    reader's bar it begins in, so that no bar is cut."""
    label, span = PRESETS[key]
    end = hour_of(now) + timedelta(hours=1)
    return _readable(Range(key, label, bar_start(now - span, zone, bucket_for(span)), end, zone=zone), now)


def custom(since: datetime, until: datetime, zone: tzinfo = UTC, now: datetime | None = None) -> Range:
    """Whole hours from `since` to `until` (the hour it falls in included), at most MAX_CUSTOM."""
    start = hour_of(since)
    end = min(hour_of(until) + timedelta(hours=1), start + MAX_CUSTOM)
    span = _readable(Range("custom", "", start, end, zone=zone), now or datetime.now(UTC))
    local_start, local_end = span.start.astimezone(zone), span.end.astimezone(zone)
    label = f"{local_start:%Y-%m-%d %H:%M} to {local_end:%Y-%m-%d %H:%M} {local_end.tzname()}"
    return Range("custom", label, span.start, span.end, zone=zone, whole_days=span.whole_days)


def _readable(span: Range, now: datetime) -> Range:
    """The range, or its whole UTC days when it starts before the hourly rows kept (the daily
    rows are kept longer): figures of hours already purged would read as nothing."""
    if span.start >= hourly_kept_since(now):
        return span
    start = midnight(span.start)
    end = midnight(span.end) if span.end == midnight(span.end) else midnight(span.end) + timedelta(days=1)
    return Range(span.key, span.label, start, end, zone=span.zone, whole_days=True)


def midnight(moment: datetime) -> datetime:
    """The start of the UTC day `moment` falls on."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


@dataclass(frozen=True)
class Split:
    """A range as the rollups store it: whole UTC days [first_day, last_day) from the daily rows,
    and the hours of the partial days at either end from the hourly rows."""

    days: tuple[date, date] | None
    hours: list[tuple[datetime, datetime]]

    @classmethod
    def of(cls, start: datetime, end: datetime) -> "Split":
        first = midnight(start) if start == midnight(start) else midnight(start) + timedelta(days=1)
        last = midnight(end)
        if first >= last:
            return cls(None, [(start, end)] if start < end else [])
        hours = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
        return cls((first.date(), last.date()), hours)

    def hourly(self, model) -> QuerySet:
        q = Q()
        for start, end in self.hours:
            q |= Q(hour__gte=start, hour__lt=end)
        return model.objects.filter(q) if self.hours else model.objects.none()

    def daily(self, model) -> QuerySet:
        if self.days is None:
            return model.objects.none()
        return model.objects.filter(day__gte=self.days[0], day__lt=self.days[1])


@dataclass
class Figures:
    delivered: int = 0
    failed: int = 0  # failed or dead
    in_flight: int = 0
    retries: int = 0  # attempts that led to another try
    latency: list[int] = field(default_factory=lambda: [0] * (len(BOUNDS) + 1))
    reasons: Counter[str] = field(default_factory=Counter)
    filters: dict[str, str] = field(default_factory=dict)  # the log filters that list these

    @property
    def sends(self) -> int:
        return self.delivered + self.failed + self.in_flight

    @property
    def success_rate(self) -> float | None:
        """Delivered among the finished ones, in percent; None before any has finished."""
        finished = self.delivered + self.failed
        return 100 * self.delivered / finished if finished else None

    @property
    def p50(self) -> float | None:
        return percentile(self.latency, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latency, 95)

    def top_reasons(self, n: int = TOP_REASONS) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))[:n]

    def reason_links(self, n: int = TOP_REASONS) -> list[tuple[str, int, str]]:
        """(reason, deliveries, the log of failed or dead deliveries with these words)."""
        return [
            (
                reason,
                count,
                log_url(
                    self.filters, status="unsuccessful", **({"q": reason} if reason != NO_ANSWER else {})
                ),
            )
            for reason, count in self.top_reasons(n)
        ]

    @cached_property  # read many times by the template, once the figures are complete
    def links(self) -> dict[str, str]:
        """The log of these deliveries: all of them, and those of each status group."""
        return {
            "all": log_url(self.filters),
            "delivered": log_url(self.filters, status="delivered"),
            "unsuccessful": log_url(self.filters, status="unsuccessful"),
            "in_flight": log_url(self.filters, status="in_flight"),
        }

    def add(self, status: str, reason: str, deliveries: int, attempts: int) -> None:
        if status == Status.DELIVERED:
            self.delivered += deliveries
        elif status in (Status.FAILED, Status.DEAD):
            self.failed += deliveries
            if deliveries:
                self.reasons[reason] += deliveries
        elif status == Status.RETRYING:
            self.retries += attempts


@dataclass
class Bar:
    start: datetime
    end: datetime
    figures: Figures


@dataclass
class Report:
    range: Range
    overall: Figures
    by_mmp: list[tuple[str, str, Figures]]  # (provider, its label, figures)
    by_app: list[tuple[App, Figures]]  # busiest first
    bars: list[Bar]


def percentile(histogram: list[int], p: float) -> float | None:
    """The nearest-rank percentile, read as the upper bound of its bucket (inf past the last)."""
    total = sum(histogram)
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return float(BOUNDS[index]) if index < len(BOUNDS) else math.inf
    return math.inf  # not reached: the counts add up to total


def report(span: Range, *, include_tests: bool = True, app: App | None = None, mmp: str = "") -> Report:
    """The range's figures overall, per MMP, per app and per bar of the chart."""
    scope = {}
    base = span.log_filters()  # the log filters of the same deliveries
    if not include_tests:
        scope["test"], base["tests"] = False, "exclude"
    if app is not None:
        scope["app"], base["app"] = app, str(app.pk)
    if mmp:
        scope["provider"], base["mmp"] = mmp, mmp
    apps = App.objects.in_bulk()
    overall = Figures(filters=base)
    per_app = defaultdict(Figures)
    per_mmp = defaultdict(Figures)
    bars = _bars(span, base)
    _add_rollups(scope, span, overall, per_app, per_mmp, bars)
    for app_id, hour, n in _in_flight(span, include_tests, app, mmp):
        for figures in (
            overall,
            per_app[app_id],
            per_mmp[apps[app_id].provider],
            _bar_at(bars, hour).figures,
        ):
            figures.in_flight += n
    for app_id, figures in per_app.items():
        figures.filters = {**base, "app": str(app_id)}
    for provider, figures in per_mmp.items():
        figures.filters = {**base, "mmp": provider}
    by_app = sorted(
        ((apps[pk], f) for pk, f in per_app.items() if pk in apps),
        key=lambda pair: (-pair[1].sends, pair[0].name),
    )
    labels = dict(Provider.choices)
    by_mmp = [(p, labels.get(p, p), f) for p, f in sorted(per_mmp.items(), key=lambda i: -i[1].sends)]
    return Report(span, overall, by_mmp, by_app, list(bars.values()))


def _add_rollups(
    scope: dict, span: Range, overall: Figures, per_app: dict, per_mmp: dict, bars: dict
) -> None:
    """Outcomes and latencies per app and MMP, outcomes per bar: each read from the daily rows
    for the range's whole days and from the hourly rows for the rest."""
    split = Split.of(span.start, span.end)
    outcomes = [split.daily(DailyOutcomeRollup), split.hourly(OutcomeRollup)]
    latencies = [split.daily(DailyLatencyRollup), split.hourly(LatencyRollup)]
    for rows in outcomes:
        grouped = rows.filter(**scope).values("app_id", "provider", "status", "reason")
        for row in grouped.annotate(d=Sum("deliveries"), a=Sum("attempts")).order_by():
            reason = row["reason"] or NO_ANSWER
            for figures in (overall, per_app[row["app_id"]], per_mmp[row["provider"]]):
                figures.add(row["status"], reason, row["d"], row["a"])
    for rows in latencies:
        grouped = rows.filter(**scope).values("app_id", "provider", "bucket")
        for row in grouped.annotate(n=Sum("attempts")).order_by():
            for figures in (overall, per_app[row["app_id"]], per_mmp[row["provider"]]):
                figures.latency[row["bucket"]] += row["n"]
    # Bars of a day add up daily rows; shorter ones need the hours (ranges of ten days at most).
    hours_only = [Split(None, [(span.start, span.end)]).hourly(OutcomeRollup)]
    for rows in outcomes if span.bars_are_utc_days else hours_only:
        daily = rows.model is DailyOutcomeRollup
        grouped = rows.filter(**scope).values_list("day" if daily else "hour", "status")
        for when, status, deliveries in grouped.annotate(d=Sum("deliveries")).order_by():
            start = datetime.combine(when, time(), tzinfo=UTC) if daily else when
            _bar_at(bars, start).figures.add(status, "", deliveries, 0)


def _bars(span: Range, base: dict[str, str]) -> dict[datetime, Bar]:
    bounds = span.boundaries()
    return {
        start: Bar(start, end, Figures(filters={**base, **span.log_filters(start, end)}))
        for start, end in itertools.pairwise(bounds)
    }


def _bar_at(bars: dict[datetime, Bar], moment: datetime) -> Bar:
    """The bar `moment` falls in (bars are in time order and cover the range)."""
    starts = list(bars)
    return bars[starts[max(bisect_right(starts, hour_of(moment)) - 1, 0)]]


def _in_flight(span: Range, include_tests: bool, app: App | None, mmp: str):
    """(app id, hour, count) of the range's deliveries not finished yet: live, not rolled up."""
    qs = Delivery.objects.filter(status__in=IN_FLIGHT, created_at__gte=span.start, created_at__lt=span.end)
    qs = qs.exclude(source=Source.CANARY)  # synthetic: the rollups leave canaries out too
    if not include_tests:
        qs = qs.exclude(source=Source.FORM)
    if app is not None:
        qs = qs.filter(app=app)
    if mmp:
        qs = qs.filter(app__provider=mmp)
    hourly = qs.annotate(hour=TruncHour("created_at", tzinfo=UTC)).values_list("app_id", "hour")
    return hourly.annotate(n=Count("id")).order_by()
