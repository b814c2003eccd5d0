"""Field readers shared by the MMPs whose events are JSON-ish (AppsFlyer, Singular): the ATT
status, an event time in several spellings, IPv4 only, flat objects, a revenue with its currency,
production-only sends. What every MMP shares is in common.py, beneath this module."""

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from events.choices import Environment
from events.models import App
from events.providers.common import (
    Errors,
    Problem,
    ip_version,
    json_kind,
    json_object_of,
    parse_currency,
    parse_decimal,
    text,
)

# The iOS App Tracking Transparency status, as the MMPs that take it number it.
ATT_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "not sent"),
    ("0", "0 not determined"),
    ("1", "1 restricted"),
    ("2", "2 denied"),
    ("3", "3 authorized"),
)


def parse_att(value: Any, name: str = "att_status") -> str | None:
    att = text(value, name)
    if att is not None and att not in ("0", "1", "2", "3"):
        raise Problem(f"{name} must be 0, 1, 2 or 3 (the iOS App Tracking Transparency status).")
    return att


_ISO_WITH_ZONE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")
TIME_HELP = (
    "must be unix seconds (like 1735689600), unix milliseconds (13 digits) or ISO 8601 with a time "
    "zone (like 2025-01-01T12:00:00Z or 2025-01-01T14:00:00+02:00)."
)


def parse_moment(value: Any, name: str = "created_at") -> datetime | None:
    """An aware moment from unix seconds or milliseconds or ISO 8601 with a zone; None when not given."""
    given = text(value, name)
    if given is None:
        return None
    if given.isdigit():
        if len(given) == 13:
            return datetime.fromtimestamp(int(given) / 1000, UTC)
        if len(given) > 11:
            raise Problem(f"{name} {TIME_HELP}")
        return datetime.fromtimestamp(int(given), UTC)
    if not _ISO_WITH_ZONE.fullmatch(given):
        raise Problem(f"{name} {TIME_HELP}")
    try:
        return datetime.fromisoformat(given.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(f"{name} is not a real date and time: {given}.") from None


def parse_ipv4(value: Any, mmp: str, name: str = "ip_address") -> str | None:
    address = text(value, name)
    if address is None:
        return None
    version = ip_version(address)
    if version == 6:
        raise Problem(f"{mmp} accepts IPv4 addresses only (like 203.0.113.7); this is an IPv6 address.")
    if version != 4:
        raise Problem(f"{name} must be an IPv4 address like 203.0.113.7.")
    return address


def parse_flat_object(value: Any, name: str) -> dict[str, Any]:
    """A flat JSON object (values text, numbers or booleans), given as a mapping or its JSON text;
    the product serialises it itself, so nobody sends an object where a JSON string belongs."""
    if value is None or value == "" or value == {}:
        return {}
    value = json_object_of(value, name)
    problems = [
        f"{name} value of '{key}' is {json_kind(item)}; only text, numbers and true/false are allowed "
        "(a flat object)."
        for key, item in value.items()
        if item is None or isinstance(item, list | tuple | Mapping)
    ]
    if problems:
        raise Problem(*problems)
    return dict(value)


def compact_json(value: Mapping[str, Any]) -> str:
    """JSON without spaces (every byte counts under a 1 KB limit), non-Latin text kept readable."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def revenue_pair(fields: Mapping[str, Any], errors: Errors) -> tuple[str, str] | None:
    """(amount as given, currency) when both are given and valid; an error when only one is.
    Negative amounts pass: the MMPs that use this take refunds as negative revenue."""
    revenue = errors.check("revenue", text, fields.get("revenue"), "revenue")
    currency = errors.check("currency", text, fields.get("currency"), "currency")
    if revenue is None and currency is None:
        return None
    if revenue is None:
        errors.add("revenue", "revenue is required when a currency is given; give both or neither.")
    if currency is None:
        errors.add("currency", "currency is required with revenue: an ISO 4217 code like EUR.")
    amount = errors.check("revenue", parse_decimal, revenue, "revenue") if revenue is not None else None
    code = errors.check("currency", parse_currency, currency) if currency is not None else None
    if amount is None or code is None:
        return None
    return revenue, code


def required_production(value: Any, app: App, mmp: str) -> str:
    """The environment of an MMP without a sandbox: production, said plainly otherwise."""
    environment = text(value, "environment") or str(app.default_environment)
    if environment != Environment.PRODUCTION:
        source = "" if text(value, "environment") else " (the app's default environment)"
        raise Problem(
            f"{mmp} has no sandbox{source}; this event would count as real data — choose production."
        )
    return environment


def case_twin(app: App, token: str) -> str | None:
    """An existing event name of the app equal to `token` but for letter case, if any."""
    if app.pk is None:  # an app being imported has no event names yet
        return None
    for existing in app.event_tokens.values_list("token", flat=True):
        if existing != token and existing.casefold() == token.casefold():
            return existing
    return None
