"""What the Tenjin provider tests share: the provider, events per platform, and an iOS app."""

import pytest

from events.models import App, EventToken, Platform, Provider
from events.providers import EventInvalid, get_provider
from tests.conftest import TENJIN_ADVERTISING_ID, TENJIN_IDFV, TENJIN_INSTALLATION_ID

tenjin = get_provider(Provider.TENJIN)
ZEROS = "00000000-0000-0000-0000-000000000000"


def validate(app: App, fields: dict, *, event_name: str = "level_up"):
    return tenjin.validate(app, app.event_tokens.get(token=event_name), fields)


def errors_of(app: App, fields: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate(app, fields, **kwargs)
    return caught.value.errors


def android_event(**fields) -> dict:
    ids = {"advertising_id": TENJIN_ADVERTISING_ID, "analytics_installation_id": TENJIN_INSTALLATION_ID}
    return {"device_ids": ids, "os_version": "33", **fields}


def ios_event(**fields) -> dict:
    ids = {
        "advertising_id": ZEROS,
        "developer_device_id": TENJIN_IDFV,
        "analytics_installation_id": TENJIN_INSTALLATION_ID,
    }
    return {"device_ids": ids, "os_version": "17.5", **fields}


def purchase(**fields) -> dict:
    return android_event(
        **{"product_id": "gems_100", "currency": "USD", "quantity": "2", "price": "4.99", **fields}
    )


def create_ios_app() -> App:
    """An iOS Tenjin app; the tests that need one wrap it in their own ios_app fixture."""
    app = App.objects.create(
        name="Demo Tenjin iOS",
        provider=Provider.TENJIN,
        platform=Platform.IOS,
        app_key="ABCDEFGHIJKLMNOPQRSTUVWXYZ123456",
        bundle_id="com.tenjin.wordfinder",
        default_environment="production",
    )
    EventToken.objects.create(app=app, name="Level up", token="level_up")
    return app
