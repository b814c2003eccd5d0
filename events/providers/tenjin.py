"""Tenjin's S2S API (mmp-apis.md §2): `/v0/event` for custom events, `/v0/purchase` for purchases."""

import base64
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from events.choices import Environment, EventKind, Platform
from events.models import App, EventToken
from events.providers.answers import transport_verdict
from events.providers.base import EventFields, FieldSpec, MMPProvider, ValidEvent, Verdict
from events.providers.common import (
    Errors,
    Problem,
    check_app_and_token,
    check_known_fields,
    device_address_problem,
    ip_version,
    parse_currency,
    parse_decimal,
    parse_device_ids,
    parse_integer,
    text,
)
from events.providers.tenjin_answers import TENJIN_ANSWERS, classify_tenjin
from events.transport import HttpAnswer, OutboundRequest, TransportError

PLATFORMS = (Platform.IOS, Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER)
DEVICE_ID_TYPES = ("advertising_id", "developer_device_id", "analytics_installation_id")
MAX_EVENT_NAME = 79  # "under 80 characters" (§2.8)
# Tenjin drops the names beyond its first 500 per app (§2.8).
MAX_EVENT_NAMES = 500
# The SDK sends the value as a Java int.
MAX_VALUE = 2**31 - 1

# UNCONFIRMED: Tenjin's docs give no format for its ids; its examples are UUIDs, with and without
# hyphens, in either case.
_ID = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_ZEROS = re.compile(r"0{32}|0{8}-0{4}-0{4}-0{4}-0{12}")
ID_EXAMPLE = {
    "advertising_id": "f024e65f-3dd9-4f16-9837-26bcef192d68",
    "developer_device_id": "8A3CB124-5A79-4334-8802-F75FEC099C58",
    "analytics_installation_id": "29eeb1610fe74997b6d53f02e9711f8c",
}

EVENT_FIELDS = (
    "device_ids",
    "environment",
    "ip_address",
    "os_version",
    "app_version",
    "country",
    "limit_ad_tracking",
)
PURCHASE_FIELDS = ("product_id", "quantity", "price", "currency", "receipt", "signature")
NOT_FOR_TENJIN = {
    "created_at": "Tenjin's S2S API takes no event time: it records the time it receives the event. "
    "Leave created_at empty.",
    "callback_params": "Tenjin has no callback parameters (that is an Adjust feature); leave them empty.",
    "partner_params": "Tenjin has no partner parameters (that is an Adjust feature); leave them empty.",
    "user_agent": "Tenjin's S2S API takes no user agent; leave it empty.",
    "revenue": "Tenjin events take no revenue: use value (a whole number), or a purchase event with "
    "price and quantity.",
}
NOT_FOR_PURCHASES = {
    "revenue": "Tenjin purchases take price and quantity (the gross price of one unit), not revenue.",
    "value": "value belongs to Tenjin custom events; a purchase takes price and quantity.",
}
# Wire order: the app, the device, the event, then the rest as given.
WIRE_ORDER = (
    "bundle_id",
    "platform",
    "sdk_version",
    "os_version",
    *DEVICE_ID_TYPES,
    "event",
    "value",
    "product_id",
    "currency",
    "quantity",
    "price",
    "receipt",
    "signature",
)


