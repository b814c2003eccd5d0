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
back the same value. Anything else (dates, JSON, encrypted or custom fields) is prepared by its
field, as Django does.
"""

from collections.abc import Sequence

from django.db import connection, models
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
    for field in fields:
        # pre_save on an insert: what a save would write (auto_now_add and auto_now stamp it).
        value = field.pre_save(obj, add=True) if add else getattr(obj, field.attname)
        plain = _PLAIN.get(type(field))
        if value is None and field.null:
            values.append(None)
        elif plain is not None and type(value) in plain:
            values.append(value)
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
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(objects), INSERT_CHUNK):
        chunk = objects[start : start + INSERT_CHUNK]
        params = []
        for obj in chunk:
            params.extend(_values(obj, fields, add=True))
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))} "  # noqa: S608 - names from the model
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}"
        )
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
    casts = connection.vendor == "postgresql"  # VALUES are untyped there; SQLite takes them as they are

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
    row = "(" + ", ".join(["%s"] * (len(model_fields) + len(match_fields) + 1)) + ")"
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model, values as parameters
        f"FROM (VALUES {', '.join([row] * len(objects))}) AS v WHERE {' AND '.join(conditions)} "
        f"RETURNING {table}.{pk_column}"
    )
    params = []
    for obj in objects:
        params.append(obj.pk)
        params.extend(_values(obj, model_fields))
        params.extend(_values(obj, match_fields))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}
