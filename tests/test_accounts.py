"""Accounts a team can live with: change one's own password, an admin sets someone's password or
signs them out everywhere, and Django's admin tells a non-admin it is not for their role instead of
sending them round between two login pages."""

import pytest
from django.test import Client
from django.urls import reverse

from events.models import AuditEntry
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-longer-and-new-passphrase-42"


def signed_in(user, password=PASSWORD) -> Client:
    """A browser of its own, signed in through the login page (a session like any other)."""
    client = Client()
    assert can_sign_in(user.username, password, client)
    return client


def can_sign_in(username: str, password: str, client: Client | None = None) -> bool:
    client = client or Client()
    return client.post(reverse("login"), {"username": username, "password": password}).status_code == 302


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("overview")).status_code == 200


def test_a_user_changes_their_password_and_their_other_sessions_end(marketer):
    here, elsewhere = signed_in(marketer), signed_in(marketer)
    page = here.get(reverse("password_change")).content.decode()
    assert "Change your password" in page and 'name="old_password"' in page
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password is changed." in response.content.decode()
    assert is_signed_in(here) and not is_signed_in(elsewhere)
    assert can_sign_in(marketer.username, NEW_PASSWORD)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_name, entry.object_repr) == (
        "user.password_changed",
        marketer.username,
        marketer.username,
    )


def test_a_wrong_current_password_changes_nothing(marketer):
    here = signed_in(marketer)
    response = here.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert (
        response.status_code == 200
        and "Your old password was entered incorrectly" in response.content.decode()
    )
    assert can_sign_in(marketer.username, PASSWORD)


def test_an_admin_sets_a_new_password_and_the_users_sessions_end(admin, marketer):
    theirs = signed_in(marketer)
    url = reverse("user_password", args=[marketer.pk])
    response = signed_in(admin).post(
        url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert f"Set a new password for {marketer.username}" in response.content.decode()
    assert not is_signed_in(theirs)
    assert can_sign_in(marketer.username, NEW_PASSWORD)
    assert AuditEntry.objects.get().action == "user.password_set"
    assert NEW_PASSWORD not in str(AuditEntry.objects.values_list("changes", "object_repr"))


def test_an_admin_sets_their_own_password_with_the_current_one(admin):
    response = signed_in(admin).get(reverse("user_password", args=[admin.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")


def test_only_a_superuser_sets_a_superusers_password(admin, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    url = reverse("user_password", args=[root.pk])
    signed_in(admin).post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert can_sign_in("root", PASSWORD) and not AuditEntry.objects.exists()


def test_an_admin_signs_a_user_out_everywhere_once_confirmed(admin, marketer, viewer):
    laptop, phone, someone_else = signed_in(marketer), signed_in(marketer), signed_in(viewer)
    client = signed_in(admin)
    page = client.get(reverse("users")).content.decode()
    assert "Every browser signed in as this user is signed out at once" in page
    url = reverse("user_sign_out", args=[marketer.pk])
    client.post(url)
    assert is_signed_in(laptop) and is_signed_in(phone)
    response = client.post(url, {"confirmed": "yes"}, follow=True)
    assert f"Signed {marketer.username} out of 2 sessions." in response.content.decode()
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert is_signed_in(someone_else) and is_signed_in(client)
    assert AuditEntry.objects.get().changes == {"sessions": 2}


@pytest.mark.parametrize("view", ["user_password", "user_sign_out"])
@pytest.mark.parametrize("role", ["viewer", "marketer"])
def test_only_admins_set_passwords_or_sign_others_out(request, view, role):
    victim = make_user("victim", "viewer")
    client = signed_in(request.getfixturevalue(role))
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "confirmed": "yes"}
    assert client.post(reverse(view, args=[victim.pk]), data).status_code == 403
    assert can_sign_in("victim", PASSWORD)


@pytest.mark.parametrize("role", ["viewer", "marketer"])
@pytest.mark.parametrize("path", ["/admin/", "/admin/password_change/", "/admin/events/app/"])
def test_the_django_admin_tells_a_non_admin_it_is_not_for_their_role(request, role, path):
    client = signed_in(request.getfixturevalue(role))
    response = client.get(path, follow=True)
    assert response.status_code == 403 and len(response.redirect_chain) == 1
    assert "Django&#x27;s admin is for admins only" in response.content.decode()


def test_the_django_admin_sends_an_anonymous_visitor_to_the_one_login_page(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('login')}?next=%2Fadmin%2F"
    assert response.status_code == 200 and 'name="password"' in response.content.decode()
