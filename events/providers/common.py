"""Checks both providers use: currencies, IP addresses, JSON parameters, numbers, Retry-After, and a
collector that gathers every problem of an event before raising.

Parsers raise `Problem` with messages that already name the field, so a caller only has to say
which field they belong to (`Errors.check`).
"""

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from events.json_keys import unique_keys
from events.models import App, EventToken
from events.nul import LONE_SURROGATE
from events.providers.base import EventInvalid

T = TypeVar("T")

# ISO 4217 codes a price can be in: the active currencies of list one (2025), without the fund
# codes (BOV, CHE, CLF, USN, ...), metals (XAU, ...), bond units, XDR/XSU/XUA, XTS (testing) and
# XXX (no currency), none of which an app store prices a purchase in. BGN and ANG stay while
# store reports may still carry them after the euro (2026) and the Caribbean guilder (XCG, 2025).
CURRENCY_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 (a block of codes reads better than 160 quoted items)
)

# Digits, one optional dot with digits after it, an optional minus: what both MMPs document in
# examples. No exponent, NaN, Infinity, thousands separators or decimal comma. [0-9], not \d:
# \d also matches Arabic-Indic and other Unicode digits, which Python reads but no MMP does.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")
# Far beyond any amount or count an MMP takes (Adjust's revenue stops at 10^11, Tenjin's value at
# 2^31), and far below Python's 4,300-digit limit on reading an integer from text.
MAX_DIGITS = 30


class Problem(ValueError):
    """What is wrong with one field, in sentences a marketer can act on."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class Errors:
    """Collects problems per field, so the user sees all of them at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def check(self, field: str, parse: Callable[..., T], *args: Any) -> T | None:
        """`parse(*args)`, or None with its problems recorded under `field`."""
        try:
            return parse(*args)
        except Problem as problem:
            for message in problem.messages:
                self.add(field, message)
            return None

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise EventInvalid(dict(self.by_field))


def text(value: Any, name: str) -> str | None:
    """The value as stripped text; None when not given (None or blank)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise Problem(f"{name} must be text, not {type(value).__name__}.")
    try:
        stripped = str(value).strip()
    except ValueError:  # an int of more than 4,300 digits cannot even be written out
        raise Problem(f"{name} is a number of more than 4,300 digits; no MMP takes one that long.") from None
    check_encodable(stripped, name)
    return stripped or None


def check_encodable(value: str, name: str) -> None:
    """Problem when the text holds a lone surrogate (e.g. U+DC80), which cannot be sent or stored."""
    match = LONE_SURROGATE.search(value)
    if match:
        raise Problem(
            f"{name} contains U+{ord(match[0]):04X} at character {match.start() + 1}, half of a "
            "UTF-16 pair on its own: not valid text, so it cannot be sent."
        )


def check_known_fields(
    fields: Mapping[str, Any],
    allowed: Iterable[str],
    errors: Errors,
    mmp: str,
    not_applicable: Mapping[str, str] | None = None,
) -> None:
    """Given fields the MMP does not take are errors, so a typo on the command line cannot vanish."""
    allowed = set(allowed)
    not_applicable = not_applicable or {}
    for name, value in fields.items():
        if name in allowed or value is None or value == "" or value == {}:
            continue
        if name in not_applicable:
            errors.add(name, not_applicable[name])
        else:
            errors.add(name, f"Unknown field '{name}' for {mmp}.")


def check_app_and_token(app: App, event_token: EventToken, errors: Errors, key_label: str) -> None:
    if not app.active:
        errors.add("app", f"The app '{app.name}' is inactive in s2sadmin; activate it before sending.")
    if not app.app_key:
        errors.add("app", f"The app '{app.name}' has no {key_label}; add it on the app's page.")
    if event_token.app_id != app.pk:
        errors.add(
            "event_token", f"The event '{event_token.token}' belongs to another app, not '{app.name}'."
        )
    elif event_token.archived:
        errors.add(
            "event_token", f"The event '{event_token.token}' is archived; restore it or choose another event."
        )


def parse_decimal(value: Any, name: str) -> Decimal:
    """A plain decimal number; the caller keeps the text it was given for the wire."""
    given = text(value, name)
    if given is not None and _PLAIN_DECIMAL.fullmatch(given) and _digit_count(given) > MAX_DIGITS:
        raise Problem(f"{name} has {_digit_count(given)} digits; at most {MAX_DIGITS} are allowed.")
    if given is None or not _PLAIN_DECIMAL.fullmatch(given):
        raise Problem(
            f"{name} must be a plain decimal number like 149.99: digits with an optional dot, "
            "no exponent, no thousands separators, no decimal comma."
        )
    return Decimal(given)


def parse_integer(value: Any, name: str) -> int:
    given = text(value, name)
    if given is None or not _INTEGER.fullmatch(given):
        raise Problem(f"{name} must be a whole number like 50 (no decimals, no exponent).")
    if _digit_count(given) > MAX_DIGITS:
        raise Problem(f"{name} has {_digit_count(given)} digits; at most {MAX_DIGITS} are allowed.")
    return int(given)


def _digit_count(number: str) -> int:
    return len(number.lstrip("-").replace(".", ""))


def parse_currency(value: Any, name: str = "currency") -> str:
    code = text(value, name) or ""
    if not re.fullmatch(r"[A-Z]{3}", code):
        hint = f" (did you mean {code.upper()}?)" if re.fullmatch(r"[A-Za-z]{3}", code) else ""
        raise Problem(f"{name} must be an uppercase three-letter ISO 4217 code like EUR or USD{hint}.")
    if code not in CURRENCY_CODES:
        raise Problem(f"{code} is not an ISO 4217 currency code; use a code like EUR or USD.")
    return code


def ip_version(value: str) -> int | None:
    """4 or 6 for a valid IP address, None otherwise."""
    try:
        return ipaddress.ip_address(value).version
    except ValueError:
        return None


# Addresses a device's public address can never be; the documentation ranges (203.0.113.0/24,
# 2001:db8::/32) stay usable for examples and tests.
_NOT_PUBLIC = [
    ("a private (RFC 1918) address", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("a carrier-grade NAT address", ("100.64.0.0/10",)),
    ("a unique local IPv6 address", ("fc00::/7",)),
]


def device_address_problem(value: str) -> str | None:
    """Why this valid IP cannot be a device's public address (the MMPs geolocate and match on it)."""
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    kind = (
        "a loopback address" if address.is_loopback
        else "a link-local address" if address.is_link_local
        else "an unspecified address" if address.is_unspecified
        else "a multicast address" if address.is_multicast
        else next(
            (name for name, nets in _NOT_PUBLIC if any(address in ipaddress.ip_network(n) for n in nets)),
            None,
        )
    )  # fmt: skip
    if kind is None:
        return None
    return (
        f"ip_address {value} is {kind}, never a device's public address: the MMP would geolocate and "
        "match on it. Send the address the device's request came from, or leave it empty."
    )


