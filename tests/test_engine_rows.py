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
