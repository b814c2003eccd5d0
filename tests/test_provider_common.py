"""The checks both providers share, and the table lookup behind every classification."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from events.models import Outcome
from events.providers import EventInvalid
from events.providers.answers import AnswerRule, find_rule, generic_rules
from events.providers.common import (
    CURRENCY_CODES,
    Errors,
    Problem,
    ip_version,
    parse_decimal,
    parse_integer,
    parse_retry_after,
    parse_string_object,
    text,
)


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "GBP", "CHF", "XCG", "ZWG", "SLE", "VED"])
def test_the_currency_set_holds_active_currencies(code):
    assert code in CURRENCY_CODES


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "XDR", "HRK", "CUC", "ZWL", "eur", "EURO"])
def test_the_currency_set_leaves_out_non_money_and_withdrawn_codes(code):
    assert code not in CURRENCY_CODES


def test_the_currency_set_is_a_frozenset_of_three_uppercase_letters():
    assert isinstance(CURRENCY_CODES, frozenset)
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in CURRENCY_CODES)


@pytest.mark.parametrize(
    ("address", "version"),
    [("203.0.113.7", 4), ("2001:db8::1", 6), ("203.0.113", None), ("1.2.3.04", None), ("", None)],
)
def test_it_tells_the_ip_version(address, version):
    assert ip_version(address) == version


def test_it_treats_blank_text_as_not_given():
    assert (text(None, "x"), text("  ", "x"), text(" a ", "x"), text(12, "x")) == (None, None, "a", "12")


def test_it_refuses_a_list_where_text_is_expected():
    with pytest.raises(Problem, match="x must be text, not list"):
        text(["a"], "x")


@pytest.mark.parametrize(
    ("value", "expected"), [("149.99", Decimal("149.99")), ("-1", Decimal(-1)), (2, Decimal(2))]
)
def test_it_parses_a_plain_decimal(value, expected):
    assert parse_decimal(value, "price") == expected


@pytest.mark.parametrize("value", ["1e3", "NaN", "1,5", "", None, True])
def test_it_refuses_anything_but_a_plain_decimal(value):
    with pytest.raises(Problem):
        parse_decimal(value, "price")


def test_it_parses_a_whole_number():
    assert parse_integer(" 50 ", "value") == 50
    with pytest.raises(Problem):
        parse_integer("50.0", "value")


def test_it_returns_a_flat_string_object_as_a_dict():
    assert parse_string_object('{"a": "1", "b": ""}', "p") == {"a": "1", "b": ""}


def test_it_lists_every_value_that_is_not_a_string():
    with pytest.raises(Problem) as caught:
        parse_string_object({"a": 1, "b": "ok", "c": [1]}, "p")
    assert len(caught.value.messages) == 2


def test_it_reads_retry_after_in_seconds():
    assert parse_retry_after(" 120 ") == 120.0


def test_it_reads_retry_after_as_an_http_date():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 22 Nov 2026 12:01:30 GMT", now) == 90.0


def test_it_reads_a_past_retry_after_date_as_no_wait():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 22 Nov 2026 11:00:00 GMT", now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5"])
def test_it_ignores_a_retry_after_it_cannot_read(value):
    assert parse_retry_after(value) is None


def test_the_collector_raises_every_problem_by_field():
    errors = Errors()
    assert errors.check("price", parse_decimal, "abc", "price") is None
    errors.add("price", "And another.")
    errors.add("__all__", "Too big.")
    with pytest.raises(EventInvalid) as caught:
        errors.raise_if_any()
    assert list(caught.value.errors) == ["price", "__all__"]
    assert len(caught.value.errors["price"]) == 2


def test_the_collector_passes_a_good_value_through():
    errors = Errors()
    assert errors.check("price", parse_decimal, "1.5", "price") == Decimal("1.5")
    assert not errors
    errors.raise_if_any()


def test_the_first_matching_row_wins_and_prefixes_ignore_case():
    specific = AnswerRule(404, "Device not found", Outcome.PERMANENT, "specific")
    generic = AnswerRule(range(400, 500), None, Outcome.PERMANENT, "generic")
    table = (specific, generic)
    assert find_rule(table, 404, "device not found (app_token: x)") is specific
    assert find_rule(table, 404, "App token not found") is generic


def test_a_table_without_a_catch_all_fails_loudly():
    with pytest.raises(LookupError):
        find_rule((AnswerRule(200, None, Outcome.DELIVERED, "ok"),), 500, "")


def test_the_generic_rows_end_with_a_catch_all():
    rows = generic_rules("MMP", "MMP_BASE_URL", server_errors_ambiguous=False)
    assert all(find_rule(rows, status, "") for status in (100, 204, 302, 418, 429, 503, 999))
