"""The API's cast: a key for both demo apps, a client that posts with it, and one valid event per MMP."""

import json

import pytest

from events.api.keys import create_api_key
from tests.conftest import IDFA, TENJIN_ADVERTISING_ID, TENJIN_INSTALLATION_ID

__all__ = ["adjust_event", "api", "raw_key", "tenjin_event"]


@pytest.fixture
def raw_key(adjust_app, tenjin_app):
    _, raw = create_api_key("backend", [adjust_app, tenjin_app])
    return raw


@pytest.fixture
def api(client, raw_key, redis_conn, django_capture_on_commit_callbacks):
    """api(method, path, body=None, **headers) -> response, with the key and commit callbacks run."""

    def call(method, path, body=None, key=raw_key, **headers):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body) if body is not None else None
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(
                f"/api/v1{path}", data=data, content_type="application/json", **auth, **headers
            )

    return call


def adjust_event(**extra):
    return {"app": "Demo Adjust iOS", "event": "f0ob4r", "device_ids": {"idfa": IDFA}, **extra}


def tenjin_event(**extra):
    return {
        "app": "Demo Tenjin Android", "event": "level_up",
        "device_ids": {"advertising_id": TENJIN_ADVERTISING_ID, "analytics_installation_id": TENJIN_INSTALLATION_ID},
        "fields": {"os_version": "33"}, **extra,
    }  # fmt: skip
