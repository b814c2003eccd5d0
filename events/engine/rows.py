"""Many rows in one statement each: one INSERT for a batch of new rows, one UPDATE for many rows
each with its own values.

Django's bulk_update writes a CASE WHEN per row and per field, and building that expression costs
more CPU than the sends it records (measured: most of a send worker's time at 64 in flight). An
UPDATE ... FROM (VALUES ...) joins the new values instead, in PostgreSQL and in SQLite (3.33+)
alike: both name the columns of a bare VALUES list column1, column2, ... Likewise bulk_create
spends more on assembling its placeholders than the insert takes; insert_rows writes a plain
multi-row INSERT ... RETURNING (PostgreSQL, and SQLite 3.35+).

Both skip Django's per-value preparation for the plain column types when the value already has
the type the database takes (a str for a CharField, an int for an IntegerField): it would hand
back the same value; an aware datetime goes straight to the backend's adaptation. Anything else (dates, JSON, encrypted or custom fields) is prepared by its
field, as Django does.

On PostgreSQL the rows travel as one JSON parameter (json_to_recordset) rather than as a
placeholder per value. psycopg parses a statement's text for its placeholders in Python and caches
the result only for short statements with few parameters: a batch of 64 rows x 17 columns is
neither, and parsing it again for every batch was measured at a quarter of a send worker's CPU.
The JSON form has one placeholder and the same text for every batch (parsed once, then cached),
and the values are encoded by the json module's C encoder. Rows whose values JSON cannot carry
exactly (bytes, NaN, a JSON null meant to be stored as JSON) take the placeholder form instead.
"""

import functools
import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.db import connection, models
from django.db.backends.postgresql.psycopg_any import Jsonb
from django.db.models import Model

# Field classes (exactly these, not subclasses such as an encrypted field) whose preparation
# returns a value of the given types unchanged.
_PLAIN = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.BooleanField: (bool,),
    models.IntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.FloatField: (float,),
}
# Rows per INSERT: well under SQLite's limit of bound parameters.
INSERT_CHUNK = 500


def _values(obj: Model, fields: Sequence[models.Field], *, add: bool = False) -> list:
    values = []
    adapt_datetime = connection.ops.adapt_datetimefield_value
    for field in fields:
        # pre_save on an insert: what a save would write (auto_now_add and auto_now stamp it).
        value = field.pre_save(obj, add=True) if add else getattr(obj, field.attname)
        plain = _PLAIN.get(type(field))
        if value is None and field.null:
            values.append(None)
        elif plain is not None and type(value) in plain:
            values.append(value)
        elif type(field) is models.DateTimeField and type(value) is datetime and value.tzinfo is not None:
            # What DateTimeField's preparation comes to for an aware datetime (its other steps
            # handle strings and naive values): the backend's adaptation, measured at 2-3% of a worker.
            values.append(adapt_datetime(value))
        else:
            values.append(field.get_db_prep_save(value, connection))
    return values


