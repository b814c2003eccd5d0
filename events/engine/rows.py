"""One UPDATE for many rows, each with its own values.

Django's bulk_update writes a CASE WHEN per row and per field, and building that expression costs
more CPU than the sends it records (measured: most of a send worker's time at 64 in flight). An
UPDATE ... FROM (VALUES ...) joins the new values instead, in PostgreSQL and in SQLite (3.33+)
alike: both name the columns of a bare VALUES list column1, column2, ...
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def update_rows(objects: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of each object (by primary key) in one statement; returns the rows changed."""
    if not objects:
        return 0
    model = type(objects[0])
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    pk_column = connection.ops.quote_name(meta.pk.column)
    casts = connection.vendor == "postgresql"  # VALUES are untyped there; SQLite takes them as they are

    def column(n: int, field) -> str:
        name = f"v.column{n}"
        return f"CAST({name} AS {field.db_type(connection)})" if casts else name

    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = {column(n, field)}"
        for n, field in enumerate(model_fields, start=2)
    )
    row = "(" + ", ".join(["%s"] * (len(model_fields) + 1)) + ")"
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model, values as parameters
        f"FROM (VALUES {', '.join([row] * len(objects))}) AS v WHERE {table}.{pk_column} = v.column1"
    )
    params = []
    for obj in objects:
        params.append(obj.pk)
        for field in model_fields:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
