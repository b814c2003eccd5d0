"""Users, for admins: roles, initial passwords checked by Django's validators, deactivation."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from events.models import AuditEntry
from events.roles import role_of

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "plum-orbit-canyon-74"


def change_urls(user):
    return [reverse("user_deactivate", args=[user.pk]), reverse("user_reactivate", args=[user.pk])]


def page_urls(user):
    return [reverse("users"), reverse("user_create"), reverse("user_edit", args=[user.pk])]


def new_user(**overrides):
    data = {"username": "nina", "email": "nina@example.com", "role": "marketer"}
    return {**data, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **overrides}


@pytest.mark.parametrize("role", ["viewer", "marketer", "outsider"])
def test_only_admins_manage_users(request, client_for, admin, role):
    client = client_for(request.getfixturevalue(role))
    for url in page_urls(admin):
        assert client.get(url).status_code == 403, url
    for url in [*change_urls(admin), reverse("user_create"), reverse("user_edit", args=[admin.pk])]:
        assert client.post(url, new_user(role="admin")).status_code == 403, url
    assert not User.objects.filter(username="nina").exists()
    admin.refresh_from_db()
    assert admin.is_active


def test_an_anonymous_visitor_is_sent_to_log_in(client, admin):
    for url in page_urls(admin):
        assert client.get(url)["Location"].startswith(reverse("login")), url
    for url in change_urls(admin):
        assert client.post(url)["Location"].startswith(reverse("login")), url


def test_deactivating_and_reactivating_refuse_get(client_for, admin, viewer):
    for url in change_urls(viewer):
        assert client_for(admin).get(url).status_code == 405


def test_an_unknown_user_is_a_404(client_for, admin):
    assert client_for(admin).get(reverse("user_edit", args=[999])).status_code == 404
    assert client_for(admin).post(reverse("user_deactivate", args=[999])).status_code == 404


def test_the_list_shows_every_user_with_their_role(client_for, admin, marketer, viewer, outsider):
    response = client_for(admin).get(reverse("users"))
    assert dict((u.username, r) for u, r in response.context["users"]) == {
        "alice-admin": "admin",
        "mark-marketer": "marketer",
        "vera-viewer": "viewer",
        "olly-outsider": None,
    }
    body = response.content.decode()
    assert "no role" in body and "(you)" in body


def test_an_admin_creates_a_user_with_a_role_and_an_initial_password(client_for, admin):
    response = client_for(admin).post(reverse("user_create"), new_user(), follow=True)
    body = response.content.decode()
    assert "Created nina as marketer." in body and NEW_PASSWORD not in body
    nina = User.objects.get(username="nina")
    assert role_of(nina) == "marketer" and nina.check_password(NEW_PASSWORD) and not nina.is_staff
    entry = AuditEntry.objects.get(action="user.created")
    assert entry.actor == admin and entry.object_id == str(nina.pk)
    assert entry.changes == {"username": "nina", "email": "nina@example.com", "role": "marketer"}
    assert NEW_PASSWORD not in str(entry.changes)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("nina@example.com1", "The password is too similar to the email address."),
        ("82736451029", "This password is entirely numeric."),
        ("sh0rt", "This password is too short."),
    ],
)
def test_the_initial_password_must_pass_djangos_validators(client_for, admin, password, message):
    response = client_for(admin).post(
        reverse("user_create"), new_user(password1=password, password2=password)
    )
    body = response.content.decode()
    assert response.status_code == 200 and message in body
    assert f'value="{password}"' not in body
    assert not User.objects.filter(username="nina").exists() and not AuditEntry.objects.exists()


def test_mismatched_passwords_and_taken_names_are_refused(client_for, admin):
    response = client_for(admin).post(reverse("user_create"), new_user(password2=NEW_PASSWORD + "x"))
    assert "didn’t match" in response.content.decode()
    response = client_for(admin).post(reverse("user_create"), new_user(username="ALICE-ADMIN"))
    assert "already exists" in response.content.decode()
    assert NEW_PASSWORD not in response.content.decode()


def test_an_admin_changes_a_role(client_for, admin, viewer):
    url = reverse("user_edit", args=[viewer.pk])
    assert client_for(admin).get(url).status_code == 200
    response = client_for(admin).post(url, {"role": "admin"}, follow=True)
    assert "vera-viewer is now admin." in response.content.decode()
    viewer.refresh_from_db()
    assert role_of(viewer) == "admin" and viewer.is_staff
    assert AuditEntry.objects.get(action="user.role_changed").changes == {"role": ["viewer", "admin"]}


def test_an_unknown_role_is_refused(client_for, admin, viewer):
    response = client_for(admin).post(reverse("user_edit", args=[viewer.pk]), {"role": "superuser"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert role_of(viewer) == "viewer"


def test_an_admin_cannot_change_their_own_role(client_for, admin):
    response = client_for(admin).post(reverse("user_edit", args=[admin.pk]), {"role": "viewer"}, follow=True)
    assert "You cannot change the role of yourself" in response.content.decode()
    assert role_of(admin) == "admin" and not AuditEntry.objects.exists()


def test_deactivating_keeps_the_user_and_reactivating_restores_them(client_for, admin, marketer):
    client = client_for(admin)
    response = client.post(reverse("user_deactivate", args=[marketer.pk]), {"confirmed": "yes"}, follow=True)
    assert "can no longer log in" in response.content.decode()
    marketer.refresh_from_db()
    assert not marketer.is_active and role_of(marketer) == "marketer"
    client.post(reverse("user_reactivate", args=[marketer.pk]))
    marketer.refresh_from_db()
    assert marketer.is_active
    assert list(AuditEntry.objects.order_by("id").values_list("action", "changes")) == [
        ("user.deactivated", {"is_active": [True, False]}),
        ("user.reactivated", {"is_active": [False, True]}),
    ]


def test_an_admin_cannot_deactivate_themself(client_for, admin):
    response = client_for(admin).post(reverse("user_deactivate", args=[admin.pk]), follow=True)
    assert "You cannot deactivate yourself" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and not AuditEntry.objects.exists()


def test_a_deactivated_user_cannot_log_in(client, admin, marketer):
    from tests.conftest import PASSWORD

    client.force_login(admin)
    client.post(reverse("user_deactivate", args=[marketer.pk]), {"confirmed": "yes"})
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": marketer.username, "password": PASSWORD})
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