class TenjinProvider(MMPProvider):
    name = "tenjin"
    label = "Tenjin"
    key_label = "SDK key"
    base_url_setting = "TENJIN_BASE_URL"
    event_kinds = (EventKind.EVENT, EventKind.PURCHASE)
    answers = TENJIN_ANSWERS

    def validate(
        self, app: App, event_token: EventToken, fields: EventFields, *, now: datetime | None = None
    ) -> ValidEvent:
        errors = Errors()
        purchase = event_token.kind == EventKind.PURCHASE
        if purchase:
            allowed = (*EVENT_FIELDS, *PURCHASE_FIELDS)
            not_applicable = {**NOT_FOR_TENJIN, **NOT_FOR_PURCHASES}
        else:
            allowed = (*EVENT_FIELDS, "value")
            not_applicable = {
                **NOT_FOR_TENJIN,
                **{name: _only_for_purchases(name) for name in PURCHASE_FIELDS},
            }
        check_known_fields(fields, allowed, errors, self.label, not_applicable)
        check_app_and_token(app, event_token, errors, self.key_label)
        _check_app(app, errors)

        params = _device_ids(app, fields.get("device_ids"), errors)
        environment = errors.check("environment", _environment, fields.get("environment"), app)
        if not purchase and len(event_token.token) > MAX_EVENT_NAME:
            errors.add(
                "event_token",
                f"Tenjin drops event names of 80 characters or more; '{event_token.token[:20]}…' has "
                f"{len(event_token.token)}.",
            )
        for name, check in _field_checks(fields, purchase).items():
            value = errors.check(name, check)
            if value is not None:
                params[name] = value
        errors.raise_if_any()
        id_type = next(
            name for name in DEVICE_ID_TYPES if params.get(name) and not _ZEROS.fullmatch(params[name])
        )
        return ValidEvent(
            params=params,
            environment=environment or "",
            device_id_type=id_type,
            device_id=params[id_type],
        )

    def device_id_types(self, app: App) -> list[str]:
        return list(DEVICE_ID_TYPES)

    def device_id_fields(self, app: App) -> list[FieldSpec]:
        return [FieldSpec(name, name, example=ID_EXAMPLE[name]) for name in DEVICE_ID_TYPES]

    def event_fields(self, app: App, kind: str | None = None) -> list[FieldSpec]:
        names = [n for n in EVENT_FIELDS if n not in ("device_ids", "environment")]
        if kind in (None, EventKind.EVENT):
            names.append("value")
        if kind in (None, EventKind.PURCHASE):
            names.extend(PURCHASE_FIELDS)
        return [FieldSpec(name, name) for name in names]

    def validate_event_token(self, app: App, token: str, kind: str) -> list[str]:
        problems = super().validate_event_token(app, token, kind)
        if kind == EventKind.EVENT and len(token) > MAX_EVENT_NAME:
            problems.append(f"Tenjin drops event names of 80 characters or more; this one has {len(token)}.")
        return problems

    def max_event_names(self, app: App) -> int | None:
        return MAX_EVENT_NAMES

    def validate_app(self, app: App) -> tuple[dict[str, list[str]], list[str]]:
        errors: dict[str, list[str]] = {}
        if app.platform not in PLATFORMS:
            errors["platform"] = [f"Tenjin apps are one of: {', '.join(PLATFORMS)}."]
        if not (app.bundle_id or "").strip():
            errors["bundle_id"] = ["Tenjin finds the app by its bundle id and platform: give the bundle id."]
        if app.default_environment != Environment.PRODUCTION:
            errors["default_environment"] = ["Tenjin keeps no sandbox: its apps send to production."]
        return errors, []

    def to_fields(self, params: Mapping[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = {"device_ids": {n: v for n, v in params.items() if n in DEVICE_ID_TYPES}}
        fields.update({n: v for n, v in params.items() if n not in DEVICE_ID_TYPES})
        return fields

    def build(self, app: App, event_token: EventToken, params: Mapping[str, str]) -> OutboundRequest:
        purchase = event_token.kind == EventKind.PURCHASE
        fixed = {"bundle_id": app.bundle_id, "platform": app.platform, "sdk_version": "server"}
        if not purchase:
            # A /v0/event without `event` is an app open, which s2sadmin never sends.
            fixed["event"] = event_token.token
        fields = {**fixed, **params}
        ordered = {name: fields[name] for name in WIRE_ORDER if name in fields}
        ordered.update((name, value) for name, value in fields.items() if name not in ordered)
        # Basic auth with the SDK key as user name and no password keeps the key out of the URL
        # and the body (no api_key parameter), as Tenjin's Android SDK does.
        credentials = base64.b64encode(f"{app.app_key}:".encode()).decode()
        return OutboundRequest(
            method="POST",
            url=settings.TENJIN_BASE_URL.rstrip("/") + ("/v0/purchase" if purchase else "/v0/event"),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {credentials}",
            },
            body=urlencode(ordered).encode(),
            secrets=(app.app_key,),
        )

    def classify(self, answer: HttpAnswer) -> Verdict:
        return classify_tenjin(answer)

    def classify_error(self, error: TransportError) -> Verdict:
        return transport_verdict(error, "TENJIN_BASE_URL")


def _only_for_purchases(name: str) -> str:
    return f"{name} belongs to purchases; this event is not a purchase (its kind is set on the event token)."


def _check_app(app: App, errors: Errors) -> None:
    if app.platform not in PLATFORMS:
        errors.add(
            "app",
            f"Tenjin takes the platforms ios, android, amazon and android_other; '{app.name}' is {app.platform}.",
        )
    if not app.bundle_id.strip():
        errors.add(
            "app", f"Tenjin finds the app by bundle id and platform: set the bundle id of '{app.name}'."
        )


def _device_ids(app: App, raw: Any, errors: Errors) -> dict[str, str]:
    given = errors.check("device_ids", parse_device_ids, raw, "advertising_id") or {}
    ids: dict[str, str] = {}
    for name, value in given.items():
        if name not in DEVICE_ID_TYPES:
            errors.add(
                "device_ids",
                f"'{name}' is not a Tenjin device id; Tenjin takes {', '.join(DEVICE_ID_TYPES)}.",
            )
        elif (value := errors.check(name, text, value, name)) is not None:
            if _ID.fullmatch(value):
                ids[name] = value
            else:
                errors.add(name, f"{name} must be a UUID, with or without hyphens, like {ID_EXAMPLE[name]}.")
    ios = app.platform == Platform.IOS
    advertising_id = ids.get("advertising_id", "")
    if not advertising_id and "advertising_id" not in errors.by_field:
        if ios:
            # Empty means "no IDFA" (no tracking consent); the key itself is required (§2.3).
            ids["advertising_id"] = ""
        else:
            errors.add(
                "advertising_id",
                "advertising_id is required outside iOS: Tenjin answers 202 'invalid device identifier' "
                "without the device's advertising id (GAID).",
            )
    elif _ZEROS.fullmatch(advertising_id) and not ios:
        errors.add(
            "advertising_id",
            "An all-zero advertising_id (no tracking consent) is accepted on iOS only; on this platform "
            "Tenjin needs the real advertising id.",
        )
    if ios and "developer_device_id" not in ids and "developer_device_id" not in errors.by_field:
        errors.add(
            "developer_device_id",
            "developer_device_id (the IDFV) is required on iOS: Tenjin does not process iOS events without it.",
        )
    if "analytics_installation_id" not in ids and "analytics_installation_id" not in errors.by_field:
        errors.add(
            "analytics_installation_id",
            "analytics_installation_id is required: the UUID you keep for this install and send with "
            "every event, like 29eeb1610fe74997b6d53f02e9711f8c.",
        )
    return {name: ids[name] for name in DEVICE_ID_TYPES if name in ids}


def _environment(value: Any, app: App) -> str:
    environment = text(value, "environment") or str(app.default_environment)
    if environment == Environment.SANDBOX:
        source = "" if text(value, "environment") else " (the app's default environment)"
        raise Problem(
            f"Tenjin has no sandbox{source}; this event would count as real data — choose production."
        )
    if environment != Environment.PRODUCTION:
        raise Problem(f"environment must be production for Tenjin, not '{environment}'.")
    return environment


def _ip(value: Any) -> str | None:
    address = text(value, "ip_address")
    if address is not None and ip_version(address) is None:
        raise Problem("ip_address must be an IPv4 or IPv6 address, like 203.0.113.7 or 2001:db8::1.")
    not_public = address and device_address_problem(address)
    if not_public:
        raise Problem(not_public)
    return address


def _country(value: Any) -> str | None:
    country = text(value, "country")
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        raise Problem("country must be a two-letter uppercase ISO country code, like US.")
    return country


def _flag(value: Any, name: str) -> str | None:
    flag = text(value, name)
    if flag is not None and flag not in ("0", "1"):
        raise Problem(f"{name} must be 1 (yes) or 0 (no).")
    return flag


def _value(value: Any) -> str | None:
    # UNCONFIRMED: the wire name of the value parameter; the SDK's constant suggests `value`.
    if text(value, "value") is None:
        return None
    number = parse_integer(value, "value")
    # UNCONFIRMED: Tenjin says nothing of negative values; they are refused here, as Tenjin takes no
    # negative revenue, so a refund modelled as a negative value does not vanish silently.
    if not 0 <= number <= MAX_VALUE:
        raise Problem(f"value must be a whole number from 0 to {MAX_VALUE}.")
    return str(number)


def _field_checks(fields: EventFields, purchase: bool) -> dict[str, Callable[[], str | None]]:
    """Per wire parameter, a check that returns its value (None when not given) or raises Problem."""
    checks: dict[str, Callable[[], str | None]] = {
        "os_version": lambda: _required(
            fields.get("os_version"),
            "os_version",
            "Android's SDK level (like 33) or iOS's version (like 17.5)",
        ),
        "ip_address": lambda: _ip(fields.get("ip_address")),
        "app_version": lambda: text(fields.get("app_version"), "app_version"),
        "country": lambda: _country(fields.get("country")),
        "limit_ad_tracking": lambda: _flag(fields.get("limit_ad_tracking"), "limit_ad_tracking"),
    }
    if not purchase:
        checks["value"] = lambda: _value(fields.get("value"))
        return checks
    # UNCONFIRMED: Tenjin's purchase table could not be read; the fields are those its SDK sends,
    # all required but the receipt and its signature.
    checks.update(
        {
            "product_id": lambda: _required(
                fields.get("product_id"), "product_id", "the store's product id, like gems_100"
            ),
            "currency": lambda: parse_currency(
                _required(fields.get("currency"), "currency", "an ISO 4217 code like USD")
            ),
            "quantity": lambda: _quantity(fields.get("quantity")),
            "price": lambda: _price(fields.get("price")),
            "receipt": lambda: text(fields.get("receipt"), "receipt"),
            "signature": lambda: text(fields.get("signature"), "signature"),
        }
    )
    return checks


def _required(value: Any, name: str, what: str) -> str:
    given = text(value, name)
    if given is None:
        raise Problem(f"{name} is required: {what}.")
    return given


def _quantity(value: Any) -> str:
    number = parse_integer(_required(value, "quantity", "a whole number like 1"), "quantity")
    if number < 1:
        raise Problem("quantity must be at least 1.")
    return str(number)


def _price(value: Any) -> str:
    given = _required(value, "price", "the gross unit price, like 4.99")
    if parse_decimal(given, "price") <= 0:
        raise Problem(
            "price must be more than 0: Tenjin takes no negative or zero revenue (send refunds elsewhere)."
        )
    return given
