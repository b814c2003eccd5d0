"""Adjust's /event and /gdpr_forget_device, check by check in the order of mmp-apis.md §5.1.

The order is the spec's design choice (Adjust does not document one): transport, app, auth,
event token, payload, then device and state. An empty optional parameter counts as absent
(UNCONFIRMED).
"""

import re
from datetime import datetime
from decimal import Decimal
from hmac import compare_digest

from events.emulator import adjust_state
from events.emulator.adjust_ids import device_ids, platform_of, well_formed
from events.emulator.models import EmuAdjustApp, EmuAdjustDevice, EmuAdjustEventToken, Provider
from events.emulator.parse import (
    adjust_created_at,
    adjust_created_at_unix,
    bearer_token,
    decimal_or_none,
    flat_string_object,
)
from events.emulator.record import public_params, record
from events.emulator.wire import Answer, Incoming, Rejected

MAX_REQUEST_BYTES = 1_048_576
# UNCONFIRMED: the format is inferred from the documented examples, not from a rule.
APP_TOKEN = re.compile(r"^[a-z0-9]+$")
MIN_REVENUE, MAX_REVENUE = Decimal("0.001"), Decimal("100000000000")
ENVIRONMENTS = ("sandbox", "production")
NOT_AUTHORIZED = "Failed to authorize request"

OK = Answer(200, {"status": "OK"})
EVENT_FAILED = "Event request failed"
# UNCONFIRMED: the data-erasure page gives no error body; this follows the /event envelope.
FORGET_FAILED = "Forget device request failed"


def failed(status: int, message: str, prefix: str = EVENT_FAILED) -> Answer:
    return Answer(status, {"error": f"{prefix} ({message})"})


INTERNAL_ERROR = failed(500, "Internal error, contact support@adjust.com")
TOO_MANY_REQUESTS = failed(429, "Too many requests")  # UNCONFIRMED: no rate limit documented for /event


def check_event(incoming: Incoming, *, now: datetime, commit: bool = True, fault: str = "") -> Answer:
    """The answer to a /event request; with `commit`, an accepted event is recorded."""
    try:
        return _event(incoming, now=now, commit=commit, fault=fault)
    except Rejected as rejection:
        return failed(rejection.status, rejection.message)


def _event(incoming: Incoming, *, now: datetime, commit: bool, fault: str) -> Answer:
    check_size(incoming)
    params = incoming.params
    # UNCONFIRMED: `s2s` is not checked. The spec's proposal rejects its absence only together
    # with a missing app_token, which the app-token check below already answers.
    app = find_app(params)
    ids = device_ids(params)
    platform = platform_of(params, ids)
    if platform is not None and platform not in app.tracking_enabled_platforms:
        raise Rejected(403, "Tracking disabled")
    check_auth(app, incoming.authorization, scope="events")
    event_token = find_event_token(app, params.get("event_token", ""))
    callback_params = flat_params(params, "callback_params")
    # UNCONFIRMED: bad partner_params get the callback message; no other one is documented.
    partner_params = flat_params(params, "partner_params")
    revenue = parse_revenue(app, params)
    environment = parse_environment(params)
    sent_at = parse_event_time(params)
    event_at = sent_at or now
    device = find_device(app, ids, now=now, commit=commit)

    def record_it() -> None:
        leave_out = {*ids, "app_token", "event_token", "callback_params", "partner_params"}
        leave_out |= {"revenue", "currency", "environment"}
        record(
            incoming,
            fault=fault,
            event_at=event_at,
            provider=Provider.ADJUST,
            app_key=app.app_token,
            platform=platform or "",
            event_token=event_token.token,
            kind="event",
            device_ids=ids,
            environment=environment,
            revenue=revenue,
            # The column keeps 8 characters; the raw request keeps whatever was sent.
            currency=params.get("currency", "")[:8] if revenue is not None else "",
            callback_params=callback_params,
            partner_params=partner_params,
            params=public_params(params, leave_out),
        )

    problem = adjust_state.accept_event(
        device,
        event_token,
        event_at,
        now=now,
        commit=commit,
        record=record_it,
        sent_time=sent_at is not None,
    )
    if problem:
        raise Rejected(400, problem)
    return success(app, revenue)


def check_size(incoming: Incoming) -> None:
    # From the headers, before the body is read: Django would refuse bodies over
    # DATA_UPLOAD_MAX_MEMORY_SIZE with its own 400 otherwise.
    if incoming.size > MAX_REQUEST_BYTES:
        raise Rejected(413, "Request size too large")


def find_app(params: dict[str, str]) -> EmuAdjustApp:
    app_token = params.get("app_token", "")
    if not APP_TOKEN.match(app_token):
        raise Rejected(400, "Invalid app token")
    app = EmuAdjustApp.objects.filter(app_token=app_token).first()
    if app is None:
        raise Rejected(404, "App token not found")
    if not app.active:
        raise Rejected(403, "App is inactive")
    return app