def insert_rows(objects: Sequence[Model]) -> None:
    """Insert new objects (every concrete field but the primary key) and set their primary keys."""
    if not objects:
        return
    meta = type(objects[0])._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    returning = f"RETURNING {connection.ops.quote_name(meta.pk.column)}"
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(objects), INSERT_CHUNK):
        chunk = objects[start : start + INSERT_CHUNK]
        rows = [_values(obj, fields, add=True) for obj in chunk]
        recordset = _json_recordset(fields, rows)
        if recordset is not None:
            source, params = recordset
            # The rows come out of json_to_recordset, and so are inserted and returned, in the
            # document's order (Django's bulk_create relies on the same of its INSERT ... SELECT
            # FROM UNNEST).
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM {source} {returning}"  # noqa: S608 - names from the model
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))} {returning}"  # noqa: S608 - names from the model
            params = [value for values in rows for value in values]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            # Both databases return the rows of a multi-row VALUES insert in its order (Django's
            # bulk_create relies on the same).
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def update_rows(
    objects: Sequence[Model], fields: Sequence[str], *, unchanged: Sequence[str] = (), where: str = ""
) -> set:
    """Write `fields` of each object (by primary key) in one statement; returns the primary keys of
    the rows written. `unchanged`: fields whose stored value must still equal the object's (a row
    whose value changed meanwhile is left alone); `where`: a further condition, in SQL."""
    if not objects:
        return set()
    model = type(objects[0])
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    match_fields = [meta.get_field(name) for name in unchanged]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk_column = quote(meta.pk.column)
    rows = [[obj.pk, *_values(obj, model_fields), *_values(obj, match_fields)] for obj in objects]
    recordset = _json_recordset([meta.pk, *model_fields, *match_fields], rows)
    # VALUES are untyped in PostgreSQL (SQLite takes them as they are); json_to_recordset's are typed.
    casts = recordset is None and connection.vendor == "postgresql"

    def column(n: int, field) -> str:
        name = f"v.column{n}"
        return f"CAST({name} AS {field.db_type(connection)})" if casts else name

    assignments = ", ".join(
        f"{quote(field.column)} = {column(n, field)}" for n, field in enumerate(model_fields, start=2)
    )
    conditions = [f"{table}.{pk_column} = v.column1"]
    conditions += [
        f"{table}.{quote(field.column)} = {column(n, field)}"
        for n, field in enumerate(match_fields, start=len(model_fields) + 2)
    ]
    if where:
        conditions.append(where)
    if recordset is not None:
        source, params = recordset
    else:
        row = "(" + ", ".join(["%s"] * (len(model_fields) + len(match_fields) + 1)) + ")"
        source = f"(VALUES {', '.join([row] * len(objects))}) AS v"
        params = [value for values in rows for value in values]
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model, values as parameters
        f"FROM {source} WHERE {' AND '.join(conditions)} "
        f"RETURNING {table}.{pk_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}


# What Django wraps a JSONField's value with when the field has no encoder of its own.
_PLAIN_JSON_DUMPS = json.dumps


class _NotJson(Exception):
    """A value JSON cannot carry exactly."""


def _json_value(value):
    """A prepared value as JSON carries it for json_to_recordset, which reads each field with its
    column type's input function (so a datetime goes as its ISO text, as psycopg would send it)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJson
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    # A JSONField's value, wrapped for psycopg: it goes in the document as its encoder writes it.
    # None inside (a JSON null to be stored as such) cannot: json_to_recordset reads null as NULL.
    if isinstance(value, Jsonb) and value.obj is not None:
        return value.obj if value.dumps is _PLAIN_JSON_DUMPS else json.loads(value.dumps(value.obj))
    raise _NotJson


def _json_recordset(fields: Sequence[models.Field], rows: list[list]) -> tuple[str, list] | None:
    """On PostgreSQL, the rows as `json_to_recordset(%s) AS v(column1 type, ...)` and its one
    parameter; None elsewhere, or when a value cannot go as JSON."""
    if connection.vendor != "postgresql":
        return None
    try:
        # Plain values (most of them) go as they are; json.dumps checks them (a NaN raises).
        keys = _keys(len(fields))
        document = json.dumps(
            [dict(zip(keys, row, strict=True)) for row in rows],
            default=_json_value,
            allow_nan=False,
            ensure_ascii=False,
        )
    except (_NotJson, ValueError):
        return None
    return f"json_to_recordset(%s::json) AS v({_column_types(tuple(fields))})", [document]


@functools.cache
def _keys(count: int) -> tuple[str, ...]:
    return tuple(f"column{n}" for n in range(1, count + 1))


@functools.cache
def _column_types(fields: tuple[models.Field, ...]) -> str:
    """`column1 type, ...` for json_to_recordset: the same few lists of fields, batch after batch."""
    return ", ".join(
        f"column{n} {field.rel_db_type(connection) if field.primary_key else field.db_type(connection)}"
        for n, field in enumerate(fields, start=1)
    )
