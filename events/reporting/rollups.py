"""Hourly and daily rollups: the overview's figures kept as the send workers record what happened.

The rule, for whoever writes a delivery's status:
- Every HTTP attempt is counted once, when it is recorded (its delivery then delivered, retrying,
  failed or dead): `attempts` of its outcome row, and one in the latency histogram.
- Every delivery is counted once, when it reaches a final status (delivered, failed, dead):
  `deliveries` of its outcome row. A delivery finished without an attempt (refused by the order
  guard, too old, its app deactivated, its bulk send cancelled) counts as a delivery, no attempt.
- Canary deliveries (Source.CANARY, events/monitoring/) are not counted: they are synthetic.
- A row's hour is the hour its delivery was *created*, like the request log's time filters, so
  each figure of the overview links to the log rows it counts. A retry three hours later adds to
  the creation hour.
- Each step is added to its hour's row and to its UTC day's row (the daily tables): ranges of
  many days read one row per day instead of 24 (figures.py), and both are exact at all times,
  with no roll-up job to wait for or to lag behind.
- Rows are only added to (one upsert per batch), never changed otherwise: the retention purge
  removes deliveries and attempts long before these, so the overview's windows still count
  purged rows. The rollups have a retention of their own, hourly rows for
  ROLLUP_RETENTION_DAYS and daily ones for ROLLUP_DAILY_RETENTION_DAYS (events/engine/retention.py).
  A claim lost to the reconciler (events/engine/jobs.py, "lost_claim") records nothing: the
  attempt that follows does.

`record_attempts` takes a batch's rows and writes them in one statement on PostgreSQL (data-
modifying CTEs: INSERT ... ON CONFLICT DO UPDATE into the four tables) and one each on SQLite. Call it
inside the transaction that writes the statuses, so the figures and the rows agree.
"""

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection

from events.reporting.models import DailyLatencyRollup, DailyOutcomeRollup, LatencyRollup, OutcomeRollup

# Upper bounds (ms) of the latency histogram's buckets, about 25% apart; bucket len(BOUNDS) holds
# anything slower. A percentile is read as its bucket's upper bound.
BOUNDS = (
    *(1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300),
    *(400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000),
    *(12000, 15000, 20000, 25000, 30000, 40000, 50000, 60000),
)
FINAL = ("delivered", "failed", "dead")
REASON_LENGTH = 200


@dataclass(frozen=True)
class Finished:
    """One step of one delivery (or `count` alike), as record_attempts counts it."""

    app_id: int
    provider: str
    test: bool  # test traffic (Delivery.is_test)
    created_at: datetime  # the delivery's: the hour it is counted in
    status: str  # the delivery's status after this step
    reason: str = ""  # the delivery's last_message: the MMP's words or the network error
    sent: bool = True  # False: no HTTP attempt was made
    duration_ms: float | None = None
    count: int = 1
    canary: bool = False  # the app's canary: not counted


def step(
    delivery, status: str, *, reason: str = "", sent: bool = True, duration_ms: float | None = None
) -> Finished:
    """The row for one delivery (an events.models.Delivery) that has just moved to `status`."""
    return Finished(
        app_id=delivery.app_id,
        provider=delivery.app.provider,
        test=delivery.is_test,
        created_at=delivery.created_at,
        status=str(status),
        reason=reason,
        sent=sent,
        duration_ms=duration_ms,
        canary=delivery.is_canary,
    )


def bucket_of(duration_ms: float) -> int:
    return bisect_left(BOUNDS, duration_ms)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_kept_since(now: datetime) -> datetime:
    """The oldest hour whose hourly rows the retention purge keeps: midnight UTC
    ROLLUP_RETENTION_DAYS ago (whole days go, so a day is either all hours or only its daily row)."""
    since = (now - timedelta(days=settings.ROLLUP_RETENTION_DAYS)).astimezone(UTC)
    return since.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_kept_since(now: datetime) -> date:
    """The oldest day whose daily rows the retention purge keeps (ROLLUP_DAILY_RETENTION_DAYS)."""
    return day_of(now - timedelta(days=settings.ROLLUP_DAILY_RETENTION_DAYS))


def day_of(moment: datetime) -> date:
    """The UTC day a moment falls on: the daily rollups' key."""
    return moment.astimezone(UTC).date()


def record_attempts(rows: Iterable[Finished]) -> None:
    """Add a batch's finished steps to the hourly and daily rollups (see the module's rule)."""
    outcomes: Counter[tuple] = Counter()
    sent: Counter[tuple] = Counter()
    latencies: Counter[tuple] = Counter()
    for row in rows:
        if row.canary:
            continue
        key = (hour_of(row.created_at), row.app_id, row.provider, row.test)
        outcome = (*key, row.status, row.reason[:REASON_LENGTH] if row.status != "delivered" else "")
        outcomes[outcome] += row.count if row.status in FINAL else 0
        if row.sent:
            sent[outcome] += row.count
            if row.duration_ms is not None:
                latencies[(*key, bucket_of(row.duration_ms))] += row.count
    statements = []
    if outcomes:
        hourly = [(*k, outcomes[k], sent[k]) for k in outcomes]
        statements += _upserts(
            OutcomeRollup, DailyOutcomeRollup, ("status", "reason"), ("deliveries", "attempts"), hourly
        )
    if latencies:
        hourly = [(*k, n) for k, n in latencies.items()]
        statements += _upserts(LatencyRollup, DailyLatencyRollup, ("bucket",), ("attempts",), hourly)
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip: the first statements as data-modifying CTEs of the last. Always in
            # the same table order, so two batches never wait for each other's rows crosswise.
            *first, (last, last_args) = statements
            ctes = ", ".join(f"rollup_{index} AS ({sql})" for index, (sql, _) in enumerate(first))
            args = [arg for _, first_args in first for arg in first_args]
            cursor.execute(f"WITH {ctes} {last}" if first else last, [*args, *last_args])
            return
        for sql, args in statements:
            cursor.execute(sql, args)


def _upserts(
    hourly_model, daily_model, keys: tuple, sums: tuple, hourly: list[tuple]
) -> list[tuple[str, list]]:
    """The hourly rows' upsert and the daily one of the same rows added up by UTC day.

    Each in key order, and always hourly before daily: two batches upserting the same rows lock
    them in the same order (no deadlock)."""
    days: dict[tuple, list[int]] = {}
    for row in hourly:
        totals = days.setdefault((day_of(row[0]), *row[1 : -len(sums)]), [0] * len(sums))
        for index, count in enumerate(row[-len(sums) :]):
            totals[index] += count
    daily = [(*key, *totals) for key, totals in days.items()]
    return [
        _upsert(hourly_model, keys, sums, sorted(hourly)),
        _upsert(daily_model, keys, sums, sorted(daily)),
    ]


def _upsert(model, keys: tuple[str, ...], sums: tuple[str, ...], values: list[tuple]) -> tuple[str, list]:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET each sum += the new one: PostgreSQL and SQLite."""
    table = model._meta.db_table
    daily = hasattr(model, "day")
    key = ("day" if daily else "hour", "app_id", "provider", "test", *keys)
    columns = (*key, *sums)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    adapt = connection.ops.adapt_datefield_value if daily else connection.ops.adapt_datetimefield_value
    args = [arg for row in values for arg in (adapt(row[0]), *row[1:])]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    # Names from the model and this module only; every value is a parameter.
    rows = ", ".join([placeholders] * len(values))
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {rows}"  # noqa: S608 - fixed names
    sql = f"{insert} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    return sql, args
