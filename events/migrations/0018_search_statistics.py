"""Finer statistics on the search box's indexed expression (events/log/query.py, SearchedText).

PostgreSQL estimates how many rows a `LIKE '%text%'` matches from the expression's histogram; at
the default target (100) no term looks rarer than about 1% of the rows, so a term in 0.1% of them
is read by walking the time index past tens of thousands of rows (115 ms at a million rows)
instead of through the trigram index (17 ms). At 1000 the estimates resolve 0.1%. ANALYZE reads
a larger sample of this expression for it (about 10 s at a million rows, in autovacuum).
PostgreSQL only, like the index itself.
"""

from django.db import migrations

TARGET = 1000


def finer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX delivery_search_trgm ALTER COLUMN 1 SET STATISTICS {TARGET}")


def default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX delivery_search_trgm ALTER COLUMN 1 SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("events", "0017_daily_rollups")]

    operations = [migrations.RunPython(finer, default, elidable=False)]
