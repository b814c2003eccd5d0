"""Singular's S2S EVENT API (mmp-apis-more.md §1.2): `/api/v2/evt` (sdid) or `/api/v1/evt` (ad ids).

Parameters go as a form body on POST (the 2026 reference: "Do not send parameters in a JSON request
body"), the SDK key among them as `a`, so it stays out of URLs and access logs. Every answer is
HTTP 200; the verdict is in the body (singular_answers.py).
"""

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils import timezone

from events.choices import Platform
from events.models import App, EventToken
from events.providers.answers import transport_verdict
from events.providers.base import EventFields, FieldSpec, MMPProvider, ValidEvent, Verdict
from events.providers.common import (
    Errors,
    check_app_and_token,
    check_known_fields,
    parse_device_ids,
    text,
)
from events.providers.json_fields import (
    ATT_CHOICES,
    compact_json,
    parse_att,
    parse_flat_object,
    parse_ipv4,
    parse_moment,
    required_production,
    revenue_pair,
)
from events.providers.singular_answers import SINGULAR_ANSWERS, classify_singular
from events.transport import HttpAnswer, OutboundRequest, TransportError

MAX_EVENT_NAME = 32  # "1-32 ASCII characters" [3RD extract.to, a validator spec]
MAX_AHEAD = timedelta(minutes=5)  # a product choice: a future event is a wrong clock or zone
# V2 is required for Singular accounts created on or after 2026-07-15, so it is the default.
API_VERSIONS = ("v2", "v1")
# Singular's platform names (`p`). UNCONFIRMED: Amazon and other Android stores are sent as Android.
PLATFORM_NAMES = {
    Platform.IOS: "iOS",
    Platform.ANDROID: "Android",
    Platform.AMAZON: "Android",
    Platform.ANDROID_OTHER: "Android",
    Platform.WINDOWS: "PC",
}
IOS_IDS = ("idfa", "idfv")
ANDROID_IDS = ("aifa", "asid", "amid", "oaid", "andi")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ANDI = re.compile(r"[0-9a-fA-F]{16}")  # the Android id: 64 bits in hex
ID_EXAMPLES = {
    "sdid": "40009df0-d618-4d81-9da1-cbb3337b8dec",
    "idfa": "8A3CB124-5A79-4334-8802-F75FEC099C58",
    "idfv": "0C1F3B9E-6A2D-4C3B-9D8E-1F2A3B4C5D6E",
    "aifa": "f024e65f-3dd9-4f16-9837-26bcef192d68",
    "asid": "a3b1c2d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "amid": "f024e65f-3dd9-4f16-9837-26bcef192d68",
    "oaid": "f024e65f-3dd9-4f16-9837-26bcef192d68",
    "andi": "9774d56d682e549c",
}
EVENT_FIELDS = (
    FieldSpec("ip_address", "IPv4 address", example="203.0.113.7", required=True),
    FieldSpec("os_version", "OS version (ve)", example="17.5"),
    FieldSpec(
        "att_status",
        "ATT status (iOS)",
        choices=ATT_CHOICES,
        help_text="Required on iOS: 0 when the app does not ask.",
    ),
    FieldSpec("revenue", "Revenue (amt)", example="4.99", help_text="Negative for a refund."),
    FieldSpec("currency", "Currency (ISO 4217)", example="USD"),
    FieldSpec(
        "created_at",
        "Event time",
        example="2025-01-01T12:00:00Z",
        help_text="Unix seconds or ISO 8601 with a zone. Empty: now (Singular wants time order).",
    ),
    FieldSpec(
        "attributes",
        "Attributes (JSON object)",
        example='{"level": "3"}',
        help_text="Custom attributes, sent as the JSON string Singular wants (e).",
    ),
    FieldSpec("custom_user_id", "Custom user id", example="user-42"),
)
FIELD_NAMES = ("device_ids", "environment", *(spec.name for spec in EVENT_FIELDS))
WIRE_ORDER = (
    "a",
    "p",
    "i",
    "ip",
    "ve",
    "sdid",
    *IOS_IDS,
    *ANDROID_IDS,
    "att_authorization_status",
    "n",
    "e",
    "amt",
    "cur",
    "is_revenue_event",
    "umilisec",
    "custom_user_id",
)


