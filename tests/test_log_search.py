"""How the log's text search is read as its table grows: a text common among the newest rows is
found by walking the newest PROBE_ROWS rows of the time index (never a scan of its every match),
a rarer one through the trigram index, on statistics fine enough to tell 0.1% from 1%; both give
exactly the page the plain query gives. (tests/test_log.py has what the search finds.)"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.log import query as log_query
from events.models import Delivery, Source, Status
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db

ROWS = 20_000
RARE = "A-77777"


@pytest.fixture
def table(adjust_app):
    """ROWS deliveries a minute apart: all of them 'production', one in ten 'Invalid event
    token' (all older than the newest 5,000), one in a thousand a failure with the order RARE."""
    first = Delivery.objects.create(
        app=adjust_app, event_token=adjust_app.event_tokens.first(), source=Source.API,
        environment="production", device_id_type="idfa", device_id=IDFA, status=Status.DELIVERED,
        params={"idfa": IDFA, "environment": "production"}, created_at=timezone.now(),
    )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO events_delivery (app_id, event_token_id, source, params, environment,
                    device_id_type, device_id, status, attempt_count, last_outcome, last_message,
                    last_explanation, ambiguous, idempotency_key, created_at, updated_at, claim_token,
                    claimed_by, order_key)
                SELECT app_id, event_token_id, source,
                    params || jsonb_build_object('callback_params',
                        jsonb_build_object('order', CASE WHEN i %% 1000 = 0 THEN %s ELSE 'B-' || i END)),
                    environment, device_id_type, device_id, status, 1, '',
                    CASE WHEN i > 5000 AND i %% 10 = 0 THEN 'Invalid event token' ELSE '' END,
                    '', false, 'k' || i, created_at - i * interval '1 minute', created_at, '', '', ''
                FROM events_delivery, generate_series(1, %s) AS i WHERE id = %s
                """,
                [RARE, ROWS - 1, first.pk],
            )
            cursor.execute("ANALYZE events_delivery")
    else:
        Delivery.objects.bulk_create(
            Delivery(
                app=adjust_app, event_token=first.event_token, source=Source.API, environment="production",
                device_id_type="idfa", device_id=IDFA, status=Status.DELIVERED, idempotency_key=f"k{i}",
                params={"idfa": IDFA, "environment": "production",
                        "callback_params": {"order": RARE if i % 1000 == 0 else f"B-{i}"}},
                last_message="Invalid event token" if i > 5000 and i % 10 == 0 else "",
                created_at=first.created_at - timedelta(minutes=i),
            )
            for i in range(1, ROWS)
        )  # fmt: skip
    return first


def plain_page(text: str) -> list[int]:
    return [d.pk for d in log_query.page_query(log_query.filtered({"q": text}))]


@pytest.mark.parametrize(("text", "probed"), [("production", True), ("invalid", False), (RARE, False)])
def test_every_way_gives_the_page_the_plain_query_gives(table, text, probed):
    """Common among the newest rows: answered from them. Common among older rows only, or rare:
    the whole table is searched. Either way the page is exactly the plain query's."""
    assert (len(log_query.newest_matches({"q": text})) > log_query.PAGE_SIZE) == probed
    page = log_query.page({"q": text})
    expected = plain_page(text)
    assert [d.pk for d in page.rows] == expected[: log_query.PAGE_SIZE]
    assert (page.older is not None) == (len(expected) > log_query.PAGE_SIZE)
    further = log_query.page({"q": text}, before=page.older) if page.older else None
    if further:  # the next page too, through its cursor
        cursor_rows = log_query.page_query(log_query.filtered({"q": text}), before=page.older)
        assert [d.pk for d in further.rows] == [d.pk for d in cursor_rows][: log_query.PAGE_SIZE]


def test_a_common_word_reads_no_more_than_the_newest_rows(table):
    with CaptureQueriesContext(connection) as queries:
        page = log_query.page({"q": "production"})
    assert len(page.rows) == log_query.PAGE_SIZE
    searches = [q["sql"] for q in queries if "LIKE" in q["sql"].upper()]
    assert len(searches) == 1 and '"created_at" >=' in searches[0]  # bounded to the window


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_plans_the_newest_rows_walk_the_time_index_a_rare_text_reads_the_trigram_index(table):
    """Real plans on a table of 20,000 analysed rows: nothing is switched off. The look among the
    newest rows is a walk of the time index for any text (for a rare one the trigram index would
    look cheaper to the planner, and cost a scan of its posting lists)."""
    for text in ("production", RARE, IDFA.lower()):
        with CaptureQueriesContext(connection) as queries:
            log_query.newest_matches({"q": text})
        probe = queries.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + probe)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        assert "Index Scan using delivery_time" in plan and "Index Cond" in plan, plan
        assert "delivery_search_trgm" not in plan and "Sort" not in plan.split("Index Scan")[0], plan

    rare = log_query.page_query(log_query.filtered({"q": RARE}))
    assert "delivery_search_trgm" in rare.explain(), rare.explain()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.parametrize(("text", "walk"), [("B-12", True), ("invalid", True), (RARE, False)])
