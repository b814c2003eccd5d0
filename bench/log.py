"""The read side at scale: the request log, the delivery page, the overview and the export, timed
on PostgreSQL with a million deliveries (1.1 million attempts) over 90 days.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2sadmin REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/log.py [--deliveries 1000000] [--runs 7] [--keep]

The database `<DATABASE_URL's name>_bench` is recreated, loaded with SQL (generate_series, no
Python per row) and dropped at the end unless --keep. Each page is requested through Django's
test client (the whole server side: middleware, queries, template) `--runs` times after one
warm-up; the table gives the median against its target: 50 ms for the log and the delivery page,
200 ms for the overview, and the export's time to its first row. Every query slower than 20 ms
in a timed request is printed with its EXPLAIN (ANALYZE, BUFFERS).

Bounded: each measured statement times out after STATEMENT_TIMEOUT, the load's statements and
the whole run after --max-seconds; a stuck run (or SIGTERM, or Ctrl-C) says why, drops its
database and exits with status 2. It starts no process. Exit status 1 when a target is missed.
"""

import argparse
import os
import signal
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.setup import setup_django  # noqa: E402

STATEMENT_TIMEOUT = "60s"
SLOW_QUERY_MS = 20.0
LOG_TARGET_MS, OVERVIEW_TARGET_MS = 50.0, 200.0
IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
APPS = [("Bench Adjust iOS", "adjust", "ios"), ("Bench Adjust Android", "adjust", "android"),
        ("Bench Adjust Web", "adjust", "web"), ("Bench Tenjin Android", "tenjin", "android")]  # fmt: skip
