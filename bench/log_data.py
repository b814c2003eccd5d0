"""bench/log.py's data: a million deliveries, their attempts and rollups, loaded with SQL.

Apps and event tokens go through the ORM; the rows through generate_series, with no Python per
row. Each statement is bounded by what is left of the run (remaining_ms), on the server too.
"""

import time
from collections.abc import Callable

STATEMENT_TIMEOUT = "60s"
IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
APPS = [("Bench Adjust iOS", "adjust", "ios"), ("Bench Adjust Android", "adjust", "android"),
        ("Bench Adjust Web", "adjust", "web"), ("Bench Tenjin Android", "tenjin", "android")]  # fmt: skip
TOKENS_PER_APP = 10
FAILURES = ["Device not found", "Invalid event token", "Event token not found", "App is inactive"]


def load(n: int, remaining_ms: Callable[[], int]) -> None:
    """Apps and tokens through the ORM; deliveries, attempts and rollups with generate_series."""
    from django.db import connection

    from events.models import App, EventToken
    from events.reporting.rollups import BOUNDS

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('events_delivery', 'events_attempt')"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        # Statistics targets set on index expressions (migration 0401): recreated indexes lose them.
        cursor.execute(
            "SELECT c.relname, a.attnum, a.attstattarget FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relname = ANY(%s) AND a.attstattarget > 0",
            [[name for name, _ in indexes]],
        )
        targets = cursor.fetchall()

    for name, provider, platform in APPS:
        app = App.objects.create(name=name, provider=provider, platform=platform, app_key="4w565xzmb54d" * 2)
        for t in range(TOKENS_PER_APP):
            EventToken.objects.create(app=app, name=f"Event {t}", token=f"{provider[:2]}{app.pk}t{t:02d}")
    # Fixed names and numbers of this module only: nothing from outside reaches the SQL.
    statements = [
        "SET synchronous_commit = off",
        "SET maintenance_work_mem = '256MB'",
        # Built once after the load rather than kept up row by row (the trigram index above all).
        *(f"DROP INDEX {name}" for name, _ in indexes),
        # Token 0 of each app is an archived campaign: its deliveries are 60 to 90 days old.
        f"""
        CREATE TEMP TABLE bench_tokens AS
        SELECT app_id, array_agg(id ORDER BY token) AS ids FROM events_eventtoken GROUP BY app_id;
        INSERT INTO events_delivery (
            app_id, event_token_id, source, params, environment, device_id_type, device_id, status,
            attempt_count, last_outcome, last_http_status, last_message, last_explanation,
            last_duration_ms, ambiguous, idempotency_key, created_at, updated_at, claim_token,
            claimed_by, finished_at, order_key, event_time)
        SELECT s.app_id, t.ids[CASE WHEN age > 60 * 86400 AND i % 50 = 0 THEN 1 ELSE 2 + i % {TOKENS_PER_APP - 1} END],
            CASE WHEN i % 200 = 0 THEN 'form' WHEN i % 7 = 0 THEN 'bulk' ELSE 'api' END,
            jsonb_build_object('idfa', dev, 'environment', 'production',
                'callback_params', '{{"order":"A-' || i || '"}}'),
            'production', 'idfa', dev, st,
            CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END,
            CASE st WHEN 'delivered' THEN 'delivered' WHEN 'failed' THEN 'permanent' ELSE 'retry' END,
            CASE st WHEN 'delivered' THEN 200 WHEN 'failed' THEN 400 WHEN 'dead' THEN 503 END,
            CASE WHEN st IN ('failed', 'dead') THEN (ARRAY{FAILURES!r})[1 + i % {len(FAILURES)}] ELSE '' END,
            '', 20 + (i::bigint * 7919) % 400, false, h, now() - age * interval '1 second',
            now() - age * interval '1 second', '', '',
            CASE WHEN st IN ('delivered', 'failed', 'dead') THEN now() - age * interval '1 second' END,
            s.app_id || ':' || dev, now() - age * interval '1 second'
        FROM (
            SELECT i, ({90 * 86400}::float * i / {n}) AS age, apps.ids[1 + i % {len(APPS)}] AS app_id,
                upper(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-'
                    || substr(h, 17, 4) || '-' || substr(h, 21, 12)) AS dev, h,
                CASE WHEN i < {n} / 1000 THEN 'retrying' WHEN i % 25 = 0 THEN 'failed'
                     WHEN i % 50 = 1 THEN 'dead' ELSE 'delivered' END AS st
            FROM generate_series(1, {n}) AS i, LATERAL (SELECT md5(i::text) AS h) hashed, (SELECT array_agg(id ORDER BY id) AS ids FROM events_app) apps
        ) s
        JOIN bench_tokens t ON t.app_id = s.app_id
        """,  # noqa: S608
        # One attempt per delivery, two for every tenth: 1.1 million.
        """
        INSERT INTO events_attempt (
            delivery_id, number, started_at, finished_at, method, url, request_headers, request_body,
            response_status, response_headers, response_body, response_truncated, duration_ms, outcome,
            ambiguous, mmp_message, explanation, error)
        SELECT d.id, n, d.created_at, d.created_at, 'POST', 'https://s2s.adjust.com/event',
            '{"Authorization": "Bearer ••••abcd"}', 's2s=1&event_token=x&idfa=' || d.device_id,
            CASE WHEN n < d.attempt_count THEN 503 ELSE d.last_http_status END, '{}', '{"status": "OK"}',
            false, d.last_duration_ms + n, CASE WHEN n < d.attempt_count THEN 'retry' ELSE d.last_outcome END,
            false, d.last_message, '', ''
        FROM events_delivery d, generate_series(1, d.attempt_count) AS n
        WHERE d.status <> 'retrying' OR n = 1
        """,
        # The rollups the engine would have written for these rows.
        """
        INSERT INTO events_outcomerollup (hour, app_id, provider, test, status, reason, deliveries, attempts)
        SELECT date_trunc('hour', d.created_at), d.app_id, a.provider, d.source = 'form', d.status,
            left(d.last_message, 200), count(*) FILTER (WHERE d.status <> 'retrying'), sum(d.attempt_count)
        FROM events_delivery d JOIN events_app a ON a.id = d.app_id
        GROUP BY 1, 2, 3, 4, 5, 6
        """,
        f"""
        INSERT INTO events_latencyrollup (hour, app_id, provider, test, bucket, attempts)
        SELECT date_trunc('hour', d.created_at), d.app_id, a.provider, d.source = 'form',
            width_bucket(x.duration_ms, ARRAY{[float(b) for b in BOUNDS]!r}::float8[]), count(*)
        FROM events_attempt x JOIN events_delivery d ON d.id = x.delivery_id
        JOIN events_app a ON a.id = d.app_id
        GROUP BY 1, 2, 3, 4, 5
        """,  # noqa: S608
        # The daily rows are the hourly ones added up by UTC day, as the engine keeps them.
        """
        INSERT INTO events_dailyoutcomerollup (day, app_id, provider, test, status, reason, deliveries, attempts)
        SELECT (hour AT TIME ZONE 'UTC')::date, app_id, provider, test, status, reason, sum(deliveries),
            sum(attempts)
        FROM events_outcomerollup GROUP BY 1, 2, 3, 4, 5, 6
        """,
        """
        INSERT INTO events_dailylatencyrollup (day, app_id, provider, test, bucket, attempts)
        SELECT (hour AT TIME ZONE 'UTC')::date, app_id, provider, test, bucket, sum(attempts)
        FROM events_latencyrollup GROUP BY 1, 2, 3, 4, 5
        """,
        *(definition for _, definition in indexes),
        *(
            f"ALTER INDEX {name} ALTER COLUMN {column} SET STATISTICS {target}"
            for name, column, target in targets
        ),
        "VACUUM ANALYZE",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            started = time.monotonic()
            # Long, but bounded by --max-seconds on the server too (the alarm cannot stop a wait in C).
            cursor.execute(f"SET statement_timeout = {remaining_ms()}")
            cursor.execute(sql)
            cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
            print(f"  {' '.join(sql.split())[:60]}… {time.monotonic() - started:.1f} s", flush=True)
