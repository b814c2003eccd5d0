"""The order and age guard: refuse an Adjust event before it goes out when Adjust would reject it.

Adjust takes a device's events per event token in time order only: one whose time is earlier than
one it already accepted for that device and event token is rejected, and so is any event older
than 58 days (mmp-apis.md §1.6). OrderMark keeps the newest event time Adjust accepted per
(app, event token, device id); it moves on in the same transaction that records a delivered attempt.

It is checked three times: when a delivery is created (`check`, by create_delivery and
resend_delivery), for a batch of events before they are created (`check_many`, for bulk and API
code, one query per 500 events), and again in the send job, since a retry hours later can cross the
58 days and a newer event may have been accepted meanwhile.

Equal times pass: Adjust rejects *earlier* events only (UNCONFIRMED for equal ones; the emulator
accepts them). Tenjin takes no event time, so its events are never refused here.
"""

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

from events.models import Delivery, OrderMark
from events.providers import PROVIDERS, get_provider

# The age limit of the MMPs that refuse old events (today Adjust's 58 days), from the contract.
MAX_AGE = max(p.max_event_age for p in PROVIDERS.values() if p.max_event_age is not None)
CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    """One Adjust event about to be sent: what the rule looks at."""

    app_id: int
    event_token_id: int
    device_id: str
    event_time: datetime

    @property
    def key(self) -> tuple[int, int, str]:
        return self.app_id, self.event_token_id, self.device_id


def candidate(app, event_token, device_id: str, event_time: datetime | None) -> Candidate | None:
    """The candidate for an event of this app, or None when the guard does not apply (Tenjin)."""
    if not get_provider(app).rejects_earlier_events or event_time is None or not device_id:
        return None
    return Candidate(app.pk, event_token.pk, device_id, event_time)


def candidate_of(delivery: Delivery) -> Candidate | None:
    if not get_provider(delivery.app).rejects_earlier_events:
        return None
    event_time = get_provider(delivery.app).event_time_of(delivery.params)
    return candidate(delivery.app, delivery.event_token, delivery.device_id, event_time)


# The two rules: too old for the MMP, or earlier than an event it accepted for the same key.
AGE, ORDER = "age", "order"


@dataclass(frozen=True)
class Refusal:
    rule: str  # AGE or ORDER
    message: str


class Ledger:
    """The newest accepted time for each key of some candidates, loaded in one query per 500."""

    def __init__(self, candidates: Iterable[Candidate | None]):
        keys = {c.key for c in candidates if c is not None}
        self.newest: dict[tuple[int, int, str], datetime] = {}
        # Times this ledger learnt since loading, and from where, for the message.
        self.seen_here: set[tuple[int, int, str]] = set()
        keys_list = sorted(keys)
        if not keys_list:
            return
        sql = _marks_sql(connection.vendor)
        # SQLite hands back naive datetimes (or text): made aware as the ORM's converter does.
        convert = None if connection.vendor == "postgresql" else connection.ops.convert_datetimefield_value
        with connection.cursor() as cursor:
            for start in range(0, len(keys_list), CHUNK):
                cursor.execute(sql, _marks_params(keys_list[start : start + CHUNK]))
                for app_id, token_id, device_id, newest in cursor.fetchall():
                    if convert is not None:
                        newest = convert(newest, None, connection)
                    self.newest[(app_id, token_id, device_id)] = newest

    def refusal(self, c: Candidate | None, now: datetime) -> str | None:
        """Why Adjust would reject it, or None."""
        found = self.refusal_of(c, now)
        return found.message if found else None

    def refusal_of(self, c: Candidate | None, now: datetime) -> "Refusal | None":
        """Why Adjust would reject it, with the rule it breaks (AGE or ORDER), or None."""
        if c is None:
            return None
        if c.event_time < now - MAX_AGE:
            return Refusal(
                AGE,
                f"Adjust would reject this event: it happened {(now - c.event_time).days} days ago "
                f"({_when(c.event_time)}), and Adjust rejects events older than 58 days.",
            )
        newest = self.newest.get(c.key)
        if newest is not None and c.event_time < newest:
            where = (
                "an earlier event of this batch for the same device and event token"
                if c.key in self.seen_here
                else "an event Adjust already accepted for this device and event token"
            )
            return Refusal(
                ORDER,
                f"Adjust would reject this event: its time ({_when(c.event_time)}) is before {where} "
                f"({_when(newest)}). Adjust takes each device's events per event token in time order "
                "only; send the older events first.",
            )
        return None

    def note(self, c: Candidate | None) -> None:
        """`c` goes out (or was accepted): later candidates must not be older."""
        if c is not None and (c.key not in self.newest or self.newest[c.key] < c.event_time):
            self.newest[c.key] = c.event_time
            self.seen_here.add(c.key)