TOKENS_PER_APP = 10
FAILURES = ["Device not found", "Invalid event token", "Event token not found", "App is inactive"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database afterwards.")
    parser.add_argument(
        "--reuse", action="store_true", help="Measure the database kept by an earlier --keep run (no load)."
    )
    parser.add_argument("--max-seconds", type=int, default=1800)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/log.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")  # the overview copes without Redis
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # no manifest

    global DEADLINE
    DEADLINE = time.monotonic() + args.max_seconds

    def stop(reason: str):
        def handler(signum, frame):
            raise Stopped(reason)

        return handler

    signal.signal(signal.SIGALRM, stop(f"stopped after --max-seconds {args.max_seconds}: a stuck run"))
    signal.signal(signal.SIGTERM, stop("stopped by SIGTERM"))
    signal.alarm(args.max_seconds)
    try:
        wait_for_postgres(os.environ["DATABASE_URL"])
        setup_django("http://127.0.0.1:9", recreate=not args.reuse)  # nothing is sent
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
        started = time.monotonic()
        if not args.reuse:
            load(args.deliveries)
            print(f"Loaded {args.deliveries:,} deliveries in {time.monotonic() - started:.0f} s", flush=True)
        missed = measure(args.runs)
    except (Stopped, KeyboardInterrupt) as stopped:
        print(
            f"bench/log.py {stopped or 'stopped by Ctrl-C'}; nothing measured is reported.", file=sys.stderr
        )
        return 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not stop the clean-up
        if not args.keep:
            try:
                drop_database()
            except Exception as exc:  # say so, without hiding why the run ended
                print(f"bench/log.py could not drop its database: {exc}", file=sys.stderr)
    return 1 if missed else 0


def wait_for_postgres(url: str, seconds: float = 120) -> None:
    """A server busy with other clients ("too many clients") is waited for, up to `seconds`."""
    import psycopg

    base = url.rsplit("/", 1)[0]
    waited_until = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(base + "/postgres").close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > waited_until:
                raise Stopped(f"could not connect to PostgreSQL for {seconds:.0f} s: {exc}") from exc
            time.sleep(2)


class Stopped(Exception):
    """The run was stopped: --max-seconds passed, or SIGTERM."""


DEADLINE = float("inf")  # time.monotonic() by which the run ends (--max-seconds)


def remaining_ms() -> int:
    """What is left of --max-seconds: the load's statements time out with it on the server too."""
    return max(int((DEADLINE - time.monotonic()) * 1000), 1)


# --- Load ---------------------------------------------------------------------------------------


def load(n: int) -> None:
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


# --- Measure ------------------------------------------------------------------------------------


def measure(runs: int) -> list[str]:
    from django.contrib.auth.models import User
    from django.test import Client

    from events.models import App, Delivery, EventToken
    from events.roles import VIEWER, assign_role

    User.objects.filter(username="bench-viewer").delete()  # from an earlier run (--reuse)
    user = User.objects.create_user("bench-viewer", password="x")
    assign_role(user, VIEWER)
    client = Client()
    client.force_login(user)
    app = App.objects.order_by("id").first()
    recent_token = EventToken.objects.filter(app=app).order_by("token")[1]
    old_token = EventToken.objects.filter(app=app).order_by("token")[0]
    sample = Delivery.objects.filter(app=app, status="failed").order_by("-created_at")[10]
    page_50 = fiftieth_page_cursor()
    tenjin = Delivery.objects.filter(app__provider="tenjin").order_by("-created_at").first()

    log_cases = [
        ("log: unfiltered", "/log/"),
        ("log: app", f"/log/?app={app.pk}"),
        ("log: event token", f"/log/?event={recent_token.pk}"),
        ("log: old event token", f"/log/?event={old_token.pk}"),
        ("log: status failed", "/log/?status=failed"),
        ("log: HTTP 4xx", "/log/?http=4xx"),
        ("log: source bulk", "/log/?source=bulk"),
        ("log: last 24 h", "/log/?period=24h"),
        ("log: MMP tenjin", "/log/?mmp=tenjin"),
        ("log: search device id", f"/log/?q={sample.device_id}"),
        ("log: search id prefix", f"/log/?q={sample.device_id[:13]}"),
        ("log: search lowercase id", f"/log/?q={sample.device_id.lower()}"),
        ("log: search param value", f"/log/?q=A-{sample.pk}"),
        ("log: search MMP words", "/log/?q=token+not+found"),
        ("log: search rare words", "/log/?q=no+such+words"),
        ("log: 50th page", f"/log/?before={page_50}"),
        ("delivery page", f"/deliveries/{sample.pk}/"),
        ("delivery page (Tenjin)", f"/deliveries/{tenjin.pk}/"),
    ]
    overview_cases = [(f"overview: {key}", f"/?range={key}") for key in ("1h", "24h", "7d", "30d")]
    overview_cases.append(("overview: custom 90 d", custom_overview()))
    rows, missed = [], []
    for name, url in log_cases:
        rows.append((name, *timed(client, url, runs), LOG_TARGET_MS))
    for name, url in overview_cases:
        rows.append((name, *timed(client, url, runs), OVERVIEW_TARGET_MS))
    rows.append(
        ("export: first row (all)", *timed(client, "/log/export.csv", runs, first_byte=True), LOG_TARGET_MS)
    )
    print(f"\nLoad average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not rollups_match_a_recount():
        missed.append("overview figures")
    print("\n| query | median ms | of which SQL | target ms | |\n|---|---:|---:|---:|---|")
    for name, median, sql_ms, _, target in rows:
        ok = median <= target
        if not ok:
            missed.append(name)
        print(f"| {name} | {median:.1f} | {sql_ms:.1f} | {target:.0f} | {'ok' if ok else 'MISSED'} |")
    print()
    for name, _, _, slow, _ in rows:
        for sql, ms, plan in slow:
            print(f"--- {name}: a query of {ms:.1f} ms\n{sql}\n{plan}\n")
    return missed


def rollups_match_a_recount() -> bool:
    """The 90-day overview (daily rows, hourly edges) against a count of the delivery rows."""
    from django.utils import timezone

    from events.models import Delivery, Status
    from events.reporting import figures

    span = figures.custom(timezone.now() - timedelta(days=90), timezone.now())
    overall = figures.report(span).overall
    rows = Delivery.objects.filter(created_at__gte=span.start, created_at__lt=span.end)
    counted = (rows.count(), rows.filter(status=Status.DELIVERED).count())
    match = (overall.sends, overall.delivered) == counted
    print(
        f"Overview of {span.label}: {overall.sends:,} sends, {overall.delivered:,} delivered; "
        f"the rows say {counted[0]:,} and {counted[1]:,}: {'match' if match else 'MISMATCH'}"
    )
    return match


def timed(client, url: str, runs: int, *, first_byte: bool = False):
    """(median ms, median ms in SQL, [(sql, ms, plan)] for queries over SLOW_QUERY_MS in the last run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, sql_times = [], []
    for run in range(runs + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            if first_byte:
                stream = iter(response.streaming_content)
                next(stream)  # the header line
                next(stream)  # the first row
            elapsed = (time.perf_counter() - started) * 1000
            if first_byte:
                response.close()
        assert response.status_code == 200, (url, response.status_code)
        if run:
            times.append(elapsed)
            sql_times.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    slow = []
    for query in queries.captured_queries:
        ms = float(query["time"]) * 1000
        if ms > SLOW_QUERY_MS and not query["sql"].startswith(("SAVEPOINT", "RELEASE", "DECLARE", "CLOSE")):
            slow.append((query["sql"], ms, explain(query["sql"])))
    return statistics.median(times), statistics.median(sql_times), slow


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def fiftieth_page_cursor() -> str:
    from events.log import query as log_query
    from events.models import Delivery

    row = Delivery.objects.order_by("-created_at", "-id").only("id", "created_at")[
        49 * log_query.PAGE_SIZE - 1
    ]
    return str(log_query.Cursor.of(row))


def custom_overview() -> str:
    from django.utils import timezone

    now = timezone.now()
    since, until = now - timedelta(days=90), now
    return f"/?range=custom&since={since:%Y-%m-%dT%H:%M}&until={until:%Y-%m-%dT%H:%M}"


def drop_database() -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    if not name.endswith("_bench"):
        return  # stopped before the bench database was named: nothing of this run to drop
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        # FORCE: a statement stopped on this side may still be running on the server.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(f"Dropped {name}.")


if __name__ == "__main__":
    sys.exit(main())
