"""The shared cast: apps and tokens for each provider, a clean Redis, and the emulator over HTTP."""

import django_rq
import pytest

from events.models import App, EventKind, EventToken, Platform, Provider, SecurityToken

ADJUST_APP_TOKEN = "4w565xzmb54d"
ADJUST_SECURITY_TOKEN = "v8s5opi0zs45607l8h8c48wak2vxb5oe"
TENJIN_SDK_KEY = "ENECCCVB8UQVLPSQ58S8EZXTJHA7FHDW"
IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
GPS_ADID = "660e1d86-6796-463a-be86-897993136018"
TENJIN_ADVERTISING_ID = "f024e65f-3dd9-4f16-9837-26bcef192d68"
TENJIN_INSTALLATION_ID = "29eeb1610fe74997b6d53f02e9711f8c"
TENJIN_IDFV = "8A3CB124-5A79-4334-8802-F75FEC099C58"


@pytest.fixture
def adjust_app(db) -> App:
    app = App.objects.create(
        name="Demo Adjust iOS",
        provider=Provider.ADJUST,
        platform=Platform.IOS,
        app_key=ADJUST_APP_TOKEN,
        bundle_id="com.example.demo",
    )
    EventToken.objects.create(app=app, name="Purchase", token="f0ob4r")
    EventToken.objects.create(app=app, name="Signup", token="2y7e81")
    return app


@pytest.fixture
def adjust_security_token(adjust_app) -> SecurityToken:
    return SecurityToken.objects.create(app=adjust_app, label="primary", value=ADJUST_SECURITY_TOKEN)


@pytest.fixture
def tenjin_app(db) -> App:
    app = App.objects.create(
        name="Demo Tenjin Android",
        provider=Provider.TENJIN,
        platform=Platform.ANDROID,
        app_key=TENJIN_SDK_KEY,
        bundle_id="com.tenjin.wordfinder",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Level up", token="level_up")
    EventToken.objects.create(app=app, name="Purchase", token="purchase", kind=EventKind.PURCHASE)
    return app


@pytest.fixture
def redis_conn():
    """The send queue's Redis, emptied before and after the test."""
    connection = django_rq.get_connection("sends")
    connection.flushdb()
    yield connection
    connection.flushdb()
