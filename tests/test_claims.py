"""Claims as fixed SQL text: the same rows as the ORM's form of the rule (claims.due), in the cases
where the rule is subtle, the same Delivery instances as the ORM loads, and one statement text
however many ids or keys a claim or an order-guard lookup carries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.engine import claims, create_delivery, order_guard
from events.models import Delivery, OrderMark, Source, Status
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db(transaction=True)


def device(n: int) -> str:
    return f"D2CADB5F-410F-4963-AC0C-{n:012X}"


def queued(app, n: int, minutes_ago: float, *, token: str = "f0ob4r") -> Delivery:
    created_at = str(int((timezone.now() - timedelta(minutes=minutes_ago)).timestamp()))
    fields = {"device_ids": {"idfa": device(n)}, "created_at": created_at}
    delivery, _ = create_delivery(app, app.event_tokens.get(token=token), fields, source=Source.CLI)
    return delivery


def tricky(app) -> dict[str, Delivery]:
    """One delivery per subtle case of the rule, by name."""
    now = timezone.now()
    rows = {
        "first_of_key": queued(app, 1, 30),
        "behind_queued": queued(app, 1, 20),
        "older_retrying_later": queued(app, 2, 30),
        "behind_retrying": queued(app, 2, 20),
        "older_sending": queued(app, 3, 30),
        "behind_sending": queued(app, 3, 20),
        "older_delivered": queued(app, 4, 30),
        "after_delivered": queued(app, 4, 20),
        "tie_lower_id": queued(app, 5, 30),
        "tie_higher_id": queued(app, 5, 30),
        "not_due": queued(app, 6, 30),
        "due_within_tolerance": queued(app, 7, 30),
        "retrying_due": queued(app, 8, 30),
        "no_key_a": queued(app, 9, 30),
        "no_key_b": queued(app, 9, 20),
        "other_token_same_device": queued(app, 1, 25, token="2y7e81"),
    }

    def update(name: str, **fields) -> None:
        Delivery.objects.filter(pk=rows[name].pk).update(**fields)

    update("older_retrying_later", status=Status.RETRYING, next_attempt_at=now + timedelta(hours=1))
    update("older_sending", status=Status.SENDING, claim_token="other", claimed_at=now)
    update("older_delivered", status=Status.DELIVERED)
    update("tie_higher_id", event_time=Delivery.objects.get(pk=rows["tie_lower_id"].pk).event_time)
    update("not_due", next_attempt_at=now + timedelta(minutes=5))
    update("due_within_tolerance", next_attempt_at=now + timedelta(seconds=1))
    update("retrying_due", status=Status.RETRYING, next_attempt_at=now - timedelta(seconds=1))
    update("no_key_a", order_key="")
    update("no_key_b", order_key="")
    return rows


def names(rows: dict[str, Delivery], pks) -> set[str]:
    by_pk = {d.pk: name for name, d in rows.items()}
    return {by_pk[pk] for pk in pks}


EXPECTED_DUE = {
    "first_of_key",
    "after_delivered",
    "tie_lower_id",
    "retrying_due",
    "no_key_a",
    "no_key_b",
    "other_token_same_device",
}


def test_a_claim_takes_exactly_the_rows_the_orm_rule_names(adjust):
    rows = tricky(adjust)
    orm = set(claims.due().values_list("pk", flat=True))
    assert names(rows, orm) == EXPECTED_DUE
    claimed = claims.claim("run", "worker", limit=100)
    assert {d.pk for d in claimed} == orm
    assert set(Delivery.objects.filter(claim_token="run").values_list("pk", flat=True)) == orm
    # Nothing is left to claim until one of them ends.
    assert claims.claim("run-2", "worker", limit=100) == []


def test_a_claim_of_ids_takes_those_due_within_the_tolerance_and_in_the_ids_order(adjust):
    rows = tricky(adjust)
    ids = [rows[name].pk for name in reversed(list(rows))]
    orm = set(
        claims.due(early=claims.CLAIM_EARLY_TOLERANCE).filter(pk__in=ids[:-3]).values_list("pk", flat=True)
    )
    assert "due_within_tolerance" in names(rows, orm)
    claimed = claims.claim("run", "worker", ids=ids[:-3], limit=len(ids))
    assert {d.pk for d in claimed} == orm
    assert [d.pk for d in claimed] == [pk for pk in ids if pk in orm]


def test_a_claim_among_keys_and_next_in_line(adjust):
    rows = tricky(adjust)
    keys = {rows["behind_queued"].order_key, "", rows["tie_higher_id"].order_key}
    orm = set(claims.due().filter(order_key__in=keys).values_list("pk", flat=True))
    assert names(rows, orm) == {"first_of_key", "tie_lower_id", "no_key_a", "no_key_b"}
    assert set(claims.next_in_line(keys)) == orm
    assert {d.pk for d in claims.claim("run", "worker", keys=keys, limit=100)} == orm


def test_a_claim_respects_its_limit_and_marks_its_rows(adjust):
    tricky(adjust)
    claimed = claims.claim("tok", "w-1", limit=3)
    assert len(claimed) == 3
    for delivery in Delivery.objects.filter(pk__in=[d.pk for d in claimed]):
        assert (delivery.status, delivery.claim_token, delivery.claimed_by) == (Status.SENDING, "tok", "w-1")
        assert delivery.attempt_count == 1 and delivery.claimed_at is not None


def test_claimed_instances_equal_what_the_orm_loads(adjust):
    rows = tricky(adjust)
    Delivery.objects.filter(pk=rows["retrying_due"].pk).update(
        ambiguous=True, skan_lock_window=False, last_duration_ms=12.5, last_http_status=500
    )
    claimed = claims.claim("run", "worker", limit=100)
    assert claimed
    with CaptureQueriesContext(connection) as queries:  # loaded with the claim, once per run
        assert {(d.app.pk, d.event_token.pk) for d in claimed} == {
            (d.app_id, d.event_token_id) for d in claimed
        }
    assert len(queries) == 0
    for delivery in claimed:
        loaded = Delivery.objects.get(pk=delivery.pk)
        for field in Delivery._meta.concrete_fields:
            mine, theirs = getattr(delivery, field.attname), getattr(loaded, field.attname)
            assert (mine, type(mine)) == (theirs, type(theirs)), field.name
        assert (delivery._state.adding, delivery._state.db) == (False, loaded._state.db)
        assert delivery.app == adjust and delivery.event_token.pk == delivery.event_token_id
        assert delivery == loaded
    # A claimed instance saves like a loaded one (an UPDATE of its row, not an INSERT).
    claimed[0].last_message = "saved"
    claimed[0].save(update_fields=["last_message"])
    assert Delivery.objects.get(pk=claimed[0].pk).last_message == "saved"


class Statements:
    """The SQL text each statement was given, before any parameter is bound into it."""

    def __init__(self):
        self.texts: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.texts.append(sql)
        return execute(sql, params, many, context)


def test_a_claims_statement_text_is_the_same_however_many_ids_it_carries(adjust):
    rows = list(tricky(adjust).values())
    statements = Statements()
    with connection.execute_wrapper(statements):
        claims.claim("a", "w", ids=[rows[0].pk], limit=1)
        claims.claim("b", "w", ids=[d.pk for d in rows[1:]], limit=len(rows))
        claims.claim("c", "w", limit=5)
        claims.claim("d", "w", limit=50)
        claims.next_in_line({"x"})
        claims.next_in_line({f"key-{n}" for n in range(80)})
    updates = [text for text in statements.texts if text.startswith("UPDATE")]
    selects = [
        text for text in statements.texts if "SELECT d.id FROM" in text and not text.startswith("UPDATE")
    ]
    assert len(updates) == 4 and len(set(updates[:2])) == 1 and len(set(updates[2:])) == 1
    assert len(selects) == 2 and len(set(selects)) == 1
    for text in updates + selects:
        assert len(text) < 4096 and text.count("%s") <= 50  # psycopg caches its parse of it
    if connection.vendor == "postgresql":
        assert all("FOR UPDATE OF d SKIP LOCKED" in text for text in updates)


def test_the_order_guard_reads_exactly_the_marks_of_its_keys_with_one_statement_text(adjust):
    first, second = adjust.event_tokens.get(token="f0ob4r"), adjust.event_tokens.get(token="2y7e81")
    when = datetime(2026, 11, 30, 4, 5, 6, 789012, tzinfo=UTC)
    quoted = 'c\'s "quoted" é'
    for token, device_id, seconds in (
        (first, IDFA, 0),
        (second, quoted, 5),
        (second, IDFA, 9),
        (first, quoted, 7),
    ):
        OrderMark.objects.create(
            app=adjust,
            event_token=token,
            device_id=device_id,
            newest_event_time=when + timedelta(seconds=seconds),
        )

    def key(token, device_id):
        return order_guard.Candidate(adjust.pk, token.pk, device_id, when)

    statements = Statements()
    with connection.execute_wrapper(statements):
        # Its apps, tokens and devices cross to (first, quoted) and (second, IDFA), which it did not ask for.
        ledger = order_guard.Ledger([key(first, IDFA), key(second, quoted), None, key(first, "unknown")])
        order_guard.Ledger([key(first, IDFA)])
    assert ledger.newest == {
        (adjust.pk, first.pk, IDFA): when,
        (adjust.pk, second.pk, quoted): when + timedelta(seconds=5),
    }
    assert len(statements.texts) == 2 and len(set(statements.texts)) == 1


def test_the_claims_older_one_lookup_can_use_the_partial_index_of_pending_rows(adjust):
    """The fixed text repeats the partial index's condition, so "is an older one still on its way?"
    is answered from the index of pending rows, not by reading the log."""
    tricky(adjust)
    sql, params = claims._claim_sql(connection.vendor, by_ids=True, by_keys=False)
    bound = claims._bind(params, timezone.now(), [1, 2, 3], None)
    values = [
        "sending",
        claims._bind((claims._DUE_BEFORE,), timezone.now(), None, None)[0],
        "t",
        "w",
        *bound,
        10,
    ]
    values += [Status.QUEUED.value, Status.RETRYING.value]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to read whole
            cursor.execute("EXPLAIN " + sql, values)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, values)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "delivery_order_pending" in plan, plan
