"""The request log's query: filters from the URL, a search box, and keyset pagination.

Pages are cut by (created_at, id), newest first, and never counted: on millions of rows a page
costs one index range scan of PAGE_SIZE + 1 rows. Each filter is an equality that leads one of the
Delivery indexes (app+time, event token+time, status+time, device+time), so the planner can walk
that index in time order and stop after a page (tests/test_log.py pins the plans).

The search box takes a delivery id, a device id in any case (both index hits), or any text of three
characters or more, found case-insensitively anywhere in the device id, the MMP's words or the
values of the sent parameters (callback and partner parameters included). On PostgreSQL that text
search is read through a trigram index on exactly SearchedText (migration 0009): the expression here
and the index's must stay the same, or every search becomes a scan of the whole table.

How a text search is read depends on how common its text is, and PostgreSQL's estimate of that
can be off by far (a term in 0.1% of the rows, or one common among old rows only). So a page of a
text search first looks among the newest PROBE_ROWS deliveries only (past its cursor): a walk of
the time index that cannot go further, and enough when the text is common there (a word in most
rows, "production", an error of the day). Only when they hold less than a page is the whole table
searched, and how is chosen from what that look saw (`read_searching`): a text seen there a few
times is found by walking the time index further. One seen rarely or never there is looked for
once more in about SAMPLE_ROWS rows sampled from the whole table (`common_in_sample`): the newest
rows are a biased sample (they are mostly still in flight, with no answer yet), and a text in 1% of
the table missed by them costs 40 ms through the trigram index (ten thousand rows rechecked)
against 10 ms by walking. Only a text rare in both is read through the trigram index. A walk
stops at about WALK_ROWS rows and leaves the older ones to the trigram index, so a text judged
common wrongly costs tens of milliseconds, not a walk of the whole table. (Left to itself the
planner estimates from the expression's statistics, which migration 0401 keeps ten times finer
than the default; they still took a text in 0.11% of the rows for 0.3% and walked 29,000 rows.)
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, Func, Max, Min, Q, QuerySet, TextField, Value, When

from events.models import Delivery, Source, Status

PAGE_SIZE = 50
# Columns a log row and the CSV export (log_export) read: the params JSON and the explanation
# stay in the table.
ROW_FIELDS = (
    *("id", "created_at", "app", "app__name", "event_token", "event_token__name", "event_token__token"),
    *("source", "environment", "status", "last_http_status", "attempt_count", "last_duration_ms"),
    *("device_id_type", "device_id", "last_message", "ambiguous"),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HTTP_CLASS = re.compile(r"([1-5])xx")
# Statuses the overview's figures group, each one link: failed or dead; not finished yet.
STATUS_GROUPS = {
    "unsuccessful": ("Failed or dead", (Status.FAILED, Status.DEAD)),
    "in_flight": (
        "Not finished (queued, sending, retrying)",
        (Status.QUEUED, Status.SENDING, Status.RETRYING),
    ),
}
# A trigram index finds nothing shorter than three characters: shorter text matches ids only.
MIN_SEARCH = 3
# A text search looks among this many newest deliveries first (see the module's docstring).
PROBE_ROWS = 1000
# Seen this many times there (0.7%), a text is found sooner by walking the time index than by
# reading its every match through the trigram index: the two cost the same at about
# sqrt(PAGE_SIZE / rows) of the rows, 0.7% at a million.
COMMON_IN_PROBE = 7
# The whole-table sample a text missed by the newest rows is counted in (the same share decides).
SAMPLE_ROWS = 1000
# A walk of the time index reads about this many rows at most (newest first, past the cursor); the
# older rows are then read through the trigram index. A text judged common walks some 7,000 rows
# for its page; judged wrongly (a burst of one error among the newest rows or in a sampled page),
# an unbounded walk would read the whole table for it: 1.6 s at a million rows, every 5 s.
WALK_ROWS = 20_000
TEXT_SEARCH = "_searched__icontains"


class SearchedText(Func):
    """What the search box looks in: the device id, the MMP's words and the values of the sent
    parameters (on SQLite the parameters' JSON text, names and all). All three are NOT NULL.

    Django's icontains compares UPPER(this) LIKE UPPER('%text%'); migration 0009 indexes exactly
    UPPER(this) on PostgreSQL, so the SQL below must not change without a new index.
    """

    output_field = TextField()

    def __init__(self, *, indexed: bool = True) -> None:
        super().__init__(F("device_id"), F("last_message"), F("params"))
        # Not indexed: the same text, as an expression the trigram index does not match, so the
        # planner cannot read the index for it (newest_matches walks the newest rows instead).
        self.indexed = indexed

    def as_sql(self, compiler, connection, params_sql: str = "%s", **extra_context):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (device_id, message, params), args = zip(*compiled, strict=True)
        sql = f"({device_id} || ' ' || {message} || ' ' || {params_sql % params})"
        return sql if self.indexed else f"({sql} || '')", [arg for part in args for arg in part]

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, "jsonb_path_query_array(%s, 'strict $.*')::text")


@dataclass(frozen=True)
class Cursor:
    """A row's place in the log: opaque in the URL as `<microseconds since epoch>-<id>`."""

    created_at: datetime
    pk: int

    @classmethod
    def of(cls, row: Delivery) -> "Cursor":
        return cls(row.created_at, row.pk)

    @classmethod
    def parse(cls, value: str | None) -> "Cursor | None":
        match = re.fullmatch(r"([0-9]{1,17})-([0-9]{1,19})", value or "")
        if not match:
            return None
        return cls(_EPOCH + timedelta(microseconds=int(match[1])), int(match[2]))

    def __str__(self) -> str:
        return f"{(self.created_at - _EPOCH) // timedelta(microseconds=1)}-{self.pk}"


@dataclass(frozen=True)
class Page:
    rows: list[Delivery]
    newer: Cursor | None  # set when there are newer rows: link with ?after=
    older: Cursor | None  # set when there are older rows: link with ?before=


def filtered(
    filters: dict[str, Any], *, indexed_search: bool = True, searched: Q | None = None
) -> QuerySet[Delivery]:
    """The deliveries the cleaned filter form asks for (unordered); `indexed_search=False` for
    a text search that must not read the trigram index (newest_matches); `searched`, the search
    box's condition when the caller has it already (search() looks device ids up)."""
    qs = Delivery.objects.all()
    for name, lookup in (("app", "app"), ("event", "event_token"), ("mmp", "app__provider")):
        if filters.get(name):
            qs = qs.filter(**{lookup: filters[name]})
    status = filters.get("status")
    if status in STATUS_GROUPS:
        qs = qs.filter(status__in=STATUS_GROUPS[status][1])
    elif status:
        qs = qs.filter(status=status)
    if filters.get("tests") == "exclude":
        qs = qs.exclude(source=Source.FORM)
    for name in ("source", "environment"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    qs = qs.filter(_http(filters.get("http") or ""))
    qs = qs.filter(_skan(filters.get("skan") or ""))
    if filters.get("since"):
        qs = qs.filter(created_at__gte=filters["since"])
    if filters.get("until"):
        qs = qs.filter(created_at__lt=filters["until"])
    if filters.get("q"):
        condition = searched if searched is not None else search(filters["q"])
        if any(isinstance(child, tuple) and child[0] == TEXT_SEARCH for child in condition.children):
            qs = qs.alias(_searched=SearchedText(indexed=indexed_search))
        qs = qs.filter(condition)
    return qs


def search(text: str) -> Q:
    """A delivery id, a device id, or text in the device id, the MMP's words or parameter values.

    A device id is looked up first (index hits), as typed, in capitals and in small letters: the
    advertising ids (IDFA, GAID) are case-insensitive, each written in one case, and one pasted in
    the other case is found in a millisecond rather than through the trigram index (10 ms for the
    34 trigrams of a UUID at a million rows). Other text of MIN_SEARCH characters or more is found
    through the trigram index on SearchedText.
    """
    text = text.strip()
    if re.fullmatch(r"#?[0-9]{1,18}", text):
        return Q(pk=int(text.lstrip("#"))) | Q(device_id=text.lstrip("#"))
    if len(text) < MIN_SEARCH:
        return Q(device_id=text)
    cases = dict.fromkeys((text, text.upper(), text.lower()))
    found = [case for case in cases if Delivery.objects.filter(device_id=case).exists()]
    if len(found) == 1:  # one id: its rows are read from the index in time order
        return Q(device_id=found[0])
    if found:
        return Q(device_id__in=found)
    return Q(**{TEXT_SEARCH: text})


def page(filters: dict[str, Any], *, before: Cursor | None = None, after: Cursor | None = None) -> Page:
    """The page of the filtered log past a cursor (the newest when there is none)."""
    searched = search(filters["q"]) if filters.get("q") else None  # once for the page's queries
    qs = filtered(filters, searched=searched)
    rows = None
    if after is None and "_searched" in qs.query.annotations:
        window = probe_window(before)
        newest = newest_matches(filters, before, searched, window)
        if newest is not None and len(newest) > PAGE_SIZE:
            rows = newest
        elif newest is not None and window is not None:  # too few there: the older rows, read
            # as the share of its matches says, after the matches among the newest (all of them)
            walk = len(newest) >= COMMON_IN_PROBE or common_in_sample(filters, searched)
            older = qs.filter(created_at__lt=window[1])
            rows = newest + read_searching(
                older, before=before, walk_from=walk_edge(window) if walk else None
            )
            rows = rows[: PAGE_SIZE + 1]
    if rows is None:
        rows = list(page_query(qs, before=before, after=after))
    if after is not None:
        if len(rows) <= PAGE_SIZE:
            return page(filters)  # reached the newest rows: show the first page, full
        rows = rows[:PAGE_SIZE][::-1]
        return Page(rows, newer=Cursor.of(rows[0]), older=Cursor.of(rows[-1]))
    older = Cursor.of(rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    newer = Cursor.of(rows[0]) if before is not None and rows else None
    return Page(rows, newer=newer, older=older)


def probe_window(before: Cursor | None = None) -> tuple[datetime, datetime] | None:
    """The times of the newest and of the PROBE_ROWS-th newest delivery past the cursor (one walk
    of the time index's entries), or None when fewer rows are left than that."""
    rows = Delivery.objects.all()
    if before is not None:
        rows = rows.filter(created_at__lte=before.created_at)
    newest = newest_first(rows).values("created_at")[:PROBE_ROWS]
    window = newest.aggregate(newest=Max("created_at"), edge=Min("created_at"), rows=Count("*"))
    return (window["newest"], window["edge"]) if window["rows"] == PROBE_ROWS else None


def walk_edge(window: tuple[datetime, datetime]) -> datetime:
    """About where the WALK_ROWS-th newest row is, from how long the newest PROBE_ROWS took to
    come in: a bound on a walk's cost, not on what it finds (read_searching reads the rest)."""
    newest, edge = window
    return newest - (newest - edge) * (WALK_ROWS / PROBE_ROWS)


def newest_matches(
    filters: dict[str, Any],
    before: Cursor | None = None,
    searched: Q | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> list[Delivery] | None:
    """The matches among the newest PROBE_ROWS deliveries past the cursor (`window`, from
    probe_window), up to a page and one more row (then they are the page), or None when fewer
    rows are left than that: a walk of the time index that reads no further, whatever the planner
    estimates (its text is not the indexed expression, so there is no other plan)."""
    window = window or probe_window(before)
    if window is None:
        return None  # fewer rows than that: the whole query reads no more
    # Every match from the edge on is in the window: if they fill the page, it is the page.
    probe = filtered(filters, indexed_search=False, searched=searched).filter(created_at__gte=window[1])
    return list(page_query(probe, before=before))


def common_in_sample(filters: dict[str, Any], searched: Q | None = None) -> bool:
    """Whether the text matches COMMON_IN_PROBE in PROBE_ROWS or more of the rows the other filters
    keep, counted in about SAMPLE_ROWS rows sampled from the whole table (PostgreSQL's TABLESAMPLE
    SYSTEM: whole pages at random, a fixed seed so a page is read the same way each time). Costs
    one look at some fifty pages, however large the table. Elsewhere: False (no trigram index)."""
    if connection.vendor != "postgresql":
        return False
    condition = searched if searched is not None else search(filters["q"])
    hits = (
        filtered({**filters, "q": ""})
        .alias(_searched=SearchedText(indexed=False))
        .annotate(_hit=Case(When(condition, then=Value(1)), default=Value(0)))
        .values_list("_hit", flat=True)
        .order_by()
    )
    sql, params = hits.query.sql_with_params()
    table = f'FROM "{Delivery._meta.db_table}"'
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Delivery._meta.db_table])
        (rows,) = cursor.fetchone() or (0,)
        # reltuples is -1 before the first ANALYZE: the whole (then small) table is the sample.
        percent = min(100.0, 100.0 * SAMPLE_ROWS / rows) if rows > 0 else 100.0
        # The percentage is a number computed here; the rest is Django's SQL with its parameters.
        sampled = sql.replace(table, f"{table} TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (0)", 1)
        cursor.execute(f"SELECT count(*), coalesce(sum(_hit), 0) FROM ({sampled}) AS sample", params)  # noqa: S608
        kept, matched = cursor.fetchone()
    return kept > 0 and matched * PROBE_ROWS >= COMMON_IN_PROBE * kept


def read_searching(
    qs: QuerySet[Delivery], *, before: Cursor | None = None, walk_from: datetime | None = None
) -> list[Delivery]:
    """A text search's page (PAGE_SIZE + 1 rows of `qs` past the cursor) on PostgreSQL: through
    the trigram index (a text seen rarely or never), or for a text seen often by walking the time
    index back to `walk_from` (walk_edge), then through the trigram index for the older rows if
    that walk found less than a page."""
    if connection.vendor != "postgresql":
        return list(page_query(qs, before=before))
    if walk_from is None:
        return _read_with(page_query(qs, before=before), "enable_indexscan")
    near = _read_with(page_query(qs.filter(created_at__gte=walk_from), before=before), "enable_bitmapscan")
    if len(near) > PAGE_SIZE:
        return near
    # All of them older than every row found so far: the two in order are the page.
    far = _read_with(page_query(qs.filter(created_at__lt=walk_from), before=before), "enable_indexscan")
    return (near + far)[: PAGE_SIZE + 1]


def _read_with(qs: QuerySet[Delivery], setting: str) -> list[Delivery]:
    """The rows, with one kind of plan switched off so the plan left is the one wanted."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Chosen from the rows just read rather than from the planner's estimate, which is off
        # by three times and more for texts in 0.1% to 1% of the rows (a walk of 29,000 rows).
        cursor.execute(f"SET LOCAL {setting} = off")
        try:
            return list(qs)
        finally:  # inside a caller's transaction, SET LOCAL would last until it ends
            cursor.execute(f"SET LOCAL {setting} TO DEFAULT")


def page_query(
    qs: QuerySet[Delivery], *, before: Cursor | None = None, after: Cursor | None = None
) -> QuerySet[Delivery]:
    """PAGE_SIZE + 1 rows past the cursor (the extra one tells whether there is another page);
    oldest first after `after`, newest first otherwise."""
    qs = qs.select_related("app", "event_token").only(*ROW_FIELDS)
    if after is not None:
        return (
            qs.filter(created_at__gte=after.created_at)
            .filter(Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, pk__gt=after.pk))
            .order_by("created_at", "id")[: PAGE_SIZE + 1]
        )
    if before is not None:
        # The redundant `<=` bounds the index range; the OR only breaks ties within one instant.
        qs = qs.filter(created_at__lte=before.created_at).filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.pk)
        )
    return newest_first(qs)[: PAGE_SIZE + 1]


def newest_first(qs: QuerySet[Delivery]) -> QuerySet[Delivery]:
    return qs.order_by("-created_at", "-id")


# The log's SKAN filter: the answer carried SKAN values (any, or this coarse value), or none.
SKAN_CHOICES = (
    ("with", "with SKAN values"),
    ("without", "without SKAN values"),
    ("low", "coarse value low"),
    ("medium", "coarse value medium"),
    ("high", "coarse value high"),
)
# The condition of the delivery_skan_time index: "with" walks only those rows, newest first.
HAS_SKAN = Q(skan_fine_value__isnull=False) | ~Q(skan_coarse_value="")


def _skan(value: str) -> Q:
    if value == "with":
        return HAS_SKAN
    if value == "without":
        return ~HAS_SKAN
    if value in ("low", "medium", "high"):
        return HAS_SKAN & Q(skan_coarse_value=value)
    return Q()


def _http(value: str) -> Q:
    value = value.strip().lower()
    if value == "none":
        return Q(last_http_status__isnull=True)
    if value.isascii() and value.isdigit():  # "²".isdigit() is true; int("²") fails
        return Q(last_http_status=int(value))
    if match := _HTTP_CLASS.fullmatch(value):
        low = int(match[1]) * 100
        return Q(last_http_status__gte=low, last_http_status__lt=low + 100)
    return Q()
