"""Hourly rollups: the overview's figures kept as the send workers record what happened.

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
- Rows are only added to (one upsert per batch), never deleted: the retention purge removes
  deliveries and attempts but leaves these, so the overview's windows still count purged rows.
  A claim lost to the reconciler (events/engine/jobs.py, "lost_claim") records nothing: the
  attempt that follows does.

`record_attempts` takes a batch's rows and writes them in one statement on PostgreSQL (a
data-modifying CTE: INSERT ... ON CONFLICT DO UPDATE into both tables) and two on SQLite. Call it
inside the transaction that writes the statuses, so the figures and the rows agree.
"""

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from events.reporting.models import LatencyRollup, OutcomeRollup

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


def record_attempts(rows: Iterable[Finished]) -> None:
    """Add a batch's finished steps to the hourly rollups (see the module's rule)."""
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
        # In key order: two batches upserting the same rows lock them in the same order (no deadlock).
        values = [(*k, outcomes[k], sent[k]) for k in sorted(outcomes)]
        statements.append(_upsert(OutcomeRollup, ("status", "reason"), ("deliveries", "attempts"), values))
    if latencies:
        values = [(*k, latencies[k]) for k in sorted(latencies)]
        statements.append(_upsert(LatencyRollup, ("bucket",), ("attempts",), values))
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) == 2:
            (first, first_args), (second, second_args) = statements
            cursor.execute(f"WITH outcomes AS ({first}) {second}", [*first_args, *second_args])
            return
        for sql, args in statements:
            cursor.execute(sql, args)


def _upsert(model, keys: tuple[str, ...], sums: tuple[str, ...], values: list[tuple]) -> tuple[str, list]:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET each sum += the new one: PostgreSQL and SQLite."""
    table = model._meta.db_table
    key = ("hour", "app_id", "provider", "test", *keys)
    columns = (*key, *sums)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    adapt = connection.ops.adapt_datetimefield_value
    args = [arg for row in values for arg in (adapt(row[0]), *row[1:])]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    # Names from the model and this module only; every value is a parameter.
    rows = ", ".join([placeholders] * len(values))
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {rows}"  # noqa: S608 - fixed names
    sql = f"{insert} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    return sql, args
