"""Small parsers for what MMPs receive. The emulator keeps its own rather than the sender's:
it plays an independent MMP, so a bug shared by both sides would go unseen."""

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl


def form_pairs(raw: str) -> dict[str, str]:
    """Parameters of a query string or form body; names are case-sensitive.

    UNCONFIRMED: for a repeated name the first value wins, as in Go's url.Values.Get (Adjust's
    timestamps are Go-formatted, so its server most likely reads parameters the Go way).
    """
    params: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True, errors="replace"):
        params.setdefault(no_nul(name), no_nul(value))
    return params


def no_nul(text: str) -> str:
    # PostgreSQL refuses NUL in text, even in a lookup; a sender's %00 must not become a 500.
    return text.replace("\x00", "\ufffd")


def decimal_or_none(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


INTEGER = re.compile(r"^-?\d+$")


def int_or_none(text: str) -> int | None:
    return int(text) if INTEGER.match(text.strip()) else None


def flat_string_object(text: str) -> dict[str, str] | None:
    """A JSON object whose values are all strings (Adjust's callback/partner params), else None."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


# YYYY-MM-DDTHH:MM:SS[.fff][Z][±HHMM]: Adjust writes a literal Z before the real offset.
ADJUST_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z)?(?:([+-])(\d{2}):?(\d{2}))?$"
)


def adjust_created_at(text: str) -> datetime | None:
    """ISO-8601 as Adjust writes it. No zone at all is read as UTC (UNCONFIRMED)."""
    match = ADJUST_ISO.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    offset = timedelta(0)
    if sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, timezone(offset)
        ).astimezone(UTC)
    except ValueError:
        return None


def adjust_created_at_unix(text: str) -> datetime | None:
    """Whole seconds; 13 digits are milliseconds (UNCONFIRMED for /event; the sessions page
    sends them). Adjust's help centre allows digits only: no decimal point."""
    text = text.strip()
    if not text.isdigit():
        return None
    seconds = int(text) / 1000 if len(text) == 13 else int(text)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def basic_auth_user(header: str) -> str:
    """The user name of `Authorization: Basic ...`; Tenjin's SDK key goes there."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    # UNCONFIRMED: a non-empty password is ignored; the key is the part before ':'.
    return no_nul(decoded.partition(":")[0])


def bearer_token(header: str) -> str | None:
    match = re.match(r"^Bearer (.+)$", header)
    return match.group(1) if match else None
