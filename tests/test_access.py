"""Login is required everywhere but the health check and the emulator; roles are checked on the
server. Each dashboard feature's own test file proves its views' roles; this file covers the frame."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_health_check_is_public(client):
    assert client.get(reverse("health")).json() == {"status": "ok"}


def test_the_emulator_is_public_when_enabled(client, settings):
    settings.EMULATOR_ENABLED = True
    response = client.post("/emulator/adjust/event", {"s2s": "1"})
    assert response.status_code == 400  # the emulated Adjust answered, no login page


@pytest.mark.parametrize("role", ["admin", "marketer", "viewer"])
def test_every_role_sees_the_overview(request, client_for, role):
    user = request.getfixturevalue(role)
    assert client_for(user).get(reverse("overview")).status_code == 200


def test_a_user_without_a_role_is_refused(client_for, outsider):
    assert client_for(outsider).get(reverse("overview")).status_code == 403


def test_logging_in_and_out(client, viewer):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": viewer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("overview")
    assert client.get(reverse("logout")).status_code == 405  # logging out changes state: POST only
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("overview")).status_code == 302


def test_roles_are_groups_with_exactly_their_permissions(viewer, marketer, admin):
    assert viewer.has_perm("events.view_delivery")
    assert not viewer.has_perm("events.send_event")
    assert marketer.has_perm("events.send_event")
    assert not marketer.has_perm("events.view_securitytoken")
    assert admin.has_perm("events.change_securitytoken") and admin.is_staff