@functools.cache
def _marks_sql(vendor: str) -> str:
    """The marks of some keys, exactly those, as fixed text: the send engine asks it for every claim,
    so it is neither compiled by the ORM each time nor (on PostgreSQL) re-parsed by psycopg, whose
    cache takes only statements of one text. The keys go in as one parameter (three arrays on
    PostgreSQL, one JSON document on SQLite) and are matched on the unique (app, token, device)."""
    table = OrderMark._meta.db_table
    if vendor == "postgresql":
        keys = "unnest(%s::bigint[], %s::bigint[], %s::text[]) AS k(a, t, d)"
    else:
        keys = (
            "(SELECT json_extract(value, '$[0]') AS a, json_extract(value, '$[1]') AS t, "
            "json_extract(value, '$[2]') AS d FROM json_each(%s)) AS k"
        )
    return (
        f"SELECT m.app_id, m.event_token_id, m.device_id, m.newest_event_time FROM {keys} "  # noqa: S608 - fixed text
        f"JOIN {table} m ON m.app_id = k.a AND m.event_token_id = k.t AND m.device_id = k.d"
    )


def _marks_params(keys: list[tuple[int, int, str]]) -> list:
    if connection.vendor == "postgresql":
        return [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]
    return [json.dumps(keys)]


def check(c: Candidate | None, *, now: datetime | None = None) -> str | None:
    """Why Adjust would reject this one event, or None."""
    return Ledger([c]).refusal(c, now or timezone.now())


def check_many(candidates: Sequence[Candidate | None], *, now: datetime | None = None) -> list[str | None]:
    """A refusal (or None) for each candidate, in order, as they would go out one after the other:
    an event older than one before it in the list, for the same device and event token, is refused
    too. None entries (events the guard does not apply to) get None."""
    return [r.message if r else None for r in refusals_of_many(candidates, now=now)]


def refusals_of_many(
    candidates: Sequence[Candidate | None], *, now: datetime | None = None
) -> list["Refusal | None"]:
    """check_many, with the rule each refused event breaks."""
    now = now or timezone.now()
    ledger = Ledger(candidates)
    refusals = []
    for c in candidates:
        refusal = ledger.refusal_of(c, now)
        if refusal is None:
            ledger.note(c)
        refusals.append(refusal)
    return refusals


def record_accepted_many(candidates: Iterable[Candidate | None]) -> None:
    """Adjust accepted these: move their marks on, in one statement. Call inside the transaction
    that records the attempts. A mark only moves forward, even if a concurrent sender wrote a
    newer time first (the WHERE of the upsert)."""
    newest: dict[tuple[int, int, str], datetime] = {}
    for c in candidates:
        if c is not None and (c.key not in newest or newest[c.key] < c.event_time):
            newest[c.key] = c.event_time
    if not newest:
        return
    table = OrderMark._meta.db_table
    columns = "app_id, event_token_id, device_id, newest_event_time, updated_at"
    if connection.vendor == "postgresql":
        # The rows as one JSON parameter, as the batch writers send theirs (events/engine/rows.py):
        # psycopg parses a statement's placeholders in Python, and caches that only for short ones.
        now = timezone.now().isoformat()
        document = json.dumps(
            [
                {"a": app_id, "t": token_id, "d": device_id, "w": when.isoformat(), "u": now}
                for (app_id, token_id, device_id), when in newest.items()
            ]
        )
        source = (
            "SELECT a, t, d, w, u FROM json_to_recordset(%s::json) "
            "AS v(a bigint, t bigint, d text, w timestamptz, u timestamptz)"
        )
        params = [document]
    else:
        adapt = connection.ops.adapt_datetimefield_value  # SQLite keeps datetimes as text in its own form
        now = adapt(timezone.now())
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * len(newest))
        params = [
            value
            for (app_id, token_id, device_id), when in newest.items()
            for value in (app_id, token_id, device_id, adapt(when), now)
        ]
    # The same upsert in PostgreSQL and SQLite (3.24+); Django's bulk_create cannot add the WHERE.
    sql = (
        f"INSERT INTO {table} ({columns}) {source} "
        "ON CONFLICT (app_id, event_token_id, device_id) DO UPDATE SET "
        "newest_event_time = excluded.newest_event_time, updated_at = excluded.updated_at "
        f"WHERE {table}.newest_event_time < excluded.newest_event_time"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
