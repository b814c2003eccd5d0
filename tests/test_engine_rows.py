"""The engine's batch writers (events/engine/rows.py) store exactly what Django's own saves would."""

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.engine.rows import insert_rows, update_rows
from events.models import Attempt, Delivery, SecurityToken, Source
from events.secrets import EncryptedTextField


def a_delivery(app) -> Delivery:
    token = app.event_tokens.create(name="Purchase", token="abc123")
    return Delivery.objects.create(
        app=app, event_token=token, source=Source.API, params={"s2s": "1"}, event_time=datetime.now(UTC)
    )


def test_insert_rows_stores_every_field_as_a_save_would_and_sets_the_keys(adjust_app):
    delivery = a_delivery(adjust_app)
    started = datetime(2026, 11, 30, 4, 5, 6, 789000, tzinfo=UTC)
    attempts = [
        Attempt(
            delivery=delivery,
            number=n,
            started_at=started,
            method="POST",
            url="https://s2s.adjust.com/event",
            request_headers={"Authorization": "Bearer ••••1234", "Ünïcode": "é"},
            request_body="s2s=1&x=%C3%A9",
            duration_ms=12.5 if n == 1 else None,
        )
        for n in (1, 2)
    ]
    with CaptureQueriesContext(connection) as queries:
        insert_rows(attempts)
    assert len(queries) == 1
    assert [a.pk for a in attempts] == list(
        Attempt.objects.filter(delivery=delivery).order_by("number").values_list("pk", flat=True)
    )
    first, second = Attempt.objects.filter(delivery=delivery).order_by("number")
    assert first.started_at == started
    assert first.request_headers == {"Authorization": "Bearer ••••1234", "Ünïcode": "é"}
    assert (first.duration_ms, second.duration_ms) == (12.5, None)
    assert (first.response_headers, first.outcome, first.ambiguous) == (None, "", False)


def test_update_rows_writes_each_rows_own_values_and_prepares_what_is_not_plain(adjust_app):
    delivery = a_delivery(adjust_app)
    attempts = [Attempt(delivery=delivery, number=n, method="POST", url="u") for n in (1, 2)]
    insert_rows(attempts)
    finished = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    for n, attempt in enumerate(attempts, start=1):
        attempt.finished_at = finished
        attempt.response_status = 200 + n
        attempt.response_headers = {"n": n}
        attempt.ambiguous = n == 2
    written = update_rows(attempts, ["finished_at", "response_status", "response_headers", "ambiguous"])
    assert written == {a.pk for a in attempts}
    stored = list(Attempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.finished_at, a.response_status, a.response_headers, a.ambiguous) for a in stored] == [
        (finished, 201, {"n": 1}, False),
        (finished, 202, {"n": 2}, True),
    ]


