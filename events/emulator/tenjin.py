"""Tenjin's /v0/event and /v0/purchase, check by check in the order of mmp-apis.md §5.2-5.3.

Tenjin documents the words of its answers but not their JSON: `{"code": <status>, "message":
<word>}` is the spec's proposal (UNCONFIRMED). A 202 means received and dropped.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fnmatch import fnmatchcase

from django.conf import settings
from django.db import transaction

from events.emulator.models import EmuRecordedEvent, EmuTenjinApp, EmuTenjinEventName, EmuTenjinKey, Provider
from events.emulator.parse import basic_auth_user, decimal_or_none, int_or_none
from events.emulator.record import public_params, record
from events.emulator.wire import Answer, Incoming, Rejected

OK = Answer(200, {"code": 200, "success": True})
REQUIRED = ("analytics_installation_id", "os_version", "sdk_version")
DEVICE_ID_PARAMS = ("advertising_id", "developer_device_id", "analytics_installation_id")
MAX_NAME_LENGTH = 80  # names must be *under* 80 characters
MAX_DISTINCT_NAMES = 500
CURRENCY = re.compile(r"^[A-Z]{3}$")
WITHHELD_ID = re.compile(r"^[0-]*$")  # empty or all zeros: the user did not consent
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# UNCONFIRMED: no documented ceiling; this one keeps absurd totals out of the revenue column.
MAX_REVENUE = Decimal(10) ** 15


def refused(status: int, message: str) -> Answer:
    return Answer(status, {"code": status, "message": message})


INTERNAL_ERROR = refused(500, "internal error")  # UNCONFIRMED wording
TOO_MANY_REQUESTS = refused(429, "too many requests")  # UNCONFIRMED: no rate limit documented
IGNORED = "ignored"
INVALID_DEVICE = "invalid device identifier"


@dataclass
class Admitted:
    app: EmuTenjinApp
    params: dict[str, str]


def check_event(incoming: Incoming, *, now: datetime, commit: bool = True, fault: str = "") -> Answer:
    """The answer to /v0/event: an app open without `event`, else a custom event."""
    try:
        admitted = admit(incoming)
        params = admitted.params
        name = params.get("event", "")
        value = None
        if name:
            if len(name) >= MAX_NAME_LENGTH:
                raise Rejected(202, IGNORED)  # UNCONFIRMED reply; the limit is the SDK's
            if not admit_event_name(admitted.app, name, commit=commit):
                raise Rejected(202, IGNORED)  # UNCONFIRMED reply
            # UNCONFIRMED: the parameter is `value`; a non-integer is dropped, the event kept.
            value = int_or_none(params.get("value", ""))
            if value is not None and not INT64_MIN <= value <= INT64_MAX:
                value = None
    except Rejected as rejection:
        return refused(rejection.status, rejection.message)
    if commit:
        kind = EmuRecordedEvent.Kind.EVENT if name else EmuRecordedEvent.Kind.OPEN
        _record(incoming, admitted, now, fault, kind=kind, event_token=name, value=value)
    return OK


def check_purchase(incoming: Incoming, *, now: datetime, commit: bool = True, fault: str = "") -> Answer:
    """The answer to /v0/purchase. No dedupe: Tenjin leaves that to the sender."""
    try:
        admitted = admit(incoming)
        params = admitted.params
        _required(params, "product_id")
        currency = _required(params, "currency")
        if not CURRENCY.match(currency):
            raise Rejected(400, "invalid parameter: currency")
        quantity = int_or_none(_required(params, "quantity"))
        if quantity is None or quantity < 1:
            raise Rejected(400, "invalid parameter: quantity")
        price = decimal_or_none(_required(params, "price"))
        if price is None or price <= 0:  # Tenjin takes no negative revenue (refunds)
            raise Rejected(400, "invalid parameter: price")
        if price * quantity >= MAX_REVENUE:
            raise Rejected(400, "invalid parameter: price")
    except Rejected as rejection:
        return refused(rejection.status, rejection.message)
    if commit:
        # Receipts are validated later at Tenjin, if at all; the emulator does not try.
        extra = {"receipt_validated": "unknown"} if params.get("receipt") else {}
        _record(
            incoming,
            admitted,
            now,
            fault,
            kind=EmuRecordedEvent.Kind.PURCHASE,
            event_token="",
            revenue=price * quantity,
            currency=currency,
            extra=extra,
            leave_out={"receipt", "signature"},
        )
    return OK


def admit(incoming: Incoming) -> Admitted:
    """Steps 2-8, shared by both endpoints: key, app, key ownership, fields, device, version."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and incoming.content_length > limit:
        # UNCONFIRMED: Tenjin documents no size limit; this only replaces Django's 400 page.
        raise Rejected(413, "request too large")
    params = incoming.params
    # UNCONFIRMED: when both are sent, the Basic-auth user name wins over `api_key`.
    key = basic_auth_user(incoming.authorization) or params.get("api_key", "")
    if not key:
        raise Rejected(401, "unauthorized")
    bundle_id, platform = params.get("bundle_id", ""), params.get("platform", "")
    app = EmuTenjinApp.objects.filter(bundle_id=bundle_id, platform=platform).first()
    if app is None:
        raise Rejected(404, "no such app")  # also for a missing bundle_id or platform (UNCONFIRMED)
    sdk_key = EmuTenjinKey.objects.filter(value=key, apps=app).first()
    if sdk_key is None:
        raise Rejected(401, "unauthorized")
    if not sdk_key.enabled:
        raise Rejected(202, "not logged")
    if not app.lenient:
        for name in REQUIRED:
            _required(params, name)  # UNCONFIRMED reply
    check_device(app.platform, params)
    app_version = params.get("app_version", "")
    if app_version and any(fnmatchcase(app_version, rule) for rule in app.ignored_versions):
        raise Rejected(202, IGNORED)
    return Admitted(app, params)


