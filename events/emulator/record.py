"""Recording an accepted event, with the raw request and its credentials masked."""

import re
from datetime import datetime
from typing import Any

from events.emulator.models import EmuRecordedEvent, mask
from events.emulator.parse import basic_auth_user, no_nul
from events.emulator.wire import Incoming

MAX_STORED_BODY = 64 * 1024
# Tenjin's api_key, Singular's SDK key `a`.
SECRET_PARAMS = ("api_key", "a")
SECRET_PARAM = re.compile(r"(^|&)(" + "|".join(SECRET_PARAMS) + r")=([^&]*)")


def _mask_params(raw: str) -> str:
    return SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}={mask(m.group(3))}", raw)


def masked_auth(header: str) -> str:
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "basic":
        # The end of the base64 tells nobody which key it was; the end of the key does.
        credential = basic_auth_user(header)
    return f"{scheme} {mask(credential)}" if credential else scheme


def _authentication(incoming: Incoming) -> str:
    return f"authentication {incoming.authentication}" if incoming.authentication else ""


def raw_request(incoming: Incoming) -> dict[str, str]:
    body = incoming.body[:MAX_STORED_BODY].decode("utf-8", errors="replace")
    fields = {
        "request_method": incoming.method,
        "request_path": incoming.path[:255],
        "request_query": _mask_params(incoming.query_string),
        "request_body": _mask_params(body),
        "request_auth": masked_auth(incoming.authorization or _authentication(incoming))[:40],
    }
    return {name: no_nul(value) for name, value in fields.items()}


def public_params(params: dict[str, str], leave_out: set[str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in leave_out and k not in SECRET_PARAMS}


def record(incoming: Incoming, *, fault: str, event_at: datetime, **fields: Any) -> EmuRecordedEvent:
    return EmuRecordedEvent.objects.create(event_at=event_at, fault=fault, **fields, **raw_request(incoming))
