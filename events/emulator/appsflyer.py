"""AppsFlyer's api3 `POST /inappevent/{app_id}`, check by check in the order of mmp-apis-more.md §1.1
("Emulator checks, in order"; the order is a design choice, AppsFlyer's own is UNCONFIRMED).

AppsFlyer answers bare words (`OK`, `Failed to Authenticate`, ...), sent here as text/plain, and
plays its silent failure: an iOS app id without its `id` prefix gets 200 OK and is not counted.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from events.emulator.models import EmuAppsFlyerApp, EmuAppsFlyerToken, Provider
from events.emulator.parse import decimal_or_none
from events.emulator.record import record
from events.emulator.wire import Answer, Incoming, Rejected

MAX_BODY_BYTES = 1024
PAYLOAD_UNREADABLE = "Payload is missing or failed to parse"
OK = Answer(200, "OK")
INTERNAL_ERROR = Answer(500, "Internal Server Error")
TOO_MANY_REQUESTS = Answer(429, "Too Many Requests")  # UNCONFIRMED: no 429 is documented
EVENT_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}")
DEVICE_IDS = ("idfa", "idfv", "advertising_id", "oaid", "amazon_aid", "imei")
# Kept apart from the recorded params: the event's own columns, and nothing secret.
OWN_COLUMNS = {"appsflyer_id", "eventName", "eventValue", "eventTime", "eventCurrency", *DEVICE_IDS}


def check_event(incoming: Incoming, *, now: datetime, commit: bool = True, fault: str = "") -> Answer:
    """The answer to an in-app event; with `commit`, an accepted one is recorded."""
    try:
        app, body, dropped = _admit(incoming)
    except Rejected as rejection:
        return Answer(rejection.status, rejection.message)
    if commit:
        _record(incoming, app, body, now, fault, dropped=dropped)
    return OK


def requested_app_id(incoming: Incoming) -> str:
    return unquote(incoming.path.rsplit("/inappevent/", 1)[-1])


def _admit(incoming: Incoming) -> tuple[EmuAppsFlyerApp, dict, bool]:
    # 2. UNCONFIRMED: the reply over 1 KB; one third-party spec asserts this one.
    if incoming.content_length > MAX_BODY_BYTES:
        raise Rejected(400, PAYLOAD_UNREADABLE)
    # 3. JSON, one object (an array would be more than one event).
    if not incoming.content_type.startswith("application/json"):
        raise Rejected(400, PAYLOAD_UNREADABLE)
    try:
        body = json.loads(incoming.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, PAYLOAD_UNREADABLE) from None
    if not isinstance(body, dict):
        raise Rejected(400, PAYLOAD_UNREADABLE)
    # 4-5. The token: unknown, or another app's.
    token = EmuAppsFlyerToken.objects.select_related("app").filter(value=incoming.authentication).first()
    if not incoming.authentication or token is None:
        raise Rejected(400, "Failed to Authenticate")
    app, requested = token.app, requested_app_id(incoming)
    # 11 (checked here, answered last): the bare App Store id of an iOS app stored with `id`.
    dropped = app.platform == "ios" and requested == app.app_id.removeprefix("id") and requested.isdigit()
    if requested != app.app_id and not dropped:
        raise Rejected(401, "Unauthorized")
    # 6. The plan.
    if app.zero_plan:
        raise Rejected(403, "Forbidden")
    # 7-10. The event.
    if not isinstance(body.get("appsflyer_id"), str) or not re.fullmatch(r"\d{13}-\d+", body["appsflyer_id"]):
        raise Rejected(400, "appsflyer_id is a mandatory field")
    if not isinstance(body.get("eventName"), str) or not body["eventName"]:
        raise Rejected(400, "Bad request")  # UNCONFIRMED reply
    if "eventValue" not in body:
        raise Rejected(400, "Bad request")  # UNCONFIRMED reply
    if isinstance(body["eventValue"], dict | list):
        raise Rejected(500, "Internal Server Error")  # documented: a non-stringified eventValue
    return app, body, dropped


def stamped_at(event_time: str, arrival: datetime) -> tuple[datetime, str]:
    """When AppsFlyer counts the event, and why: its own time if in by 02:00 UTC the next day."""
    if not isinstance(event_time, str) or not EVENT_TIME.fullmatch(event_time):
        # UNCONFIRMED: what AppsFlyer does with another layout (RudderStack's ISO time); the
        # emulator counts it at arrival, so the mistake shows.
        return arrival, "arrival" if not event_time else "arrival: eventTime not in yyyy-mm-dd hh:mm:ss.sss"
    moment = datetime.strptime(event_time, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    deadline = moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1, hours=2)
    if arrival > deadline:
        return arrival, "arrival: late (after 02:00 UTC the next day)"
    return moment, "eventTime"


def _record(
    incoming: Incoming, app: EmuAppsFlyerApp, body: dict, now: datetime, fault: str, *, dropped: bool
) -> None:
    event_at, stamp = stamped_at(body.get("eventTime", ""), now)
    try:
        value = json.loads(body["eventValue"]) if body["eventValue"] else {}
    except (TypeError, ValueError):
        value = {"unreadable": str(body["eventValue"])[:200]}
    revenue = value.get("af_revenue") if isinstance(value, dict) else None
    ids = {name: str(body[name]) for name in ("appsflyer_id", *DEVICE_IDS) if body.get(name)}
    params = {k: str(v) for k, v in body.items() if k not in OWN_COLUMNS}
    record(
        incoming,
        fault=fault,
        event_at=event_at,
        provider=Provider.APPSFLYER,
        app_key=app.app_id,
        platform=app.platform,
        event_token=body["eventName"],
        kind="event",
        device_ids=ids,
        environment="production",
        revenue=decimal_or_none(str(revenue)) if revenue is not None else None,
        currency=str(body.get("eventCurrency", ""))[:8],
        params={**params, "event_value": value, "stamped_at": stamp},
        dropped_silently=dropped,
    )
