"""The log's search box reads a trigram index on PostgreSQL (events/log/query.py, SearchedText).

PostgreSQL only: SQLite scans, which is fine at its sizes. Built CONCURRENTLY (so not atomic) so a
large deliveries table stays writable while the index is built. The indexed expression must stay
byte for byte what SearchedText compiles to, upper-cased as Django's icontains does.
"""

from django.db import migrations

INDEX = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS delivery_search_trgm ON events_delivery
USING gin (UPPER(("device_id" || ' ' || "last_message" || ' '
    || jsonb_path_query_array("params", 'strict $.*')::text)) gin_trgm_ops)
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS delivery_search_trgm")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("events", "0008_delivery_event_time_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