def test_the_whole_table_is_read_as_the_newest_rows_and_a_sample_say(table, text, walk):
    """B-12 is seen 11 times among the newest 1,000 rows: walk the time index on. 'Invalid' is
    not seen there but is in one older row in ten, as a sample of the whole table says: walk too.
    RARE is seen in neither: read it through the trigram index, whatever the planner estimates."""
    setting = "enable_bitmapscan" if walk else "enable_indexscan"
    with CaptureQueriesContext(connection) as queries:
        page = log_query.page({"q": text})
    sqls = [q["sql"] for q in queries]
    assert f"SET LOCAL {setting} = off" in sqls and f"SET LOCAL {setting} TO DEFAULT" in sqls
    assert [d.pk for d in page.rows] == plain_page(text)[: log_query.PAGE_SIZE]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {setting} = off")
        plan = log_query.page_query(log_query.filtered({"q": text})).explain()
        cursor.execute(f"SET LOCAL {setting} TO DEFAULT")
    if walk:
        assert "Index Scan using delivery_time" in plan and "delivery_search_trgm" not in plan, plan
    else:
        assert "Bitmap Index Scan on delivery_search_trgm" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_the_searched_expression_keeps_finer_statistics(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'delivery_search_trgm'::regclass"
        )
        assert cursor.fetchall() == [(1000,)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's TABLESAMPLE")
def test_the_sample_counts_the_share_among_the_rows_the_other_filters_keep(table, tenjin_app):
    """One row in ten is 'Invalid' among the older rows (about 7.5% of the table): common. Among
    the rows of an app that has none, it is not; RARE (0.1%) is rare everywhere. A sample of the
    table is read, never the table: its plan is a sample scan."""
    assert log_query.common_in_sample({"q": "invalid"})
    assert not log_query.common_in_sample({"q": "invalid", "app": tenjin_app})
    assert not log_query.common_in_sample({"q": RARE})
    with CaptureQueriesContext(connection) as queries:
        log_query.common_in_sample({"q": "invalid"})
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Sample Scan on events_delivery" in plan and "Seq Scan" not in plan, plan


def test_a_device_id_in_the_other_case_is_looked_up_as_a_device_id(adjust_app):
    """IDFAs and GAIDs are case-insensitive: one pasted in small letters is the device's id, read
    from the device index (not the trigram index); the same id stored in both cases finds both."""
    upper = Delivery.objects.create(
        app=adjust_app, event_token=adjust_app.event_tokens.first(), device_id_type="idfa",
        device_id=IDFA, params={"idfa": IDFA}, created_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    assert log_query.search(IDFA.lower()) == Q(device_id=IDFA)
    assert [d.pk for d in log_query.page({"q": IDFA.lower()}).rows] == [upper.pk]
    lower = Delivery.objects.create(
        app=adjust_app, event_token=upper.event_token, device_id_type="idfa", device_id=IDFA.lower(),
        params={}, created_at=timezone.now(),
    )  # fmt: skip
    assert log_query.search(IDFA) == Q(device_id__in=[IDFA, IDFA.lower()])
    assert [d.pk for d in log_query.page({"q": IDFA.lower()}).rows] == [lower.pk, upper.pk]
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table, read as a large one
            plan = log_query.page_query(log_query.filtered({"q": IDFA.lower()})).explain()
        assert "delivery_device_time" in plan and "delivery_search_trgm" not in plan, plan


def test_a_page_looks_the_search_up_as_a_device_id_once(table):
    """Each case of the text once (as typed, capitals, small letters), however many queries the
    page runs for it (the newest rows, the sample, the whole table)."""
    with CaptureQueriesContext(connection) as queries:
        log_query.page({"q": RARE.lower()})
    lookups = [q["sql"] for q in queries if '"device_id" = ' in q["sql"] and "LIMIT 1" in q["sql"]]
    assert len(lookups) == 2, lookups


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_a_walk_stops_at_its_bound_and_the_older_rows_are_read_through_the_trigram_index(table, monkeypatch):
    """B-19 is seen 11 times among the newest 1,000 rows (walk), then not again before the
    1,900th row: with the walk bounded to about 1,500 rows, it finds 11 and the trigram index
    the rest of the page. The page, and the one after it, are the plain query's."""
    monkeypatch.setattr(log_query, "WALK_ROWS", 1500)
    with CaptureQueriesContext(connection) as queries:
        page = log_query.page({"q": "B-19"})
    sqls = [q["sql"] for q in queries]
    assert "SET LOCAL enable_bitmapscan = off" in sqls and "SET LOCAL enable_indexscan = off" in sqls
    expected = plain_page("B-19")
    assert [d.pk for d in page.rows] == expected[: log_query.PAGE_SIZE] and page.older is not None
    further = log_query.page({"q": "B-19"}, before=page.older)
    cursor_rows = log_query.page_query(log_query.filtered({"q": "B-19"}), before=page.older)
    assert [d.pk for d in further.rows] == [d.pk for d in cursor_rows][: log_query.PAGE_SIZE]
