"""What the Adjust provider tests share: the provider, a fixed clock, and apps per platform."""

from datetime import UTC, datetime

import pytest

from events.models import App, Provider
from events.providers import EventInvalid, get_provider
from tests.conftest import IDFA

adjust = get_provider(Provider.ADJUST)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GAID = "660e1d86-6796-463a-be86-897993136018"
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
SHA1 = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"


def validate(app: App, fields: dict, *, now: datetime = NOW):
    return adjust.validate(app, app.event_tokens.get(token="f0ob4r"), fields, now=now)


def errors_of(app: App, fields: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(EventInvalid) as caught:
        validate(app, fields, **kwargs)
    return caught.value.errors


def event(**fields) -> dict:
    return {"device_ids": {"idfa": IDFA}, **fields}
