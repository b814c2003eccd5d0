"""AppsFlyer's S2S in-app events API, api3 (mmp-apis-more.md §1.1): its rules, request and answers.

One JSON event per POST to `/inappevent/{app_id}`, authenticated by the S2S token in a header
literally named `authentication`. AppsFlyer's 200 means "received, minimally validated", and it
answers 200 for an iOS app id without its `id` prefix while dropping the event: that trap is
refused here, before anything is sent.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from events.choices import Platform
from events.models import App, EventToken
from events.providers.answers import transport_verdict
from events.providers.appsflyer_answers import APPSFLYER_ANSWERS, classify_appsflyer
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
    case_twin,
    compact_json,
    parse_att,
    parse_flat_object,
    parse_ipv4,
    parse_moment,
    required_production,
    revenue_pair,
)
from events.transport import HttpAnswer, OutboundRequest, TransportError

MAX_BODY_BYTES = 1024  # "body ≤ 1 KB" [DOC]
# UNCONFIRMED: the S2S page gives no limit for event names; 45 characters is the limit AppsFlyer's
# SDK guide gives for in-app event names, applied here so a name is not cut or refused later.
MAX_EVENT_NAME = 45
# A product choice, as for Adjust: an event from the future is a wrong clock or zone.
MAX_AHEAD = timedelta(minutes=5)
PLATFORMS = (Platform.IOS, Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER, Platform.WINDOWS)
IOS_APP_ID = re.compile(r"id\d+")
PACKAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+")
# The schema's patterns are `\d{13}-\d{7}` (iOS) and `\d{13}-\d{19}` (Android), but its own example
# `1234567890123-1234567` breaks the Android one: validated loosely, as §1.1 advises.
APPSFLYER_ID = re.compile(r"\d{13}-\d+")
UPPER_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
ANY_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
IOS_IDS = ("idfa", "idfv")
ANDROID_IDS = ("advertising_id", "oaid", "amazon_aid")
ID_EXAMPLES = {
    "appsflyer_id": "1234567890123-1234567",
    "idfa": "8A3CB124-5A79-4334-8802-F75FEC099C58",
    "idfv": "0C1F3B9E-6A2D-4C3B-9D8E-1F2A3B4C5D6E",
    "advertising_id": "f024e65f-3dd9-4f16-9837-26bcef192d68",
    "oaid": "f024e65f-3dd9-4f16-9837-26bcef192d68",
    "amazon_aid": "f024e65f-3dd9-4f16-9837-26bcef192d68",
}
EVENT_FIELDS = (
    FieldSpec(
        "event_value",
        "Event value (JSON object)",
        example='{"af_content_id": "gems_100", "af_quantity": 1}',
        help_text="A flat JSON object; s2sadmin sends it as the JSON string AppsFlyer wants.",
    ),
    FieldSpec("revenue", "Revenue (af_revenue)", example="4.99", help_text="Negative for a refund."),
    FieldSpec("currency", "Currency (ISO 4217)", example="USD"),
    FieldSpec(
        "created_at",
        "Event time",
        example="2025-01-01T12:00:00Z",
        help_text="Unix seconds or ISO 8601 with a zone; sent as UTC yyyy-mm-dd hh:mm:ss.sss. Empty: now.",
    ),
    FieldSpec("ip_address", "IPv4 address", example="203.0.113.7"),
    FieldSpec("os_version", "OS version (os)", example="17.5"),
    FieldSpec(
        "att_status",
        "ATT status (iOS)",
        choices=ATT_CHOICES,
    ),
    FieldSpec("customer_user_id", "Customer user id", example="user-42"),
    FieldSpec("app_version", "App version", example="1.0.3"),
)
FIELD_NAMES = ("device_ids", "environment", *(spec.name for spec in EVENT_FIELDS))
# Wire order: who, what, when, then the device and the rest.
WIRE_ORDER = (
    "appsflyer_id",
    "eventName",
    "eventValue",
    "eventTime",
    "eventCurrency",
    "ip",
    "os",
    "att",
    *IOS_IDS,
    *ANDROID_IDS,
    "customer_user_id",
    "app_version_name",
    "af_events_api",
)
RENAMED = {"ip_address": "ip", "os_version": "os", "att_status": "att", "app_version": "app_version_name"}


class AppsFlyerProvider(MMPProvider):
    name = "appsflyer"
    label = "AppsFlyer"
    key_label = "S2S token"
    app_id_label = "AppsFlyer app id"
    base_url_setting = "APPSFLYER_BASE_URL"
    # "60,000 POSTs per minute" per app (mmp-apis-more.md §1.1; an older copy: "1K per second").
    published_rate_per_second: float | None = 1000.0
    answers = APPSFLYER_ANSWERS

    def validate(
        self, app: App, event_token: EventToken, fields: EventFields, *, now: datetime | None = None
    ) -> ValidEvent:
        now = now or timezone.now()
        errors = Errors()
        warnings: list[str] = []
        check_known_fields(fields, FIELD_NAMES, errors, self.label)
        check_app_and_token(app, event_token, errors, self.key_label)
        for message in _app_problems(app).values():
            errors.add("app", message)
        errors.check("environment", required_production, fields.get("environment"), app, self.label)
        params = _device_ids(app, fields.get("device_ids"), errors)
        event_value = errors.check("event_value", parse_flat_object, fields.get("event_value"), "event_value")
        pair = revenue_pair(fields, errors)
        if event_value is not None:
            event_value = _with_revenue(event_value, pair, errors, warnings)
            if pair:
                params["eventCurrency"] = pair[1]
            # "" when there is no value, as documented: the field itself is required.
            params["eventValue"] = compact_json(event_value) if event_value else ""
        moment = errors.check("created_at", parse_moment, fields.get("created_at"))
        if "created_at" not in errors.by_field:
            moment = (moment or now).astimezone(UTC)
            if moment > now + MAX_AHEAD:
                errors.add("created_at", "The event time is in the future; check the clock and time zone.")
            params["eventTime"] = appsflyer_time(moment)
            if now > restamp_deadline(moment):
                warnings.append(
                    f"AppsFlyer records an event that arrives after 02:00 UTC of the next day at its "
                    f"arrival time: this one will count at {appsflyer_time(now)}, not {params['eventTime']}."
                )
        for name, wire in RENAMED.items():
            check = parse_att if name == "att_status" else _ip if name == "ip_address" else text
            value = errors.check(name, check, fields.get(name), name)
            if value is not None:
                params[wire] = value
        if "att" in params and app.platform != Platform.IOS:
            errors.add(
                "att_status", "att_status is the iOS App Tracking Transparency status; this app is not iOS."
            )
        customer = errors.check("customer_user_id", text, fields.get("customer_user_id"), "customer_user_id")
        if customer:
            params["customer_user_id"] = customer
        if not errors:
            size = len(self.build(app, event_token, params).body)
            if size > MAX_BODY_BYTES:
                errors.add(
                    "__all__",
                    f"The request body would be {size:,} bytes; AppsFlyer takes at most {MAX_BODY_BYTES:,}: "
                    "shorten the event value.",
                )
        errors.raise_if_any()
        if "os" not in params and app.platform == Platform.IOS:
            warnings.append("Without os, AppsFlyer treats an iOS event as coming from iOS 14.5.")
        return ValidEvent(
            params=params,
            environment="production",
            device_id_type="appsflyer_id",
            device_id=params["appsflyer_id"],
            event_time=moment,
            warnings=tuple(warnings),
        )

    def device_id_types(self, app: App) -> list[str]:
        return _id_types(app)

    def device_id_fields(self, app: App) -> list[FieldSpec]:
        return [
            FieldSpec(
                name,
                name,
                example=ID_EXAMPLES[name],
                required=name == "appsflyer_id",
                help_text="Required: the id AppsFlyer's SDK gives the install."
                if name == "appsflyer_id"
                else "",
            )
            for name in self.device_id_types(app)
        ]

    def event_fields(self, app: App, kind: str | None = None) -> list[FieldSpec]:
        return [spec for spec in EVENT_FIELDS if spec.name != "att_status" or app.platform == Platform.IOS]

    def validate_app(self, app: App) -> tuple[dict[str, list[str]], list[str]]:
        errors = {field: [message] for field, message in _app_problems(app).items()}
        if app.default_environment != "production":
            errors["default_environment"] = ["AppsFlyer keeps no sandbox: its apps send to production."]
        if any(ch.isspace() for ch in app.app_key or ""):
            errors["app_key"] = ["An S2S token has no spaces; check what was pasted."]
        return errors, []

    def validate_event_token(self, app: App, token: str, kind: str) -> list[str]:
        problems = super().validate_event_token(app, token, kind)
        if token != token.strip():
            problems.append("An AppsFlyer event name has no spaces at its start or end.")
        if len(token) > MAX_EVENT_NAME:
            problems.append(
                f"AppsFlyer event names have at most {MAX_EVENT_NAME} characters; this one has {len(token)}."
            )
        twin = case_twin(app, token)
        if twin:
            problems.append(
                f"AppsFlyer counts '{token}' and '{twin}' as two different events (case matters); reuse '{twin}'."
            )
        return problems

    def to_fields(self, params: Mapping[str, str]) -> dict[str, Any]:
        ids = {n: params[n] for n in ("appsflyer_id", *IOS_IDS, *ANDROID_IDS) if n in params}
        fields: dict[str, Any] = {"device_ids": ids}
        value = parse_flat_object(params.get("eventValue") or "", "event_value")
        if "af_revenue" in value and "eventCurrency" in params:
            fields["revenue"] = str(value.pop("af_revenue"))
            fields["currency"] = params["eventCurrency"]
            value.pop("af_currency", None)
        fields["event_value"] = value
        fields["created_at"] = _iso(params.get("eventTime", ""))
        for name, wire in RENAMED.items():
            if wire in params:
                fields[name] = params[wire]
        if "customer_user_id" in params:
            fields["customer_user_id"] = params["customer_user_id"]
        return fields

    def build(self, app: App, event_token: EventToken, params: Mapping[str, str]) -> OutboundRequest:
        # UNCONFIRMED whether api3 still needs it: the legacy article calls it mandatory (it makes
        # the event a "rich event" for partners), api3's schema omits it; harmless either way.
        fields = {"eventName": event_token.token, "eventValue": "", **params, "af_events_api": "true"}
        ordered = {name: fields[name] for name in WIRE_ORDER if name in fields}
        ordered.update((name, value) for name, value in fields.items() if name not in ordered)
        return OutboundRequest(
            method="POST",
            url=f"{settings.APPSFLYER_BASE_URL.rstrip('/')}/inappevent/{quote(app.bundle_id, safe='')}",
            headers={"Content-Type": "application/json", "authentication": app.app_key},
            body=compact_json(ordered).encode(),
            secrets=(app.app_key,),
        )

    def classify(self, answer: HttpAnswer) -> Verdict:
        return classify_appsflyer(answer)

    def classify_error(self, error: TransportError) -> Verdict:
        return transport_verdict(error, self.base_url_setting)


def appsflyer_time(moment: datetime) -> str:
    """`yyyy-mm-dd hh:mm:ss.sss` in UTC, AppsFlyer's own layout (not ISO 8601)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def restamp_deadline(moment: datetime) -> datetime:
    """Arriving after this, AppsFlyer stamps the event with its arrival time: 02:00 UTC next day."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1, hours=2)


def _iso(eventtime: str) -> str:
    return eventtime.replace(" ", "T") + "Z" if eventtime else ""


def _app_problems(app: App) -> dict[str, str]:
    """What is wrong with the app's platform or AppsFlyer app id, by App field."""
    app_id = (app.bundle_id or "").strip()
    if app.platform not in PLATFORMS:
        return {
            "platform": f"AppsFlyer's mobile S2S API takes iOS, Android and Windows apps, not {app.platform}."
        }
    if not app_id:
        return {
            "bundle_id": "Give the AppsFlyer app id: id + the App Store id on iOS, the package name on Android."
        }
    if app.platform == Platform.IOS and app_id.isdigit():
        # AppsFlyer answers 200 OK to this and drops the event: refused here, with the fix.
        return {
            "bundle_id": f"An iOS AppsFlyer app id starts with 'id': write id{app_id}. AppsFlyer answers "
            "200 OK to the bare number and drops every event."
        }
    if app.platform == Platform.IOS and not IOS_APP_ID.fullmatch(app_id):
        return {
            "bundle_id": "An iOS AppsFlyer app id is 'id' followed by the App Store id's digits, like id123456789."
        }
    android = app.platform in (Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER)
    if android and not PACKAGE_NAME.fullmatch(app_id):
        return {"bundle_id": "An Android AppsFlyer app id is the package name, like com.example.game."}
    return {}


