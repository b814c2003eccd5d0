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

from datetime import timedelta

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
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
    """Deliveries a run may claim now: waiting, due (or due within `early`), first in line for their key."""
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
    candidates = due(now) if ids is None else due(now, early=CLAIM_EARLY_TOLERANCE).filter(pk__in=ids)
    if keys is not None:
        candidates = candidates.filter(order_key__in=keys)
    deliveries = _take(candidates, limit, token=token, worker=worker, now=now)
    # One App and EventToken instance each per run (`known`): secrets are decrypted, and the active
    # security token looked up, once per app, not per event.
    apps, event_tokens = known if known is not None else ({}, {})
    apps.update(App.objects.in_bulk({d.app_id for d in deliveries} - apps.keys()))
    event_tokens.update(
        EventToken.objects.in_bulk({d.event_token_id for d in deliveries} - event_tokens.keys())
    )
    for delivery in deliveries:
        delivery.app = apps[delivery.app_id]
        delivery.event_token = event_tokens[delivery.event_token_id]
    order = {pk: i for i, pk in enumerate(ids or ())}
    return sorted(deliveries, key=lambda d: order.get(d.pk, len(order)))


def _take(candidates: QuerySet[Delivery], limit: int, *, token: str, worker: str, now) -> list[Delivery]:
    """Mark up to `limit` of `candidates` as sending under this claim and return them, in one
    statement (UPDATE ... RETURNING, PostgreSQL and SQLite 3.35+): a claim is a round trip, not three."""
    meta = Delivery._meta
    quote = connection.ops.quote_name
    chosen_sql, chosen_params = candidates.values_list("pk").order_by()[:limit].query.sql_with_params()
    if connection.features.has_select_for_update_skip_locked:
        # Rows another worker is claiming right now are passed over, not waited for.
        chosen_sql += " " + connection.ops.for_update_sql(skip_locked=True, of=(quote(meta.db_table),))
    table = quote(meta.db_table)
    sql = (
        f"UPDATE {table} SET {quote('status')} = %s, {quote('claimed_at')} = %s, {quote('claim_token')} = %s, "  # noqa: S608 - names from the model
        f"{quote('claimed_by')} = %s, {quote('attempt_count')} = {quote('attempt_count')} + 1 "
        f"WHERE {quote(meta.pk.column)} IN ({chosen_sql}) AND {quote('status')} IN (%s, %s) "
        f"RETURNING {', '.join(quote(field.column) for field in meta.concrete_fields)}"
    )
    claimed_at = meta.get_field("claimed_at").get_db_prep_save(now, connection)
    params = (
        Status.SENDING.value,
        claimed_at,
        token,
        worker,
        *chosen_params,
        Status.QUEUED.value,
        Status.RETRYING.value,
    )
    # raw() turns the returned columns into Delivery instances through each field's converters.
    return list(Delivery.objects.raw(sql, params))


def next_in_line(keys: set[str]) -> list[int]:
    """The deliveries now first in line for these order keys (their older one just ended)."""
    if not keys:
        return []
    return list(due().filter(order_key__in=keys).values_list("pk", flat=True))
