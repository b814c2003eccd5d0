"""The request log: newest first, every filter and the search from the URL, keyset pages with no
duplicate and no gap, the results fragment for auto-refresh, and the CSV export."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.log import export as log_export
from events.log import query as log_query
from events.models import Delivery, Source, Status
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def row(app, *, token=None, minutes_ago=0, **fields) -> Delivery:
    event_token = app.event_tokens.get(token=token) if token else app.event_tokens.first()
    defaults = {
        "source": Source.API,
        "environment": app.default_environment,
        "device_id_type": "idfa",
        "device_id": IDFA,
        "status": Status.DELIVERED,
        "last_http_status": 200,
        "attempt_count": 1,
        "last_duration_ms": 80.0,
        "created_at": NOW - timedelta(minutes=minutes_ago),
    }
    return Delivery.objects.create(app=app, event_token=event_token, **{**defaults, **fields})


def ids_on(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/deliveries/(\d+)/"', response.content.decode())]


@pytest.fixture
def reader(client_for, viewer):
    return client_for(viewer)


# --- Who may ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(db, client):
    assert client.get(reverse("log")).status_code == 302
    assert client.get(reverse("log_export")).status_code == 302


def test_an_outsider_is_refused(client_for, outsider):
    client = client_for(outsider)
    assert client.get(reverse("log")).status_code == 403
    assert client.get(reverse("log_export")).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "marketer", "admin"])
def test_every_role_reads_the_log(request, client_for, role):
    assert client_for(request.getfixturevalue(role)).get(reverse("log")).status_code == 200


def test_the_log_only_answers_get(reader):
    assert reader.post(reverse("log")).status_code == 405
    assert reader.post(reverse("log_export")).status_code == 405


# --- Rows --------------------------------------------------------------------------------------


def test_rows_come_newest_first_with_their_columns(reader, adjust_app):
    old = row(adjust_app, minutes_ago=10, last_duration_ms=120.4)
    new = row(
        adjust_app,
        token="2y7e81",
        status=Status.FAILED,
        last_http_status=404,
        last_message="Device not found",
    )
    response = reader.get(reverse("log"))
    assert ids_on(response) == [new.pk, old.pk]
    page = response.content.decode()
    for text in (
        "Demo Adjust iOS",
        "Signup",
        IDFA,
        "API",
        "sandbox",
        "Failed",
        "404",
        "120 ms",
        "Device not found",
    ):
        assert text in page


def test_test_traffic_is_marked(reader, adjust_app):
    row(adjust_app, source=Source.FORM)
    page = reader.get(reverse("log")).content.decode()
    assert 'class="test-row"' in page and '<span class="badge test">test</span>' in page


def test_an_answer_with_a_script_is_escaped(reader, adjust_app):
    row(adjust_app, status=Status.FAILED, last_message="<script>alert(1)</script>")
    page = reader.get(reverse("log")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


# --- Filters -----------------------------------------------------------------------------------


@pytest.fixture
def mixed(adjust_app, tenjin_app):
    return {
        "adjust": row(adjust_app, minutes_ago=1),
        "signup": row(adjust_app, token="2y7e81", minutes_ago=2, source=Source.FORM, environment="production"),
        "failed": row(adjust_app, minutes_ago=3, status=Status.FAILED, last_http_status=404, last_message="Device not found"),
        "retrying": row(adjust_app, minutes_ago=4, status=Status.RETRYING, last_http_status=503, source=Source.CLI),
        "queued": row(adjust_app, minutes_ago=5, status=Status.QUEUED, last_http_status=None, last_duration_ms=None, attempt_count=0),
        "tenjin": row(tenjin_app, minutes_ago=6, device_id_type="advertising_id", device_id=TENJIN_ADVERTISING_ID, source=Source.BULK),
        "old": row(adjust_app, minutes_ago=60 * 48, device_id="8A3CB124-5A79-4334-8802-F75FEC099C58", device_id_type="idfv"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("status=queued", ["queued"]),
        ("http=404", ["failed"]),
        ("http=5xx", ["retrying"]),
        ("http=none", ["queued"]),
        ("source=form", ["signup"]),
        ("source=bulk", ["tenjin"]),
        ("environment=production", ["signup", "tenjin"]),
        ("period=24h&source=api", ["adjust", "failed", "queued"]),
        ("q=Device+not", ["failed"]),
        ("q=device+NOT+found", ["failed"]),
        (f"q={TENJIN_ADVERTISING_ID}", ["tenjin"]),
        ("q=8A3CB124-5A79-4334-8802-F75FEC099C58", ["old"]),
    ],
)
def test_each_filter(reader, mixed, query, expected):
    assert ids_on(reader.get(f"{reverse('log')}?{query}")) == [mixed[name].pk for name in expected]


def test_filter_by_app_and_event(reader, mixed, adjust_app, tenjin_app):
    assert ids_on(reader.get(f"{reverse('log')}?app={tenjin_app.pk}")) == [mixed["tenjin"].pk]
    signup = adjust_app.event_tokens.get(token="2y7e81")
    assert ids_on(reader.get(f"{reverse('log')}?event={signup.pk}")) == [mixed["signup"].pk]


def test_filter_by_time_range(reader, mixed):
    since = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    until = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert ids_on(reader.get(f"{reverse('log')}?since={since}&until={until}")) == [mixed["old"].pk]


@pytest.mark.parametrize(
    "query",
    [
        IDFA[:8],  # the start of a device id
        IDFA[9:23].lower(),  # a lowercase part of it
        IDFA.lower(),  # a whole IDFA in lowercase (Adjust's ids are case-insensitive)
        "a-1001",  # a callback parameter's value
        "Summer",  # a partner parameter's value
    ],
)
def test_search_finds_parts_of_ids_and_parameter_values_in_any_case(reader, adjust_app, query):
    params = {"idfa": IDFA, "callback_params": '{"order":"A-1001"}', "partner_params": '{"promo":"SUMMER"}'}
    found = row(adjust_app, params=params)
    row(adjust_app, device_id="0B1C2D3E-0000-0000-0000-000000000000", params={"idfa": "0B1C2D3E"})
    assert ids_on(reader.get(f"{reverse('log')}?q={query}")) == [found.pk]


def test_search_matches_parameter_values_not_their_names(reader, adjust_app):
    row(adjust_app, params={"callback_params": '{"order":"42"}'}, last_message="")
    assert ids_on(reader.get(f"{reverse('log')}?q=environment")) == []


def test_a_search_shorter_than_three_characters_only_matches_whole_ids(reader, adjust_app):
    row(adjust_app, last_message="ok")
    assert ids_on(reader.get(f"{reverse('log')}?q=ok")) == []


def test_a_from_time_after_the_until_time_is_named_not_an_empty_page(reader, mixed):
    since = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    until = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = reader.get(f"{reverse('log')}?since={since}&until={until}")
    body = response.content.decode()
    assert "This is not after &#x27;From&#x27;: no delivery can match. Swap the two times." in body
    assert "Fix the filters above to see deliveries." in body and ids_on(response) == []


def test_search_by_delivery_id(reader, mixed):
    pk = mixed["retrying"].pk
    assert ids_on(reader.get(f"{reverse('log')}?q={pk}")) == [pk]
    assert ids_on(reader.get(f"{reverse('log')}?q=%23{pk}")) == [pk]


def test_invalid_filters_show_the_error_and_no_rows(reader, mixed):
    response = reader.get(f"{reverse('log')}?http=abc&app=999999")
    page = response.content.decode()
    assert ids_on(response) == []
    assert "An HTTP status like 404" in page and "Fix the filters" in page


def test_the_filters_stay_in_the_export_link(reader, mixed):
    page = reader.get(f"{reverse('log')}?status=failed&q=Device").content.decode()
    assert f"{reverse('log_export')}?status=failed&amp;q=Device" in page


# --- Keyset pagination -------------------------------------------------------------------------


def test_pages_walk_every_row_once_both_ways(reader, adjust_app, monkeypatch):
    monkeypatch.setattr(log_query, "PAGE_SIZE", 4)
    same_instant = NOW - timedelta(minutes=30)
    rows = [row(adjust_app, minutes_ago=i) for i in range(7)]
    # Ties on created_at are broken by id, so rows sharing an instant are neither lost nor repeated.
    rows += [row(adjust_app, created_at=same_instant) for _ in range(4)]
    expected = [d.pk for d in Delivery.objects.order_by("-created_at", "-id")]

    seen, pages, url = [], [], reverse("log")
    while url:
        response = reader.get(url)
        pages.append(ids_on(response))
        seen += pages[-1]
        older = re.search(r'href="\?([^"]*before=[^"]+)" rel="next"', response.content.decode())
        url = f"{reverse('log')}?{older[1].replace('&amp;', '&')}" if older else None
    assert seen == expected
    assert [len(p) for p in pages] == [4, 4, 3]

    # And back: "newer" from the last page gives the page before it.
    last = reader.get(f"{reverse('log')}?before={log_query.Cursor.of(Delivery.objects.get(pk=pages[1][-1]))}")
    newer = re.search(r'href="\?([^"]*after=[^"]+)" rel="prev"', last.content.decode())
    assert ids_on(reader.get(f"{reverse('log')}?{newer[1]}")) == pages[1]


def test_the_first_page_has_no_newer_link_and_a_full_page_has_an_older_one(reader, adjust_app, monkeypatch):
    monkeypatch.setattr(log_query, "PAGE_SIZE", 2)
    for i in range(3):
        row(adjust_app, minutes_ago=i)
    page = reader.get(reverse("log")).content.decode()
    assert 'rel="prev"' not in page and 'rel="next"' in page


def test_a_garbled_cursor_shows_the_first_page(reader, adjust_app):
    d = row(adjust_app)
    assert ids_on(reader.get(f"{reverse('log')}?before=nonsense")) == [d.pk]


def test_the_page_never_counts_the_table(reader, adjust_app):
    for i in range(3):
        row(adjust_app, minutes_ago=i)
    with CaptureQueriesContext(connection) as queries:
        reader.get(reverse("log"))
    assert not [q for q in queries if "COUNT(" in q["sql"].upper() and "events_delivery" in q["sql"]]


def test_the_results_fragment_is_the_table_alone(reader, adjust_app):
    d = row(adjust_app)
    response = reader.get(f"{reverse('log')}?fragment=results")
    page = response.content.decode()
    assert "<html" not in page and f"/deliveries/{d.pk}/" in page


# --- The queries use the indexes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"app": True}, "delivery_app_time"),
        ({"event": True}, "delivery_event_time"),
        ({"status": "failed"}, "delivery_status_time"),
        ({"q": IDFA}, "delivery_device_time"),
        # Only the deliveries whose answer carried SKAN values are in this partial index.
        ({"skan": "with"}, "delivery_skan_time"),
        ({"skan": "high"}, "delivery_skan_time"),
    ],
)
def test_filtered_pages_are_read_through_their_index(adjust_app, filters, index):
    """The page query, as the planner sees it: each filter leads one of the Delivery indexes.

    The test table is tiny, so PostgreSQL is told to avoid sequential scans and full sorts, as it
    would on a big table (on a million rows it picks these indexes unprompted); SQLite plans
    from the schema alone.
    """
    row(adjust_app)
    if "app" in filters:
        filters = {"app": adjust_app}
    if "event" in filters:
        filters = {"event": adjust_app.event_tokens.first()}
    before = log_query.Cursor(NOW + timedelta(days=1), 10**9)
    for cursor in ({}, {"before": before}):
        qs = log_query.page_query(log_query.filtered(filters), **cursor)
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("SET LOCAL enable_seqscan = off")
                c.execute("SET LOCAL enable_sort = off")  # as on a big table: the index gives the order
        plan = qs.explain()
        assert index in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
@pytest.mark.parametrize("text", ["Device not found", "a-1001", IDFA[:8].lower()])
def test_text_search_reads_the_trigram_index(adjust_app, text):
    """The searched expression is the indexed one: with plain index scans and sequential scans
    off, only a bitmap scan of the trigram index can answer (any other plan is a sequential scan)."""
    row(adjust_app)
    qs = log_query.page_query(log_query.filtered({"q": text}))
    with connection.cursor() as c:
        c.execute("SET LOCAL enable_seqscan = off")
        c.execute("SET LOCAL enable_indexscan = off")
    plan = qs.explain()
    assert "delivery_search_trgm" in plan, plan


# --- CSV export ----------------------------------------------------------------------------------


def test_the_export_streams_the_filtered_rows_as_csv(reader, mixed):
    response = reader.get(f"{reverse('log_export')}?status=failed")
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="s2sadmin-deliveries-')
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0][:4] == ["delivery_id", "created_at", "app", "event"]
    assert len(lines) == 2
    exported = dict(zip(lines[0], lines[1], strict=True))
    failed = mixed["failed"]
    assert exported["delivery_id"] == str(failed.pk)
    assert exported["status"] == "failed" and exported["http_status"] == "404"
    assert exported["device_id"] == IDFA and exported["mmp_message"] == "Device not found"
    assert exported["test"] == "no" and exported["latency_ms"] == "80.0"


def test_the_export_has_every_row_without_paging(reader, adjust_app, monkeypatch):
    monkeypatch.setattr(log_query, "PAGE_SIZE", 2)
    for i in range(5):
        row(adjust_app, minutes_ago=i)
    lines = b"".join(reader.get(reverse("log_export")).streaming_content).decode().splitlines()
    assert len(lines) == 6


def test_the_export_defuses_spreadsheet_formulas(reader, adjust_app):
    row(adjust_app, status=Status.FAILED, last_message='=HYPERLINK("http://evil.example","x")')
    row(adjust_app, status=Status.FAILED, last_message="@SUM(1+1)")
    row(adjust_app, status=Status.FAILED, last_message="-2+3")
    text = b"".join(reader.get(reverse("log_export")).streaming_content).decode()
    messages = [line[-1] for line in list(csv.reader(io.StringIO(text)))[1:]]
    assert sorted(messages) == sorted(['\'=HYPERLINK("http://evil.example","x")', "'@SUM(1+1)", "'-2+3"])


def test_an_export_with_invalid_filters_is_refused(reader, db):
    response = reader.get(f"{reverse('log_export')}?http=abc")
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["http=²", "q=²", "q=%23٣", "http=٣xx"])
def test_digits_from_other_scripts_never_break_the_log(reader, mixed, query):
    assert reader.get(f"{reverse('log')}?{query}").status_code == 200


def test_the_export_reads_the_time_index_in_its_order_without_joining(adjust_app, tenjin_app):
    """No join and the index's own order: PostgreSQL streams rows from the cursor instead of
    sorting the whole result before the first one."""
    row(adjust_app)
    row(tenjin_app)
    with CaptureQueriesContext(connection) as queries:
        rows = list(log_export.export_rows({}))
    assert [r.app.name for r in rows] == [tenjin_app.name, adjust_app.name]  # same time: newest id first
    export = [q["sql"] for q in queries.captured_queries if "events_delivery" in q["sql"]]
    assert len(export) == 1 and "JOIN" not in export[0]
    assert 'ORDER BY "events_delivery"."created_at" DESC, "events_delivery"."id" DESC' in export[0]
    if connection.vendor == "postgresql":  # tiny table: told to avoid the scan a big one would
        with connection.cursor() as c:
            c.execute("SET LOCAL enable_seqscan = off")
        plan = log_query.newest_first(log_query.filtered({})).only("id", "created_at").explain()
        assert "delivery_time" in plan and "Sort" not in plan, plan