def _required(params: dict[str, str], name: str) -> str:
    if not params.get(name):
        raise Rejected(400, f"missing parameter: {name}")  # UNCONFIRMED reply
    return params[name]


def check_device(platform: str, params: dict[str, str]) -> None:
    advertising_id = params.get("advertising_id", "")
    withheld = bool(WITHHELD_ID.match(advertising_id))
    # UNCONFIRMED format rule: 32 hex digits, with or without hyphens.
    if not withheld and not re.fullmatch(r"[0-9a-fA-F]{32}", advertising_id.replace("-", "")):
        raise Rejected(202, INVALID_DEVICE)
    if platform == "ios":
        # Without consent the IDFA is zeros; the IDFV must then carry the device, and Tenjin's
        # guide says iOS events without it are not processed at all.
        if not params.get("developer_device_id"):
            raise Rejected(202, INVALID_DEVICE)
    elif withheld:
        raise Rejected(202, INVALID_DEVICE)


def admit_event_name(app: EmuTenjinApp, name: str, *, commit: bool) -> bool:
    """Whether this name fits in the app's 500 distinct names; with `commit`, it is taken."""
    names = EmuTenjinEventName.objects.filter(app=app)
    if names.filter(name=name).exists():
        return True
    if not commit:
        return names.count() < MAX_DISTINCT_NAMES
    with transaction.atomic():
        # Insert first, so SQLite takes its write lock at once; on PostgreSQL the app row lock
        # makes the count below see every name committed before ours.
        EmuTenjinEventName.objects.bulk_create(
            [EmuTenjinEventName(app=app, name=name)], ignore_conflicts=True
        )
        list(EmuTenjinApp.objects.select_for_update().filter(pk=app.pk).values_list("pk"))
        if names.count() > MAX_DISTINCT_NAMES:
            transaction.set_rollback(True)
            return False
    return True


def _record(
    incoming: Incoming,
    admitted: Admitted,
    now: datetime,
    fault: str,
    *,
    extra: dict | None = None,
    leave_out: set[str] | frozenset = frozenset(),
    **fields,
) -> None:
    params = admitted.params
    ids = {name: params[name] for name in DEVICE_ID_PARAMS if params.get(name)}
    leave_out = {*leave_out, *DEVICE_ID_PARAMS, "bundle_id", "platform", "event", "value"}
    record(
        incoming,
        fault=fault,
        event_at=now,
        provider=Provider.TENJIN,
        app_key=admitted.app.bundle_id,
        platform=admitted.app.platform,
        device_ids=ids,
        environment="production",  # Tenjin keeps no sandbox apart
        params={**public_params(params, leave_out), **(extra or {})},
        **fields,
    )
