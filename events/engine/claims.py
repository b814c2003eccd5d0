"""Claims: which deliveries a send run takes, one conditional update at a time, in order per key.

A claim moves due deliveries to `sending` under the run's claim_token and the worker's name; a job
that runs twice, or two workers reaching for the same row, cannot both get it. It takes only a
delivery that no older one of its order key (Delivery.order_key: the provider's choice, e.g. one
device's events of one Adjust event token) is still waiting for: queued, sending or retrying. So
one key's events go out one after the other, oldest event first, whatever the number of workers
and of requests in flight, and Adjust never sees a device's events out of order.

When the older one is retrying, the newer ones wait behind it: sending them first would make
Adjust refuse the older one for ever. The wait is bounded by the retry policy (SEND_MAX_ATTEMPTS,
SEND_MAX_AGE): once the older one ends (delivered, failed or dead), the next goes at once.
"""

import functools
import json
from datetime import timedelta

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.utils import timezone

from events.models import PENDING_STATUSES, App, Delivery, EventToken, Status

# RQ's scheduler runs about once a second, so a retry may start a little before its due time.
CLAIM_EARLY_TOLERANCE = timedelta(seconds=2)


# The partial index's own condition, written out: a query uses a partial index only when its WHERE
# repeats the index's, and SQLite cannot tell that of a condition with bound parameters.
PENDING_SQL = "status IN ({})".format(", ".join(f"'{status}'" for status in PENDING_STATUSES))


def not_held_back() -> Q:
    """No older delivery of the same order key is still on its way."""
    older_pending = Delivery.objects.filter(
        RawSQL(PENDING_SQL, (), output_field=BooleanField()),  # noqa: S611 - constants of Status only
        order_key=OuterRef("order_key"),
    ).filter(
        Q(event_time__lt=OuterRef("event_time")) | Q(event_time=OuterRef("event_time"), pk__lt=OuterRef("pk"))
    )
    return Q(order_key="") | ~Exists(older_pending)


def due(now=None, early: timedelta = timedelta(0)) -> QuerySet[Delivery]:
    """Deliveries a run may claim now: waiting, due (or due within `early`), first in line for their key.

    The ORM form of the rule, for reading and for the tests: a claim runs the same rule as fixed SQL
    text (_due_where), which tests/test_claims.py holds to the same rows as this."""
    now = now or timezone.now()
    return (
        Delivery.objects.order_by()
        .filter(status__in=(Status.QUEUED, Status.RETRYING))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + early))
        .filter(not_held_back())
    )


def claim(
    token: str,
    worker: str,
    *,
    ids: list[int] | None = None,
    keys: set[str] | None = None,
    limit: int,
    known: tuple[dict[int, App], dict[int, EventToken]] | None = None,
) -> list[Delivery]:
    """Claim up to `limit` due deliveries: among `ids`, among the order `keys`, or any. `known`:
    the apps and event tokens already loaded by this run, by id (filled in as it goes)."""
    if limit <= 0:
        return []
    now = timezone.now()
    # A job for these ids may come from RQ's scheduler, which can start it a moment early.
    due_before = now if ids is None else now + CLAIM_EARLY_TOLERANCE
    deliveries = _take(due_before, ids, keys, limit, token=token, worker=worker, now=now)
    # One App and EventToken instance each per run (`known`): secrets are decrypted, and the active
    # security token looked up, once per app, not per event.
    apps, event_tokens = known if known is not None else ({}, {})
    missing_apps = {d.app_id for d in deliveries} - apps.keys()
    if missing_apps:
        apps.update(App.objects.in_bulk(missing_apps))
    missing_tokens = {d.event_token_id for d in deliveries} - event_tokens.keys()
    if missing_tokens:
        event_tokens.update(EventToken.objects.in_bulk(missing_tokens))
    for delivery in deliveries:
        # Straight into the relation cache, as the descriptors' own set would put them (the ids
        # already match): their checks cost more than the rest of this loop.
        delivery._state.fields_cache["app"] = apps[delivery.app_id]
        delivery._state.fields_cache["event_token"] = event_tokens[delivery.event_token_id]
    order = {pk: i for i, pk in enumerate(ids or ())}
    return sorted(deliveries, key=lambda d: order.get(d.pk, len(order)))


def next_in_line(keys: set[str]) -> list[int]:
    """The deliveries now first in line for these order keys (their older one just ended)."""
    if not keys:
        return []
    where, params = _due_where(connection.vendor, by_ids=False, by_keys=True)
    sql = f"SELECT d.id FROM {_TABLE} d WHERE {where}"  # noqa: S608 - fixed text, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, _bind(params, timezone.now(), None, keys))
        return [row[0] for row in cursor.fetchall()]


# --- The claim as fixed SQL text ---------------------------------------------------------------
#
# A claim runs several times a second per worker. Built through the ORM it cost a compile of the
# queryset each time and, on PostgreSQL, psycopg's parsing of a statement whose text changed with
# the number of ids (psycopg caches its parse only for one under 4096 characters and 50
# parameters). So its text is written once per database vendor, lists go in as one parameter (an
# array on PostgreSQL, JSON read by json_each on SQLite), and the rows it returns become Delivery
# instances without raw()'s per-row machinery. The rule is the one `due()` spells in the ORM.

