"""What the Adjust emulator tests share: requests to its /event endpoint and what it recorded."""

from datetime import datetime
from urllib.parse import urlencode

from events.emulator import registry
from tests.emulator_fixtures import ADJUST_APP, ADJUST_URL, SECURITY_TOKEN, adjust_params

FORM = "application/x-www-form-urlencoded"


def get(client, auth: str | None = None, **changes):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.get(ADJUST_URL, adjust_params(**changes), **headers)


def post_form(client, params, url=ADJUST_URL, **headers):
    return client.post(url, urlencode(params), content_type=FORM, **headers)


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def events():
    return registry.recorded_events("adjust")


def enable_auth(mode="401", **token):
    registry.register_adjust_app(ADJUST_APP, auth_enabled=True, auth_failure_mode=mode, lenient_devices=False)
    registry.add_adjust_security_token(ADJUST_APP, SECURITY_TOKEN, **token)
