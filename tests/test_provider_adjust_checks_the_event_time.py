"""Adjust: the rules for an event's time (created_at / created_at_unix)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.adjust_provider_helpers import NOW, errors_of, event, validate

# Event time -------------------------------------------------------------------------------------


EIGHT_AM = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
EIGHT_AM_UNIX = str(int(EIGHT_AM.timestamp()))


def test_it_sends_unix_seconds_as_created_at_unix(adjust_app):
    valid = validate(adjust_app, event(created_at=EIGHT_AM_UNIX))
    assert valid.params["created_at_unix"] == EIGHT_AM_UNIX
    assert "created_at" not in valid.params
    assert valid.event_time == EIGHT_AM


def test_it_takes_unix_seconds_as_a_number(adjust_app):
    assert (
        validate(adjust_app, event(created_at=int(EIGHT_AM_UNIX))).params["created_at_unix"] == EIGHT_AM_UNIX
    )


@pytest.mark.unconfirmed
def test_it_converts_unix_milliseconds_to_seconds(adjust_app):
    valid = validate(adjust_app, event(created_at=EIGHT_AM_UNIX + "123"))
    assert valid.params["created_at_unix"] == EIGHT_AM_UNIX
    assert valid.event_time == EIGHT_AM


def test_it_rejects_a_unix_time_of_twelve_digits(adjust_app):
    assert (
        "neither seconds (10) nor milliseconds (13)"
        in errors_of(adjust_app, event(created_at=EIGHT_AM_UNIX + "12"))["created_at"][0]
    )


def test_it_passes_an_iso_time_through_exactly_as_given(adjust_app):
    valid = validate(adjust_app, event(created_at="2026-11-22T07:04:05.288Z-0400"))
    assert valid.params["created_at"] == "2026-11-22T07:04:05.288Z-0400"
    assert "created_at_unix" not in valid.params
    assert valid.event_time == datetime(2026, 11, 22, 11, 4, 5, 288000, tzinfo=UTC)


def test_it_reads_adjusts_z_plus_offset_as_the_offset(adjust_app):
    valid = validate(
        adjust_app, event(created_at="2017-01-02T15:04:05Z+0200"), now=datetime(2017, 1, 3, tzinfo=UTC)
    )
    assert valid.event_time == datetime(2017, 1, 2, 13, 4, 5, tzinfo=UTC)


def test_it_takes_an_iso_time_with_a_plain_offset(adjust_app):
    valid = validate(adjust_app, event(created_at="2026-11-22T11:00:00.000+0000"))
    assert valid.event_time == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


@pytest.mark.unconfirmed
def test_it_takes_an_iso_time_with_only_a_z(adjust_app):
    assert (
        validate(adjust_app, event(created_at="2026-11-22T11:00:00Z")).params["created_at"]
        == "2026-11-22T11:00:00Z"
    )


def test_it_rejects_an_iso_time_without_a_zone(adjust_app):
    assert (
        "with a time zone" in errors_of(adjust_app, event(created_at="2026-11-22T11:00:00"))["created_at"][0]
    )


@pytest.mark.unconfirmed
def test_it_asks_for_an_offset_without_a_colon(adjust_app):
    errors = errors_of(adjust_app, event(created_at="2026-11-22T11:00:00+02:00"))
    assert errors["created_at"] == [
        "created_at must write its offset without a colon, like +0200 (2017-01-02T15:04:05Z+0200)."
    ]


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-11-22 11:00:00Z", "1795348800.5", "2026-02-30T11:00:00Z"]
)
def test_it_rejects_a_time_it_cannot_read(adjust_app, value):
    assert "created_at" in errors_of(adjust_app, event(created_at=value))


def test_it_accepts_an_event_58_days_old(adjust_app):
    moment = NOW - timedelta(days=58)
    assert validate(adjust_app, event(created_at=str(int(moment.timestamp())))).event_time == moment


def test_it_rejects_an_event_older_than_58_days(adjust_app):
    moment = NOW - timedelta(days=58, seconds=1)
    errors = errors_of(adjust_app, event(created_at=str(int(moment.timestamp()))))
    assert errors["created_at"] == ["created_at is 58 days ago; Adjust rejects events older than 58 days."]


def test_it_accepts_an_event_a_few_minutes_ahead_for_clock_skew(adjust_app):
    moment = NOW + timedelta(minutes=5)
    assert validate(adjust_app, event(created_at=str(int(moment.timestamp())))).event_time == moment


def test_it_rejects_an_event_more_than_five_minutes_in_the_future(adjust_app):
    moment = NOW + timedelta(minutes=6)
    errors = errors_of(adjust_app, event(created_at=str(int(moment.timestamp()))))
    assert errors["created_at"][0].startswith("created_at is 6 minutes in the future")


def test_it_pins_the_event_time_to_now_when_none_is_given(adjust_app):
    valid = validate(adjust_app, event(), now=NOW.replace(microsecond=123))
    assert valid.params["created_at_unix"] == str(int(NOW.timestamp()))
    assert valid.event_time == NOW