_TABLE = connection.ops.quote_name(Delivery._meta.db_table)
_FIELDS = Delivery._meta.concrete_fields
_COLUMNS = ", ".join(connection.ops.quote_name(field.column) for field in _FIELDS)
# Markers in _due_where's parameter order, filled in by _bind.
_DUE_BEFORE, _IDS, _KEYS = object(), object(), object()


@functools.cache
def _due_where(vendor: str, *, by_ids: bool, by_keys: bool) -> tuple[str, tuple]:
    """The WHERE of due deliveries (alias d), as fixed text and its parameters (with markers)."""
    if vendor == "postgresql":
        ids_in, keys_in = "d.id = ANY(%s::bigint[])", "d.order_key = ANY(%s::text[])"
    else:
        ids_in = "d.id IN (SELECT value FROM json_each(%s))"
        keys_in = "d.order_key IN (SELECT value FROM json_each(%s))"
    # The inner PENDING_SQL names no table: it is the older row's (o) own status, and it repeats
    # the partial index's condition so that the index answers it.
    among = (f" AND {ids_in}" if by_ids else "") + (f" AND {keys_in}" if by_keys else "")
    older_pending = (
        f"SELECT 1 FROM {_TABLE} o WHERE {PENDING_SQL} AND o.order_key = d.order_key "  # noqa: S608 - fixed text
        "AND (o.event_time < d.event_time OR (o.event_time = d.event_time AND o.id < d.id))"
    )
    sql = (
        f"d.status IN (%s, %s) AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= %s){among} "
        f"AND (d.order_key = '' OR NOT EXISTS ({older_pending}))"
    )
    params = (Status.QUEUED.value, Status.RETRYING.value, _DUE_BEFORE)
    return sql, params + ((_IDS,) if by_ids else ()) + ((_KEYS,) if by_keys else ())


@functools.cache
def _claim_sql(vendor: str, *, by_ids: bool, by_keys: bool) -> tuple[str, tuple]:
    """The claim: UPDATE ... RETURNING (PostgreSQL and SQLite 3.35+), one round trip."""
    where, params = _due_where(vendor, by_ids=by_ids, by_keys=by_keys)
    # Rows another worker is claiming right now are passed over, not waited for (PostgreSQL).
    skip_locked = " FOR UPDATE OF d SKIP LOCKED" if vendor == "postgresql" else ""
    sql = (
        f"UPDATE {_TABLE} SET status = %s, claimed_at = %s, claim_token = %s, claimed_by = %s, "  # noqa: S608 - fixed text, values bound
        "attempt_count = attempt_count + 1 "
        f"WHERE id IN (SELECT d.id FROM {_TABLE} d WHERE {where} LIMIT %s{skip_locked}) "
        f"AND status IN (%s, %s) RETURNING {_COLUMNS}"
    )
    return sql, params


def _bind(params: tuple, due_before, ids, keys) -> list:
    """_due_where's parameters with the markers replaced by this call's values, adapted."""
    postgres = connection.vendor == "postgresql"

    def listed(values) -> list | str:
        return list(values) if postgres else json.dumps(list(values))

    bound = []
    for param in params:
        if param is _DUE_BEFORE:
            bound.append(due_before if postgres else connection.ops.adapt_datetimefield_value(due_before))
        elif param is _IDS:
            bound.append(listed(ids))
        elif param is _KEYS:
            bound.append(listed(keys))
        else:
            bound.append(param)
    return bound


def _take(due_before, ids, keys, limit: int, *, token: str, worker: str, now) -> list[Delivery]:
    """Mark up to `limit` due deliveries as sending under this claim and return them, in one statement."""
    sql, params = _claim_sql(connection.vendor, by_ids=ids is not None, by_keys=keys is not None)
    postgres = connection.vendor == "postgresql"
    claimed_at = now if postgres else connection.ops.adapt_datetimefield_value(now)
    bound = [
        Status.SENDING.value,
        claimed_at,
        token,
        worker,
        *_bind(params, due_before, ids, keys),
        limit,
        Status.QUEUED.value,
        Status.RETRYING.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        rows = cursor.fetchall()
    return _instances(rows)


@functools.cache
def _converters(vendor: str) -> list[tuple[int, list]]:
    """Per returned column, the field converters the ORM would apply (JSON; on SQLite, datetimes and
    booleans too), found the ORM's way, once."""
    found = []
    for index, field in enumerate(_FIELDS):
        column = field.get_col(Delivery._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            found.append((index, [(function, column) for function in functions]))
    return found


_ATTNAMES = tuple(field.attname for field in _FIELDS)


def _instances(rows) -> list[Delivery]:
    """Delivery instances of these rows (all concrete fields, in _FIELDS order), as Model.from_db
    would build them, without Model.__init__'s walk over the fields (nothing listens to Delivery's
    init signals)."""
    converters = _converters(connection.vendor)
    db = connection.alias
    deliveries = []
    for row in rows:
        values = list(row)
        for index, functions in converters:
            for function, column in functions:
                values[index] = function(values[index], column, connection)
        delivery = Delivery.__new__(Delivery)
        state = ModelState()
        state.adding = False
        state.db = db
        delivery.__dict__.update(zip(_ATTNAMES, values, strict=True))
        delivery._state = state
        deliveries.append(delivery)
    return deliveries
