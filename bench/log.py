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

from bench.log_data import STATEMENT_TIMEOUT, load  # noqa: E402
from bench.setup import setup_django  # noqa: E402

SLOW_QUERY_MS = 20.0
LOG_TARGET_MS, OVERVIEW_TARGET_MS = 50.0, 200.0


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
            load(args.deliveries, remaining_ms)
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