def test_an_encrypted_field_is_never_written_in_clear(adjust_app):
    # EncryptedTextField is a TextField subclass: the plain-value shortcut must not apply to it.
    token = SecurityToken.objects.create(app=adjust_app, label="t", value="old-secret-value")
    token.value = "new-secret-value-1234"
    update_rows([token], ["value"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM events_securitytoken WHERE id = %s", [token.pk])
        (raw,) = cursor.fetchone()
    assert "new-secret-value" not in raw
    assert isinstance(SecurityToken._meta.get_field("value"), EncryptedTextField)
    assert SecurityToken.objects.get(pk=token.pk).value == "new-secret-value-1234"


def stored(model, pk) -> dict:
    """A row as the database holds it, every column but the key."""
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


def test_inserted_and_updated_rows_equal_what_a_save_writes(adjust_app):
    # Text with what quoting must get right, microseconds, nested JSON, NULLs, a float and a bool.
    delivery = a_delivery(adjust_app)
    fields = {
        "started_at": datetime(2026, 11, 30, 4, 5, 6, 789012, tzinfo=UTC),
        "method": "POST",
        "url": "https://s2s.adjust.com/event?a=1&b='2'",
        "request_headers": {"Authorization": "Bearer ••••1234", "X": ['"q"', "back\\slash", None, 1.5]},
        "request_body": "s2s=1&x=%C3%A9 'it''s' \"quoted\" \\ ; -- %s %(x)s $1 ? é\n\t",
        "duration_ms": 12.25,
        "ambiguous": True,
    }
    saved = Attempt(delivery=delivery, number=1, **fields)
    saved.save()
    batched = Attempt(delivery=delivery, number=2, **fields)
    insert_rows([batched])
    assert {**stored(Attempt, batched.pk), "number": 1} == stored(Attempt, saved.pk)

    finished = {
        "finished_at": datetime(2026, 11, 30, 4, 5, 7, 1, tzinfo=UTC),
        "response_status": 400,
        "response_headers": {"Content-Type": "application/json; charset=utf-8", "É": "ü"},
        "response_body": '{"error":"Event request failed (Ünknown \\"token\\")"}',
        "mmp_message": "Ünknown 'token'",
        "outcome": "permanent",
        "skan_lock_window": None,
    }
    for attempt in (saved, batched):
        for name, value in finished.items():
            setattr(attempt, name, value)
    saved.save(update_fields=list(finished))
    assert update_rows([batched], list(finished)) == {batched.pk}
    assert {**stored(Attempt, batched.pk), "number": 1} == stored(Attempt, saved.pk)


def test_a_batch_is_one_statement_whatever_its_size_and_its_text_does_not_grow_on_postgresql(adjust_app):
    delivery = a_delivery(adjust_app)
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    for size in (1, 2, 64):
        first = Attempt.objects.filter(delivery=delivery).count() + 1
        attempts = [Attempt(delivery=delivery, number=first + n, method="POST", url="u") for n in range(size)]
        for attempt in attempts:
            attempt.response_status = 200
        statements.clear()
        with connection.execute_wrapper(capture):
            insert_rows(attempts)
            assert update_rows(attempts, ["response_status"], unchanged=["number"]) == {
                a.pk for a in attempts
            }
        assert len(statements) == 2  # one insert, one update
        if connection.vendor == "postgresql":
            # The rows travel as one JSON parameter: the same short text for every size of batch,
            # which psycopg parses once and caches (the placeholder form was parsed per batch).
            assert [len(params) for _, params in statements] == [1, 1]
            texts = [sql for sql, _ in statements]
            if size == 1:
                first_texts = texts
            assert texts == first_texts
            assert all(len(sql) < 4096 for sql in texts)  # psycopg's MAX_CACHED_STATEMENT_LENGTH
    assert Attempt.objects.filter(delivery=delivery, response_status=200).count() == 67


def test_an_encrypted_field_is_never_inserted_in_clear(adjust_app):
    token = SecurityToken(app=adjust_app, label="t", value="inserted-secret-value", value_last4="alue")
    insert_rows([token])
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM events_securitytoken WHERE id = %s", [token.pk])
        (raw,) = cursor.fetchone()
    assert "inserted-secret" not in raw
    assert SecurityToken.objects.get(pk=token.pk).value == "inserted-secret-value"


def test_a_value_json_cannot_carry_takes_the_placeholder_form(adjust_app):
    delivery = a_delivery(adjust_app)
    attempts = [
        Attempt(delivery=delivery, number=1, method="POST", url="u", duration_ms=float("inf")),
        Attempt(delivery=delivery, number=2, method="POST", url="u", duration_ms=3.0),
    ]
    if connection.vendor != "postgresql":
        attempts[0].duration_ms = 1.0  # SQLite stores no infinity; the path is PostgreSQL's
    insert_rows(attempts)
    stored_ms = list(
        Attempt.objects.filter(delivery=delivery).order_by("number").values_list("duration_ms", flat=True)
    )
    assert stored_ms == [attempts[0].duration_ms, 3.0]
    assert [a.pk for a in attempts] == list(
        Attempt.objects.filter(delivery=delivery).order_by("number").values_list("pk", flat=True)
    )