def _id_types(app: App) -> list[str]:
    return ["appsflyer_id", *(IOS_IDS if app.platform == Platform.IOS else ANDROID_IDS)]


def _device_ids(app: App, raw: Any, errors: Errors) -> dict[str, str]:
    given = errors.check("device_ids", parse_device_ids, raw, "appsflyer_id") or {}
    own = _id_types(app)
    ids: dict[str, str] = {}
    for name, raw_value in given.items():
        value = errors.check(name, text, raw_value, name)
        if name not in own:
            errors.add(
                "device_ids", f"'{name}' is not an AppsFlyer device id for this app; use {', '.join(own)}."
            )
        elif value is None:
            continue
        elif name == "appsflyer_id":
            if APPSFLYER_ID.fullmatch(value):
                ids[name] = value
            else:
                errors.add(name, f"appsflyer_id is 13 digits, a hyphen and digits, like {ID_EXAMPLES[name]}.")
        elif name in IOS_IDS and ANY_UUID.fullmatch(value):
            # The schema wants uppercase (`^[0-9A-F]{8}-…$`); the case is only a transcription.
            ids[name] = value.upper()
        elif name not in IOS_IDS and ANY_UUID.fullmatch(value):
            ids[name] = value.lower()
        else:
            errors.add(name, f"{name} must be a UUID like {ID_EXAMPLES[name]}.")
    if "appsflyer_id" not in given:
        errors.add(
            "appsflyer_id",
            "appsflyer_id is required: AppsFlyer answers 400 'appsflyer_id is a mandatory field' without "
            "it. Read it from the SDK (getAppsFlyerUID) and send it with the event.",
        )
    return {name: ids[name] for name in own if name in ids}


def _with_revenue(
    value: dict[str, Any], pair: tuple[str, str] | None, errors: Errors, warnings: list[str]
) -> dict[str, Any]:
    if pair is None:
        if "af_revenue" in value and not isinstance(value["af_revenue"], str):
            # Only a warning (§1.1): AppsFlyer's examples quote it; the revenue field does so.
            warnings.append(
                "af_revenue is not text; put it in the revenue field, which sends it as AppsFlyer shows."
            )
        return value
    for key in ("af_revenue", "af_currency"):
        if key in value:
            errors.add("event_value", f"{key} is set by the revenue and currency fields; leave it out here.")
    return {"af_revenue": pair[0], "af_currency": pair[1], **value}


def _ip(value: Any, name: str) -> str | None:
    return parse_ipv4(value, "AppsFlyer", name)