def json_object_of(value: Any, name: str) -> Mapping[Any, Any]:
    """`value` as a JSON object: a mapping as it is, or JSON text read with each key once."""
    if isinstance(value, str):
        try:
            value = json.loads(
                value,
                object_pairs_hook=unique_keys(
                    lambda key: Problem(f"{name} has the key '{key}' twice; keep one.")
                ),
            )
        except json.JSONDecodeError as exc:
            raise Problem(
                f'{name} is not valid JSON ({exc.msg} at character {exc.pos}); write it like {{"key": "value"}}.'
            ) from None
    if not isinstance(value, Mapping):
        raise Problem(f'{name} must be a JSON object like {{"key": "value"}}, not {json_kind(value)}.')
    return value


def parse_string_object(value: Any, name: str) -> dict[str, str]:
    """A flat JSON object whose values are all strings, given as a mapping or as its JSON text."""
    value = json_object_of(value, name)
    problems = []
    for key, item in value.items():
        if not isinstance(key, str):
            problems.append(f"{name} keys must be text; {key!r} is {json_kind(key)}.")
        elif LONE_SURROGATE.search(key) or (isinstance(item, str) and LONE_SURROGATE.search(item)):
            where = f"the key {key!r}" if LONE_SURROGATE.search(key) else f"the value of {key!r}"
            problems.append(
                f"{name}: {where} contains half of a UTF-16 pair on its own (a lone surrogate): "
                "not valid text, so it cannot be sent."
            )
        elif not isinstance(item, str):
            problems.append(
                f"{name} value of '{key}' is {json_kind(item)}; only string values are allowed: "
                'write it as text, e.g. "42" or "[\\"76524\\",\\"62599\\"]" for a list.'
            )
    if problems:
        raise Problem(*problems)
    return dict(value)


def parse_device_ids(raw: Any, example_type: str) -> dict[str, Any]:
    """The given ids by type, as a mapping or its JSON text; blank ones left out."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        return parse_string_object(raw, "device_ids")
    if not isinstance(raw, Mapping):
        raise Problem(f'device_ids must map an id type to its value, like {{"{example_type}": "..."}}.')
    return {name: value for name, value in raw.items() if value is not None and value != ""}


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date); None if unusable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())
