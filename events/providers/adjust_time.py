"""Adjust's event time (mmp-apis.md §1.6): `created_at_unix` or `created_at`, and its window."""

import re
from datetime import UTC, datetime, timedelta, timezone

from events.providers.common import Problem, text

MAX_AGE = timedelta(days=58)
# A product choice: Adjust documents no limit for the future, but an event from the future is a
# wrong clock or a wrong zone; a few minutes cover the skew between the sender's clock and ours.
MAX_AHEAD = timedelta(minutes=5)

# Adjust writes a literal Z before the offset (`2017-01-02T15:04:05Z+0200` is 15:04:05 at +02:00,
# the layout of its Go backend), and also plain `...05.000+0000`.
# ASCII digits only: \d would take "²" or Arabic-Indic digits, which no MMP reads.
_ISO = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?P<fraction>\.[0-9]+)?"
    r"(?P<z>Z)?(?P<offset>[+-][0-9]{4})?"
)
_COLON_OFFSET = re.compile(r".*[+-][0-9]{2}:[0-9]{2}")
_UNIX = re.compile(r"[0-9]+")
FORMAT_HELP = (
    "created_at must be unix seconds (like 1484085154) or ISO 8601 with a time zone "
    "(like 2017-01-02T15:04:05Z+0200 or 2017-01-02T15:04:05.000+0000)."
)


def parse_created_at(value: object, now: datetime) -> tuple[str, str, datetime] | None:
    """(wire name, wire value, event time) of a time within Adjust's window; None when not given."""
    given = text(value, "created_at")
    if given is None:
        return None
    wire_name, wire_value, moment = (
        _from_unix(given) if _UNIX.fullmatch(given) else ("created_at", given, _from_iso(given))
    )
    _check_window(moment, now)
    return wire_name, wire_value, moment


def _from_unix(digits: str) -> tuple[str, str, datetime]:
    if len(digits) == 13:
        # UNCONFIRMED: only /session is shown taking milliseconds; for /event s2sadmin sends whole
        # seconds, which Adjust documents.
        digits = digits[:-3]
    elif len(digits) > 11:
        raise Problem(f"{FORMAT_HELP} {len(digits)} digits is neither seconds (10) nor milliseconds (13).")
    return "created_at_unix", digits, datetime.fromtimestamp(int(digits), UTC)


def _from_iso(given: str) -> datetime:
    if _COLON_OFFSET.fullmatch(given):
        # UNCONFIRMED: every Adjust example writes the offset as ±HHMM; whether its parser takes
        # ±HH:MM is unknown, and the value is sent as given, so ask for the documented form.
        raise Problem(
            "created_at must write its offset without a colon, like +0200 (2017-01-02T15:04:05Z+0200)."
        )
    match = _ISO.fullmatch(given)
    if not match or not (match["z"] or match["offset"]):
        raise Problem(FORMAT_HELP)
    # UNCONFIRMED: a bare trailing Z (UTC, no offset) is ISO 8601 but in no Adjust example.
    zone = UTC
    if match["offset"]:
        sign = -1 if match["offset"][0] == "-" else 1
        hours, minutes = int(match["offset"][1:3]), int(match["offset"][3:5])
        if hours > 23 or minutes > 59:
            raise Problem(f"created_at has an impossible offset {match['offset']}.")
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    fraction = (match["fraction"] or ".0")[1:7].ljust(6, "0")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    except ValueError:
        raise Problem(f"created_at is not a real date and time: {given}.") from None
    return moment.replace(tzinfo=zone)


def _check_window(moment: datetime, now: datetime) -> None:
    if moment < now - MAX_AGE:
        raise Problem(
            f"created_at is {(now - moment).days} days ago; Adjust rejects events older than 58 days."
        )
    if moment > now + MAX_AHEAD:
        raise Problem(
            f"created_at is {_minutes(moment - now)} in the future; check the clock and time zone "
            "(at most 5 minutes ahead is accepted)."
        )


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"
