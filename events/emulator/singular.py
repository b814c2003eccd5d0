"""Singular's S2S `/api/v1/evt`, `/api/v2/evt` and `/api/v1/launch` (mmp-apis-more.md §1.2).

Every answer is HTTP 200 with `{"status":"ok"}` or `{"status":"error","reason":...}`: a sender that
reads only the status code takes every refusal for a success. Parameters come as a query (V1 GET)
or a form body (POST); both are read.
"""

import ipaddress
from datetime import UTC, datetime

from django.db import transaction

from events.emulator.models import SINGULAR_PLATFORMS, EmuSingularDevice, EmuSingularKey, Provider
from events.emulator.parse import decimal_or_none, int_or_none
from events.emulator.record import public_params, record
from events.emulator.wire import Answer, Incoming, Rejected

OK = Answer(200, {"status": "ok"})
# Fault answers: any status but 200 means "retry" in Singular's words.
INTERNAL_ERROR = Answer(500, {"status": "error", "reason": "internal error"})  # UNCONFIRMED body
TOO_MANY_REQUESTS = Answer(429, {"status": "error", "reason": "too many requests"})  # UNCONFIRMED
IOS_IDS = ("idfa", "idfv")
ANDROID_IDS = ("aifa", "asid", "amid", "oaid", "andi")
SECRET_PARAMS = {"a"}


def refused(reason: str) -> Answer:
    return Answer(200, {"status": "error", "reason": reason})


def check_event(incoming: Incoming, *, now: datetime, commit: bool = True, fault: str = "") -> Answer:
    """An event, V1 or V2 by the path: validated, then recorded with what Singular would note."""
    try:
        params = _admit(incoming, session=False)
    except Rejected as rejection:
        return refused(rejection.message)
    if commit:
        _record_event(incoming, params, now, fault)
    return OK


def check_launch(incoming: Incoming, *, now: datetime, commit: bool = True, fault: str = "") -> Answer:
    """A session: what must come before a device's events."""
    try:
        params = _admit(incoming, session=True)
    except Rejected as rejection:
        return refused(rejection.message)
    if commit:
        device_id = _device_id(incoming, params)
        EmuSingularDevice.objects.update_or_create(
            app=_app(params), device_id=device_id, defaults={"launched_at": _event_time(params, now)}
        )
        _store(incoming, params, now, fault, kind="open", extra={})
    return OK


def _admit(incoming: Incoming, *, session: bool) -> dict[str, str]:
    params = incoming.params
    key = params.get("a", "")
    if not key:
        raise Rejected(200, "missing argument: a")
    sdk_key = EmuSingularKey.objects.filter(value=key).first()
    if sdk_key is None:
        raise Rejected(200, "invalid sdk key")  # UNCONFIRMED wording (§1.2 proposes it)
    if not sdk_key.s2s_enabled:
        # UNCONFIRMED: S2S is Enterprise-only; the refusal's words are the emulator's.
        raise Rejected(200, "invalid account: S2S is not enabled for this SDK key")
    platform = params.get("p", "")
    if not platform:
        raise Rejected(200, "missing argument: p")
    if platform not in SINGULAR_PLATFORMS:
        raise Rejected(200, f"invalid platform: {platform}")
    if not params.get("i"):
        raise Rejected(200, "missing argument: i")
    ip = params.get("ip", "")
    if not ip and params.get("use_ip") != "true":
        raise Rejected(200, "missing argument: ip")
    if ip and not _ipv4(ip):
        raise Rejected(200, "invalid argument: ip")  # UNCONFIRMED wording; IPv4 only is documented
    if session and not params.get("ve"):
        raise Rejected(200, "missing argument: ve")
    if not session and not params.get("n"):
        raise Rejected(200, "missing argument: n")
    _check_device(incoming, params)
    return params


def _check_device(incoming: Incoming, params: dict[str, str]) -> None:
    if "/api/v2/" in incoming.path:
        if not params.get("sdid"):
            raise Rejected(200, "missing argument: sdid")  # UNCONFIRMED wording
        return
    platform = params["p"]
    if not any(params.get(name) for name in (*IOS_IDS, *ANDROID_IDS)):
        raise Rejected(200, "no device ID supplied")
    if platform == "iOS":
        for name in ("idfv", "idfa"):
            if not params.get(name):
                raise Rejected(200, f"platform: iOS should have an {name} param")
        if not params.get("att_authorization_status"):
            raise Rejected(200, "missing argument: att_authorization_status")  # UNCONFIRMED wording


def _ipv4(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).version == 4
    except ValueError:
        return False


def _app(params: dict[str, str]) -> str:
    return f"{params['i']} ({params['p']})"


def _device_id(incoming: Incoming, params: dict[str, str]) -> str:
    names = ("sdid",) if "/api/v2/" in incoming.path else (*IOS_IDS, *ANDROID_IDS)
    return next((params[name] for name in names if params.get(name)), "")


def _event_time(params: dict[str, str], now: datetime) -> datetime:
    millis = int_or_none(params.get("umilisec", ""))
    if millis is not None:
        return datetime.fromtimestamp(millis / 1000, UTC)
    seconds = int_or_none(params.get("utime", ""))
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else now


def _record_event(incoming: Incoming, params: dict[str, str], now: datetime, fault: str) -> None:
    event_at = _event_time(params, now)
    notes: dict[str, str] = {}
    with transaction.atomic():
        device, _ = EmuSingularDevice.objects.select_for_update().get_or_create(
            app=_app(params), device_id=_device_id(incoming, params)
        )
        if device.launched_at is None:
            # UNCONFIRMED: Singular wants a session first; the emulator accepts and does not attribute.
            notes["attribution"] = "none: no session (launch) for this device before the event"
        if device.last_event_at and event_at < device.last_event_at:
            # Accepted: the docs speak of data inconsistencies, not of an error.
            notes["out_of_order"] = f"before this device's event at {device.last_event_at.isoformat()}"
        else:
            device.last_event_at = event_at
            device.save(update_fields=["last_event_at"])
    _store(incoming, params, now, fault, kind="event", extra=notes, event_at=event_at)


def _store(
    incoming: Incoming,
    params: dict[str, str],
    now: datetime,
    fault: str,
    *,
    kind: str,
    extra: dict[str, str],
    event_at: datetime | None = None,
) -> None:
    ids = {name: params[name] for name in ("sdid", *IOS_IDS, *ANDROID_IDS) if params.get(name)}
    leave_out = {*SECRET_PARAMS, *ids, "n", "i", "p", "amt", "cur"}
    record(
        incoming,
        fault=fault,
        event_at=event_at or now,
        provider=Provider.SINGULAR,
        app_key=params["i"],
        platform=params["p"],
        event_token=params.get("n", ""),
        kind=kind,
        device_ids=ids,
        environment="production",
        revenue=decimal_or_none(params.get("amt", "")),
        currency=params.get("cur", "")[:8],
        params={**public_params(params, leave_out), **extra},
    )
