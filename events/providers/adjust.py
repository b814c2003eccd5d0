"""Adjust's S2S `/event` API (mmp-apis.md §1): its rules, its request, its answers."""

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils import timezone

import events.providers.adjust_ids as adjust_ids
import events.providers.adjust_time as adjust_time
from events.choices import Environment
from events.models import App, EventToken
from events.providers.adjust_answers import ADJUST_ANSWERS, classify_adjust
from events.providers.adjust_skan import skan_values
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
    parse_string_object,
    text,
)
from events.transport import HttpAnswer, OutboundRequest, TransportError

APP_TOKEN_SHAPE = re.compile(r"[a-z0-9]+")
# Undocumented (mmp-apis.md §1.3): the dashboard's tokens are letters and digits (f0ob4r, 2y7e81).
# Their length is not held against them; anything else is a name or a typo, never a token.
EVENT_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9]+")
MIN_REVENUE = Decimal("0.001")
MAX_REVENUE = Decimal("100000000000")
MAX_REQUEST_BYTES = 1024 * 1024

# The developer guide's list (§1.3). Only /session requires it; for /event it is recommended.
OS_NAMES = frozenset(
    """
    android android-tv apple-tv bada blackberry fire-tv ios linux macos nintendo playstation roku-os
    server smart-cast steamos symbian tizen unknown webos windows windows-phone xbox
    """.split()  # noqa: SIM905
)
FIELDS = (
    "device_ids",
    "callback_params",
    "partner_params",
    "revenue",
    "currency",
    "created_at",
    "environment",
    "ip_address",
    "user_agent",
    "os_name",
    "os_version",
    "device_name",
    "device_type",
    "att_status",
    "tracking_enabled",
)
# Sent as given: the developer guide asks for these on every request for probabilistic matching.
FREE_TEXT_FIELDS = ("user_agent", "os_version", "device_name", "device_type")
# Wire order after the fixed s2s, event_token and app_token: the documentation's example order.
ORDER_AFTER_IDS = (
    "created_at",
    "created_at_unix",
    "callback_params",
    "partner_params",
    "currency",
    "revenue",
    "environment",
)