class SingularProvider(MMPProvider):
    name = "singular"
    label = "Singular"
    key_label = "SDK key"
    app_id_label = "Bundle id / package name"
    base_url_setting = "SINGULAR_BASE_URL"
    answers = SINGULAR_ANSWERS

    def validate(
        self, app: App, event_token: EventToken, fields: EventFields, *, now: datetime | None = None
    ) -> ValidEvent:
        now = now or timezone.now()
        errors = Errors()
        check_known_fields(fields, FIELD_NAMES, errors, self.label)
        check_app_and_token(app, event_token, errors, self.key_label)
        for messages in _app_problems(app).values():
            for message in messages:
                errors.add("app", message)
        errors.check("environment", required_production, fields.get("environment"), app, self.label)
        params = _device_ids(app, fields.get("device_ids"), errors)
        ip = errors.check("ip_address", parse_ipv4, fields.get("ip_address"), self.label)
        if ip:
            params["ip"] = ip
        elif "ip_address" not in errors.by_field:
            # `use_ip=true` would take the sender's address: the server's, not the device's.
            errors.add(
                "ip_address", "ip_address is required: the device's IPv4 address (Singular uses it for geo)."
            )
        version = errors.check("os_version", text, fields.get("os_version"), "os_version")
        if version:
            params["ve"] = version
        att = errors.check("att_status", parse_att, fields.get("att_status"))
        if app.platform == Platform.IOS:
            if att is None and "att_status" not in errors.by_field:
                errors.add(
                    "att_status",
                    "att_status is always required on iOS (Singular: 'even if ATT is not implemented pass 0').",
                )
            elif att is not None:
                params["att_authorization_status"] = att
        elif att is not None:
            errors.add(
                "att_status", "att_status is the iOS App Tracking Transparency status; this app is not iOS."
            )
        attributes = errors.check("attributes", parse_flat_object, fields.get("attributes"), "attributes")
        if attributes:
            params["e"] = compact_json(attributes)
        pair = revenue_pair(fields, errors)
        if pair:
            params.update({"amt": pair[0], "cur": pair[1], "is_revenue_event": "true"})
        moment = errors.check("created_at", parse_moment, fields.get("created_at"))
        if "created_at" not in errors.by_field:
            # Pinned when not given: a retry must keep the event's own time (Singular wants events
            # in time order, and a retry hours later would otherwise land out of it).
            moment = (moment or now).astimezone(UTC)
            if moment > now + MAX_AHEAD:
                errors.add("created_at", "The event time is in the future; check the clock and time zone.")
            params["umilisec"] = str(int(moment.timestamp() * 1000))
        customer = errors.check("custom_user_id", text, fields.get("custom_user_id"), "custom_user_id")
        if customer:
            params["custom_user_id"] = customer
        errors.raise_if_any()
        id_type = next(name for name in ("sdid", *IOS_IDS, *ANDROID_IDS) if params.get(name))
        return ValidEvent(
            params=params,
            environment="production",
            device_id_type=id_type,
            device_id=params[id_type],
            event_time=moment,
            warnings=_warnings(app, params),
        )

    def device_id_types(self, app: App) -> list[str]:
        return _id_types(app)

    def device_id_fields(self, app: App) -> list[FieldSpec]:
        required = {"sdid", *(IOS_IDS if app.platform == Platform.IOS else ())}
        return [
            FieldSpec(name, name, example=ID_EXAMPLES[name], required=name in required)
            for name in self.device_id_types(app)
        ]

    def event_fields(self, app: App, kind: str | None = None) -> list[FieldSpec]:
        if app.platform == Platform.IOS:
            return [
                replace(spec, required=True) if spec.name == "att_status" else spec for spec in EVENT_FIELDS
            ]
        return [spec for spec in EVENT_FIELDS if spec.name != "att_status"]

    def validate_app(self, app: App) -> tuple[dict[str, list[str]], list[str]]:
        errors = _app_problems(app)
        if app.default_environment != "production":
            errors["default_environment"] = [
                "Singular keeps no sandbox: use a separate SDK key or app for tests."
            ]
        if any(ch.isspace() for ch in app.app_key or ""):
            errors["app_key"] = ["An SDK key has no spaces; check what was pasted."]
        return errors, []

    def validate_event_token(self, app: App, token: str, kind: str) -> list[str]:
        problems = super().validate_event_token(app, token, kind)
        if len(token) > MAX_EVENT_NAME:
            problems.append(
                f"Singular event names have at most {MAX_EVENT_NAME} characters; this one has {len(token)}."
            )
        if not token.isascii() or not token.isprintable():
            problems.append(
                "Singular event names are plain ASCII characters (no accents, emoji or control characters)."
            )
        return problems

    def to_fields(self, params: Mapping[str, str]) -> dict[str, Any]:
        ids = ("sdid", *IOS_IDS, *ANDROID_IDS)
        fields: dict[str, Any] = {"device_ids": {n: params[n] for n in ids if n in params}}
        wire_to_field = {
            "ip": "ip_address",
            "ve": "os_version",
            "att_authorization_status": "att_status",
            "amt": "revenue",
            "cur": "currency",
            "custom_user_id": "custom_user_id",
        }
        fields.update({field: params[wire] for wire, field in wire_to_field.items() if wire in params})
        if "e" in params:
            fields["attributes"] = parse_flat_object(params["e"], "attributes")
        if "umilisec" in params:
            fields["created_at"] = params["umilisec"]
        return fields

    def build(self, app: App, event_token: EventToken, params: Mapping[str, str]) -> OutboundRequest:
        fixed = {
            "a": app.app_key,
            "p": PLATFORM_NAMES.get(app.platform, app.platform),
            "i": app.bundle_id,
            "n": event_token.token,
        }
        fields = {**fixed, **params}
        ordered = {name: fields[name] for name in WIRE_ORDER if name in fields}
        ordered.update((name, value) for name, value in fields.items() if name not in ordered)
        return OutboundRequest(
            method="POST",
            url=f"{settings.SINGULAR_BASE_URL.rstrip('/')}/api/{api_version(app)}/evt",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(ordered, quote_via=quote).encode(),
            secrets=(app.app_key,),
        )

    def classify(self, answer: HttpAnswer) -> Verdict:
        return classify_singular(answer)

    def classify_error(self, error: TransportError) -> Verdict:
        return transport_verdict(error, self.base_url_setting)


