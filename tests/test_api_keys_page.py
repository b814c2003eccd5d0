"""The API keys page, for admins: create (the key shown once), list (never the key), revoke."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from events.models import ApiKey, AuditEntry
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db

KEY = re.compile(r"s2s_[0-9a-f]{8}_[A-Za-z0-9_-]+")


@pytest.fixture
def as_admin(client_for, admin):
    return client_for(admin)


def create(client, apps, name="orders backend", rate=120):
    return client.post(
        reverse("api_key_create"),
        {"name": name, "apps": [app.pk for app in apps], "rate_limit_per_minute": rate},
    )


def post_event(raw_key):
    """From a backend: its own client, no session."""
    body = {"app": "Demo Adjust iOS", "event": "f0ob4r", "device_ids": {"idfa": IDFA}}
    return Client().post(
        "/api/v1/events",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    )


def test_creating_a_key_shows_it_once_and_it_works(as_admin, adjust_app, tenjin_app, redis_conn):
    response = create(as_admin, [adjust_app, tenjin_app])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    (raw,) = set(KEY.findall(page))
    assert "This is the only time it is shown" in page
    assert "curl -X POST &#x27;http://testserver/api/v1/events&#x27;" in page
    assert "$S2S_API_KEY" in page and "f0ob4r" in page

    key = ApiKey.objects.get()
    assert (key.name, key.rate_limit_per_minute, key.created_by.username) == (
        "orders backend",
        120,
        "alice-admin",
    )
    assert set(key.apps.all()) == {adjust_app, tenjin_app}
    assert raw.startswith(key.prefix) and raw not in key.key_hash

    assert post_event(raw).status_code == 202

    listing = as_admin.get(reverse("api_keys")).content.decode()
    assert key.prefix in listing and raw not in listing
    assert "orders backend" in listing and "Demo Tenjin Android" in listing


def test_the_audit_trail_records_creation_and_revocation_without_the_key(as_admin, adjust_app):
    raw = KEY.search(create(as_admin, [adjust_app]).content.decode()).group()
    key = ApiKey.objects.get()
    as_admin.post(reverse("api_key_revoke", args=[key.pk]), {"confirmed": "yes"})
    entries = list(AuditEntry.objects.order_by("id"))
    assert [(e.action, e.object_type, e.object_id, e.actor_name) for e in entries] == [
        ("api_key.created", "api_key", str(key.pk), "alice-admin"),
        ("api_key.revoked", "api_key", str(key.pk), "alice-admin"),
    ]
    assert entries[0].changes["apps"] == "Demo Adjust iOS"
    assert all(raw not in json.dumps(e.changes) + e.object_repr for e in entries)


def test_a_revoked_key_gets_401(as_admin, adjust_app, redis_conn):
    raw = KEY.search(create(as_admin, [adjust_app]).content.decode()).group()
    key = ApiKey.objects.get()
    response = as_admin.post(reverse("api_key_revoke", args=[key.pk]), {"confirmed": "yes"}, follow=True)
    assert "requests with it now get 401" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked" in as_admin.get(reverse("api_keys")).content.decode()
    assert post_event(raw).status_code == 401


def test_revoking_twice_changes_nothing(as_admin, adjust_app):
    create(as_admin, [adjust_app])
    key = ApiKey.objects.get()
    as_admin.post(reverse("api_key_revoke", args=[key.pk]), {"confirmed": "yes"})
    first = ApiKey.objects.get().revoked_at
    response = as_admin.post(reverse("api_key_revoke", args=[key.pk]), {"confirmed": "yes"}, follow=True)
    assert "already revoked" in response.content.decode()
    assert ApiKey.objects.get().revoked_at == first
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


def test_revoking_asks_for_confirmation_and_takes_post_only(as_admin, adjust_app):
    create(as_admin, [adjust_app])
    key = ApiKey.objects.get()
    listing = as_admin.get(reverse("api_keys")).content.decode()
    assert '<details class="confirm">' in listing and "cannot be undone" in listing
    assert as_admin.get(reverse("api_key_revoke", args=[key.pk])).status_code == 405
    assert ApiKey.objects.get().active


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "x", "rate_limit_per_minute": 60}, "apps", "This field is required."),
        ({"name": "", "apps": "APP", "rate_limit_per_minute": 60}, "name", "This field is required."),
        (
            {"name": "x", "apps": "APP", "rate_limit_per_minute": 0},
            "rate_limit_per_minute",
            "greater than or equal to 1",
        ),
    ],
)
def test_a_bad_form_creates_no_key(as_admin, adjust_app, data, field, message):
    data = {**data, "apps": [adjust_app.pk]} if data.get("apps") == "APP" else data
    response = as_admin.post(reverse("api_key_create"), data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not ApiKey.objects.exists()


def test_a_name_with_markup_is_escaped(as_admin, adjust_app):
    create(as_admin, [adjust_app], name="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in as_admin.get(reverse("api_keys")).content.decode()


@pytest.mark.parametrize("role", ["marketer", "viewer", "outsider"])
def test_only_admins_reach_the_api_keys_pages(request, client_for, admin, adjust_app, role):
    from events.api.keys import create_api_key

    key, _ = create_api_key("k", [adjust_app], user=admin)
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("api_keys")).status_code == 403
    assert client.get(reverse("api_key_create")).status_code == 403
    assert create(client, [adjust_app]).status_code == 403
    assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 403
    assert ApiKey.objects.get().active and ApiKey.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    for url in (reverse("api_keys"), reverse("api_key_create"), reverse("api_key_revoke", args=[1])):
        response = client.post(url) if url.endswith("revoke/") else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_nav_links_api_keys_for_admins_only(client_for, admin, marketer):
    assert reverse("api_keys") in client_for(admin).get(reverse("overview")).content.decode()
    assert reverse("api_keys") not in client_for(marketer).get(reverse("overview")).content.decode()