def check_auth(app: EmuAdjustApp, header: str, *, scope: str) -> None:
    if not app.s2s_auth_enabled or scope not in app.auth_enforced_scopes:
        return
    tokens = list(app.security_tokens.all())
    if not any(token.active for token in tokens):
        return  # Adjust switches authentication off itself once every token is deactivated
    soft = app.auth_failure_mode == EmuAdjustApp.AuthFailureMode.HTTP_202
    sent = bearer_token(header)
    if sent is None:
        raise Rejected(202, "Missing authentication token") if soft else Rejected(401, NOT_AUTHORIZED)
    token = next((t for t in tokens if t.active and compare_digest(t.value, sent)), None)
    if token is None:
        raise Rejected(202, "Wrong authentication token") if soft else Rejected(401, NOT_AUTHORIZED)
    if not token.covers(scope):
        # UNCONFIRMED message: the security page shows "Session failed" for sessions only.
        raise Rejected(401, NOT_AUTHORIZED)


def find_event_token(app: EmuAdjustApp, token: str) -> EmuAdjustEventToken:
    # A token of another app is simply not found among this app's tokens.
    event_token = app.event_tokens.filter(token=token).first() if token else None
    if event_token is None:
        raise Rejected(400, "Invalid event token")
    if event_token.blocklisted:
        raise Rejected(403, "Event token blocklisted")
    return event_token


def flat_params(params: dict[str, str], name: str) -> dict[str, str] | None:
    if not params.get(name):
        return None
    parsed = flat_string_object(params[name])
    if parsed is None:
        raise Rejected(400, "Invalid callback parameters")
    return parsed


def parse_revenue(app: EmuAdjustApp, params: dict[str, str]) -> Decimal | None:
    if not params.get("revenue"):
        return None
    revenue = decimal_or_none(params["revenue"])
    # UNCONFIRMED: below the documented minimum of 0.001 gets the malformed-revenue answer.
    if revenue is None or not MIN_REVENUE <= revenue <= MAX_REVENUE:
        raise Rejected(400, "Invalid revenue")
    # UNCONFIRMED: revenue without currency is accepted unless the app asks otherwise.
    if app.require_currency_with_revenue and not params.get("currency"):
        raise Rejected(400, "Invalid revenue")
    return revenue


def parse_environment(params: dict[str, str]) -> str:
    environment = params.get("environment") or "production"
    if environment not in ENVIRONMENTS:
        raise Rejected(400, "Invalid environment")  # UNCONFIRMED
    return environment


def parse_event_time(params: dict[str, str]) -> datetime | None:
    """The time the sender gave, if any (Adjust then uses the time of receipt)."""
    # created_at_unix is Adjust's preferred field, so it wins when both are sent.
    if params.get("created_at_unix"):
        event_at = adjust_created_at_unix(params["created_at_unix"])
    elif params.get("created_at"):
        event_at = adjust_created_at(params["created_at"])
    else:
        return None
    if event_at is None:
        raise Rejected(400, "Bad event state")  # UNCONFIRMED for an unreadable timestamp
    return event_at


def find_device(app: EmuAdjustApp, ids: dict[str, str], *, now: datetime, commit: bool) -> EmuAdjustDevice:
    # UNCONFIRMED: no identifier at all gets the same answer as an unknown one.
    device = adjust_state.resolve_device(app, ids, now=now, commit=commit) if ids else None
    if device is None:
        raise Rejected(404, "Device not found")
    if device.opted_out:
        raise Rejected(451, "Device is opted out")
    return device


def success(app: EmuAdjustApp, revenue: Decimal | None) -> Answer:
    if not app.skan_enabled:
        return OK
    # UNCONFIRMED: the keys are the iOS SDK's; the value is a stand-in derived from revenue.
    conversion_value = min(63, int(revenue or 0))
    coarse = "low" if conversion_value < 21 else "medium" if conversion_value < 42 else "high"
    return Answer(
        200,
        {
            **OK.body,
            "skadn_conv_value": conversion_value,
            "skadn_coarse_value": coarse,
            "skadn_lock_window": 0,
        },
    )


def forget_device(incoming: Incoming, *, now: datetime) -> Answer:
    """POST /gdpr_forget_device: the device is opted out for good, known or not."""
    try:
        check_size(incoming)
        params = incoming.params
        app = find_app(params)
        check_auth(app, incoming.authorization, scope="gdpr")
        ids = {kind: value for kind, value in device_ids(params).items() if well_formed(kind, value)}
        if not ids:
            # The page documents a bare 400 for an invalid format or identifier (message UNCONFIRMED).
            raise Rejected(400, "Device not found")
    except Rejected as rejection:
        return failed(rejection.status, rejection.message, prefix=FORGET_FAILED)
    adjust_state.forget_device(app, ids, now=now)
    return OK