def api_version(app: App) -> str:
    return app.api_version or API_VERSIONS[0]


def _app_problems(app: App) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if app.platform not in PLATFORM_NAMES:
        errors["platform"] = [f"Singular's S2S API takes iOS, Android and PC apps, not {app.platform}."]
    if not (app.bundle_id or "").strip():
        # Without `i`, Singular answers "missing argument: i" to every event.
        errors["bundle_id"] = ["Singular finds the app by its bundle id or package name (i): give it."]
    if app.api_version and app.api_version not in API_VERSIONS:
        errors["api_version"] = ["Singular's event API is v2 (matched on sdid) or v1 (on advertising ids)."]
    return errors


def _id_types(app: App) -> list[str]:
    if api_version(app) == "v2":
        return ["sdid"]
    return list(IOS_IDS if app.platform == Platform.IOS else ANDROID_IDS)


def _device_ids(app: App, raw: Any, errors: Errors) -> dict[str, str]:
    given = errors.check("device_ids", parse_device_ids, raw, "sdid") or {}
    own = _id_types(app)
    ids: dict[str, str] = {}
    for name, raw_value in given.items():
        value = errors.check(name, text, raw_value, name)
        if name not in own:
            other = "v1 (advertising ids)" if api_version(app) == "v2" else "v2 (sdid)"
            errors.add(
                "device_ids",
                f"'{name}' is not a device id this app sends to Singular; it uses {', '.join(own)} "
                f"(switch the app to {other} to send others).",
            )
        elif value is None:
            continue
        elif (ANDI if name == "andi" else UUID).fullmatch(value):
            ids[name] = value
        else:
            errors.add(name, f"{name} must look like {ID_EXAMPLES[name]}.")
    if api_version(app) == "v2":
        if "sdid" not in given:
            errors.add(
                "sdid", "sdid (the Singular Device ID, read from the SDK) is required with Singular's v2 API."
            )
    elif app.platform == Platform.IOS:
        for name in IOS_IDS:
            if name not in given:
                errors.add(
                    name, f"{name} is required on iOS with Singular's v1 API (all zeros without consent)."
                )
    elif not given:
        errors.add("device_ids", f"Give at least one device id: {', '.join(own)}.")
    return {name: ids[name] for name in own if name in ids}


def _warnings(app: App, params: Mapping[str, str]) -> tuple[str, ...]:
    warnings = [
        "Singular needs a session (launch) for this device before its events, and events in time "
        "order; s2sadmin sends no sessions, so the app's SDK must have opened first."
    ]
    if "aifa" in params and "asid" not in params:
        warnings.append("With aifa, Singular also asks for asid (the App Set ID) on Google Play.")
    return tuple(warnings)
