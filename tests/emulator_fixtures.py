"""The emulator's cast for its own tests: one Adjust app and two Tenjin apps, and request helpers.

Values follow the documented examples (mmp-apis.md); the sender's fixtures in conftest.py are
separate, as the two sides only meet over HTTP.
"""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from events.emulator import registry

ADJUST_APP = "4w565xzmb54d"
OTHER_ADJUST_APP = "abc123abc123"
EVENT = "f0ob4r"
UNIQUE_EVENT = "2y7e81"
SECURITY_TOKEN = "v8s5opi0zs45607l8h8c48wak2vxb5oe"
IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
IDFV = "CCB300A0-DE1B-4D48-BC7E-599E453B8DD4"
GPS_ADID = "38400000-8cf0-11bd-b23e-10b96e40000d"
ADJUST_URL = "/emulator/adjust/event"
FORGET_URL = "/emulator/adjust/gdpr_forget_device"

BUNDLE = "com.tenjin.wordfinder"
IOS_KEY = "ENECCCVB8UQVLPSQ58S8EZXTJHA7FHDW"
ANDROID_KEY = "QWERTYUIOPASDFGHJKLZXCVBNM123456"
ADVERTISING_ID = "f024e65f-3dd9-4f16-9837-26bcef192d68"
INSTALLATION_ID = "29eeb1610fe74997b6d53f02e9711f8c"
TENJIN_IDFV = "8A3CB124-5A79-4334-8802-F75FEC099C58"
TENJIN_EVENT_URL = "/emulator/tenjin/v0/event"
TENJIN_PURCHASE_URL = "/emulator/tenjin/v0/purchase"


@pytest.fixture
def emu_adjust(db):
    """An Adjust app that knows one iOS device, installed 90 days ago, by IDFA and IDFV."""
    app = registry.register_adjust_app(ADJUST_APP, event_tokens=[EVENT], lenient_devices=False)
    registry.add_adjust_event_token(ADJUST_APP, UNIQUE_EVENT, unique=True)
    registry.register_adjust_app(OTHER_ADJUST_APP, event_tokens=["xyzklm"])
    registry.add_adjust_device(
        ADJUST_APP, {"idfa": IDFA, "idfv": IDFV}, installed_at=timezone.now() - timedelta(days=90)
    )
    return app


@pytest.fixture
def emu_tenjin(db):
    """com.tenjin.wordfinder on iOS and on Android, each with its own SDK key."""
    ios = registry.register_tenjin_app(BUNDLE, "ios", sdk_keys=[IOS_KEY])
    android = registry.register_tenjin_app(BUNDLE, "android", sdk_keys=[ANDROID_KEY])
    return ios, android


def adjust_params(**changes) -> dict[str, str]:
    """A valid /event request for the emu_adjust app; a None value leaves the parameter out."""
    params = {"s2s": "1", "app_token": ADJUST_APP, "event_token": EVENT, "idfa": IDFA}
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def tenjin_params(platform: str = "android", **changes) -> dict[str, str]:
    """A valid /v0/event request (an app open) for the emu_tenjin app on `platform`."""
    params = {
        "bundle_id": BUNDLE,
        "platform": platform,
        "analytics_installation_id": INSTALLATION_ID,
        "advertising_id": ADVERTISING_ID,
        "os_version": "33",
        "sdk_version": "server",
        "app_version": "1.0.3",
    }
    if platform == "ios":
        params["developer_device_id"] = TENJIN_IDFV
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def purchase_params(**changes) -> dict[str, str]:
    return tenjin_params(
        **{
            "product_id": "com.tenjin.coins100",
            "currency": "USD",
            "quantity": "2",
            "price": "0.99",
            **changes,
        }
    )


def basic(key: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()


def error_of(response) -> str:
    return response.json()["error"]