class AdjustProvider(MMPProvider):
    name = "adjust"
    label = "Adjust"
    key_label = "App token"
    token_label = "Token"
    takes_security_tokens = True
    base_url_setting = "ADJUST_BASE_URL"
    has_sandbox = True
    # Events older than 58 days, or earlier than one accepted for the device and token (§1.6).
    max_event_age = adjust_time.MAX_AGE
    rejects_earlier_events = True
    answers = ADJUST_ANSWERS

    def validate_event_token(self, app: App, token: str, kind: str) -> list[str]:
        if not EVENT_TOKEN_SHAPE.fullmatch(token):
            # UNCONFIRMED: Adjust documents no token format (mmp-apis.md §1.2), but its dashboard
            # shows tokens as letters and digits (f0ob4r); anything else is a name or a paste mistake.
            return [
                "An Adjust event token is letters and digits only, as the Adjust dashboard shows it "
                "(like f0ob4r), with no spaces or line breaks: copy the event's token, not its name."
            ]
        return super().validate_event_token(app, token, kind)

    def order_key(self, app: App, event_token: EventToken, valid: ValidEvent) -> str:
        # Adjust rejects an event older than one it accepted for the same device and event token
        # (mmp-apis.md §1.6): that is its unit of order, and different tokens may go in parallel.
        return f"{app.pk}:{event_token.pk}:{valid.device_id}" if valid.device_id else ""

    def validate(
        self, app: App, event_token: EventToken, fields: EventFields, *, now: datetime | None = None
    ) -> ValidEvent:
        now = _aware(now or timezone.now())
        errors = Errors()
        check_known_fields(fields, FIELDS, errors, self.label)
        check_app_and_token(app, event_token, errors, self.key_label)
        params: dict[str, str] = {}
        warnings: list[str] = []

        ids = _device_ids(app, fields.get("device_ids"), errors)
        params.update(ids)
        if "web_uuid" in ids:
            warnings.append(adjust_ids.WEB_UUID_WARNING)

        event_time = _event_time(fields.get("created_at"), now, params, errors)
        for name in ("callback_params", "partner_params"):
            encoded = errors.check(name, _encoded_params, fields.get(name), name)
            if encoded:
                params[name] = encoded
        _revenue(fields, params, errors)

        environment = errors.check("environment", _environment, fields.get("environment"), app)
        if environment:
            params["environment"] = environment
            if environment != app.default_environment:
                consequence = (
                    "it will only show in Adjust's sandbox view"
                    if environment == Environment.SANDBOX
                    else "it counts as real data"
                )
                warnings.append(
                    f"This event goes to {environment} while the app's default is "
                    f"{app.default_environment}: {consequence}."
                )
        ip = errors.check("ip_address", _ipv4, fields.get("ip_address"))
        if ip:
            params["ip_address"] = ip
        for name in FREE_TEXT_FIELDS:
            value = errors.check(name, text, fields.get(name), name)
            if value:
                params[name] = value
        params.update(errors.check("att_status", _tracking_status, fields) or {})
        os_name = errors.check("os_name", _os_name, fields.get("os_name"))
        if os_name:
            params["os_name"] = os_name

        size = _request_size(self.build(app, event_token, params))
        if size > MAX_REQUEST_BYTES:
            errors.add(
                "__all__",
                f"The request would be {size:,} bytes; Adjust refuses requests over 1 MB "
                f"({MAX_REQUEST_BYTES:,} bytes): shorten the callback or partner parameters.",
            )
        errors.raise_if_any()
        id_type, id_value = next(iter(ids.items()))
        return ValidEvent(
            params=params,
            environment=environment or "",
            device_id_type=id_type,
            device_id=id_value,
            event_time=event_time,
            warnings=tuple(warnings),
        )

    def device_id_types(self, app: App) -> list[str]:
        return list(adjust_ids.names_for(app.platform))

    def device_id_fields(self, app: App) -> list[FieldSpec]:
        return [
            FieldSpec(t.name, t.name, example=t.example, help_text=t.rule)
            for t in (adjust_ids.BY_NAME[name] for name in adjust_ids.names_for(app.platform))
        ]

    def event_fields(self, app: App, kind: str | None = None) -> list[FieldSpec]:
        return [FieldSpec(name, name) for name in FIELDS if name not in ("device_ids", "environment")]

    def event_time_of(self, params: Mapping[str, str]) -> datetime | None:
        if params.get("created_at_unix"):
            return datetime.fromtimestamp(int(params["created_at_unix"]), UTC)
        if params.get("created_at"):
            # Already validated when the delivery was made; only its moment is needed here.
            return adjust_time._from_iso(params["created_at"])
        return None

    def validate_app(self, app: App) -> tuple[dict[str, list[str]], list[str]]:
        errors: dict[str, list[str]] = {}
        warnings = []
        token = app.app_key or ""
        if token and not APP_TOKEN_SHAPE.fullmatch(token):
            # UNCONFIRMED: Adjust documents no format; every example is lowercase letters and digits,
            # so anything else is most likely a paste mistake.
            errors["app_key"] = ["An Adjust app token is lowercase letters and digits, like 4w565xzmb54d."]
        elif token and len(token) != 12:
            warnings.append(f"Adjust app tokens are usually 12 characters; this one has {len(token)}.")
        return errors, warnings

    def to_fields(self, params: Mapping[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = {"device_ids": {n: v for n, v in params.items() if n in adjust_ids.BY_NAME}}
        for name, value in params.items():
            if name in fields["device_ids"]:
                continue
            if name in ("callback_params", "partner_params"):
                fields[name] = json.loads(value)
            elif name in ("created_at", "created_at_unix"):
                fields["created_at"] = value
            else:
                fields[name] = value
        return fields

    def build(self, app: App, event_token: EventToken, params: Mapping[str, str]) -> OutboundRequest:
        fixed = {"s2s": "1", "event_token": event_token.token, "app_token": app.app_key}
        ids = {t.name: params[t.name] for t in adjust_ids.DEVICE_ID_TYPES if t.name in params}
        ordered = {name: params[name] for name in ORDER_AFTER_IDS if name in params}
        rest = {name: value for name, value in params.items() if name not in ids and name not in ordered}
        # quote, not quote_plus: spaces as %20, as in Adjust's own examples.
        body = urlencode({**fixed, **ids, **ordered, **rest}, quote_via=quote)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        secrets = [app.app_key]
        token = app.active_security_token()
        if token:
            headers["Authorization"] = f"Bearer {token.value}"
            secrets.append(token.value)
        return OutboundRequest(
            method="POST",
            url=settings.ADJUST_BASE_URL.rstrip("/") + "/event",
            headers=headers,
            body=body.encode(),
            secrets=tuple(secrets),
            security_token_id=token.pk if token else None,
        )

    def classify(self, answer: HttpAnswer) -> Verdict:
        verdict = classify_adjust(answer)
        skan = skan_values(answer)
        return replace(verdict, skan=skan) if skan else verdict

    def classify_error(self, error: TransportError) -> Verdict:
        return transport_verdict(error, "ADJUST_BASE_URL")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _device_ids(app: App, raw: Any, errors: Errors) -> dict[str, str]:
    """The valid ids in preference order; the problems of each under its own name."""
    given = errors.check("device_ids", parse_device_ids, raw, "idfa")
    if given is None:
        return {}
    own_types = ", ".join(adjust_ids.names_for(app.platform))
    here = adjust_ids.platform_label(app.platform)
    valid: dict[str, str] = {}
    problems = 0
    for name, raw_value in given.items():
        id_type = adjust_ids.BY_NAME.get(name)
        value = errors.check(name, text, raw_value, name)
        problem = None
        if id_type is None:
            name, problem = (
                "device_ids",
                f"'{name}' is not a device id Adjust takes; for {here} apps use {own_types}.",
            )
        elif value is None:
            continue
        elif app.platform not in id_type.platforms:
            problem = (
                f"{name} is a device id for {adjust_ids.platforms_label(id_type.platforms)}, but "
                f"'{app.name}' is an app for {here}; use {own_types}."
            )
        else:
            problem = id_type.problem(value)
        if problem:
            errors.add(name, problem)
            problems += 1
        else:
            valid[name] = value
    if not valid and not problems:
        errors.add("device_ids", f"Give at least one device id; for {here} apps: {own_types}.")
    return {t.name: valid[t.name] for t in adjust_ids.DEVICE_ID_TYPES if t.name in valid}


def _event_time(value: Any, now: datetime, params: dict[str, str], errors: Errors) -> datetime | None:
    parsed = errors.check("created_at", adjust_time.parse_created_at, value, now)
    if "created_at" in errors.by_field:
        return None
    if parsed is None:
        # Pinned now, not left to Adjust's clock: a retry hours later must keep the event's own
        # time, or it would land out of order (§1.6) and on the wrong day.
        moment = now.replace(microsecond=0)
        params["created_at_unix"] = str(int(moment.timestamp()))
        return moment
    wire_name, wire_value, moment = parsed
    params[wire_name] = wire_value
    return moment


def _encoded_params(value: Any, name: str) -> str | None:
    if value is None or value == "" or value == {}:
        return None
    flat = parse_string_object(value, name)
    if not flat:
        return None
    # ", " between pairs and ":" inside them reproduce Adjust's own example {"f0o":"bar", "bar":"baz"}
    # byte for byte; ensure_ascii=False keeps non-Latin text readable (urlencode escapes it as UTF-8).
    return json.dumps(flat, separators=(", ", ":"), ensure_ascii=False)


def _revenue(fields: EventFields, params: dict[str, str], errors: Errors) -> None:
    revenue = errors.check("revenue", text, fields.get("revenue"), "revenue")
    currency = errors.check("currency", text, fields.get("currency"), "currency")
    if revenue is not None:
        amount = errors.check("revenue", parse_decimal, revenue, "revenue")
        if amount is not None and not MIN_REVENUE <= amount <= MAX_REVENUE:
            errors.add(
                "revenue",
                "revenue must be from 0.001 to 100000000000 (Adjust's limits); leave it empty for an "
                "event without revenue.",
            )
        elif amount is not None:
            params["revenue"] = revenue
        if currency is None:
            # UNCONFIRMED: documented as required only for /ad_revenue; without it Adjust cannot
            # convert the amount, so s2sadmin asks for it on /event too.
            errors.add("currency", "currency is required with revenue: an ISO 4217 code like EUR.")
    if currency is not None:
        code = errors.check("currency", parse_currency, currency)
        if revenue is None:
            errors.add("revenue", "revenue is required when a currency is given; give both or neither.")
        elif code:
            params["currency"] = code


def _environment(value: Any, app: App) -> str:
    environment = text(value, "environment") or str(app.default_environment)
    if environment not in Environment.values:
        raise Problem(f"environment must be sandbox or production, not '{environment}'.")
    return environment


def _ipv4(value: Any) -> str | None:
    address = text(value, "ip_address")
    if address is None:
        return None
    version = ip_version(address)
    if version == 6:
        raise Problem("Adjust accepts IPv4 addresses only (like 203.0.113.7); this is an IPv6 address.")
    if version != 4:
        raise Problem("ip_address must be an IPv4 address like 203.0.113.7.")
    not_public = device_address_problem(address)
    if not_public:
        raise Problem(not_public)
    return address


def _os_name(value: Any) -> str | None:
    # UNCONFIRMED: the developer guide calls os_name required; the /event page does not list it,
    # so it stays optional, checked against the documented names when given.
    os_name = text(value, "os_name")
    if os_name is not None and os_name not in OS_NAMES:
        raise Problem(f"os_name must be one of Adjust's names: {', '.join(sorted(OS_NAMES))}.")
    return os_name


def _tracking_status(fields: EventFields) -> dict[str, str]:
    """att_status (iOS 14.5+ ATT, 0-3) or tracking_enabled (1/0): never both (§1.4)."""
    att = text(fields.get("att_status"), "att_status")
    tracking = text(fields.get("tracking_enabled"), "tracking_enabled")
    if att is not None and tracking is not None:
        raise Problem("Send att_status or tracking_enabled, not both (Adjust takes one or the other).")
    if att is not None and att not in ("0", "1", "2", "3"):
        raise Problem("att_status must be 0, 1, 2 or 3 (the iOS App Tracking Transparency status).")
    if tracking is not None and tracking not in ("0", "1"):
        raise Problem("tracking_enabled must be 1 or 0.")
    return {"att_status": att} if att is not None else {"tracking_enabled": tracking} if tracking else {}


def _request_size(request: OutboundRequest) -> int:
    return len(request.url.encode()) + len(request.body)
