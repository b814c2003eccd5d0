"""Sign-in lockout (django-axes): five failures in fifteen minutes lock one username, right password
or not, with HTTP 429 and when to try again; an address is locked only at a much higher count, so
one person's typos behind a company proxy never lock out the team; X-Forwarded-For is believed
only from our own proxies; an admin unlocks a user."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from events.models import AuditEntry
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

OFFICE_PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # These tests check passwords dozens of times (users are created after this).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client, username: str, password: str, address: str = "203.0.113.7", **headers):
    data = {"username": username, "password": password}
    return client.post(reverse("login"), data, REMOTE_ADDR=address, **headers)


def fail(client, username: str, times: int, **where) -> list[int]:
    """Sign in with a wrong password `times` times; the statuses it got."""
    return [sign_in(client, username, "wrong", **where).status_code for _ in range(times)]


def test_four_failures_still_leave_the_right_password_working(client, viewer):
    assert fail(client, viewer.username, 4) == [200] * 4
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302


def test_the_fifth_failure_for_a_username_locks_it_with_a_429_and_a_clear_message(client, viewer):
    fail(client, viewer.username, 4)
    response = sign_in(client, viewer.username, "wrong")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert 890 <= int(response["Retry-After"]) <= 900


def test_a_locked_username_is_refused_even_with_the_right_password_from_elsewhere(client, viewer):
    fail(client, viewer.username, 5)
    response = sign_in(Client(), viewer.username, PASSWORD, address="198.51.100.9")
    assert response.status_code == 429 and not response.wsgi_request.user.is_authenticated


def test_one_persons_typos_behind_the_office_proxy_do_not_lock_out_the_team(client, viewer, marketer):
    fail(client, viewer.username, 5, address=OFFICE_PROXY)
    assert sign_in(Client(), marketer.username, PASSWORD, address=OFFICE_PROXY).status_code == 302


def test_one_address_guessing_at_many_usernames_is_locked_at_the_higher_ceiling(client, marketer, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(6):
        fail(client, f"guess{n}", 2)  # 12 failures, none of them five for one username
    assert sign_in(Client(), marketer.username, PASSWORD).status_code == 429
    assert sign_in(Client(), marketer.username, PASSWORD, address="198.51.100.9").status_code == 302


def test_the_count_is_the_same_for_a_username_in_another_case(client, viewer):
    fail(client, viewer.username.upper(), 3)
    fail(client, f" {viewer.username} ", 1)
    assert sign_in(client, viewer.username, "wrong").status_code == 429


def test_failures_older_than_the_window_no_longer_count(client, viewer):
    fail(client, viewer.username, 4)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=16)
        attempt.save()
    fail(client, viewer.username, 1)
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_username_count(client, viewer):
    fail(client, viewer.username, 4)
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    fail(client, viewer.username, 4)
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302


@pytest.mark.parametrize("trusted", [True, False])
def test_the_client_address_comes_from_x_forwarded_for_only_behind_our_proxy(client, settings, trusted):
    settings.TRUSTED_PROXIES = [OFFICE_PROXY] if trusted else []
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 5
    forwarded = {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.10"}  # the client wrote the first itself
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong", address=OFFICE_PROXY, **forwarded)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "192.0.2.10" if trusted else OFFICE_PROXY
    }
    elsewhere = {"HTTP_X_FORWARDED_FOR": "192.0.2.11"}
    user = make_user("colleague", "viewer")
    answer = sign_in(Client(), user.username, PASSWORD, address=OFFICE_PROXY, **elsewhere).status_code
    # Behind the trusted proxy, the colleague is another address; otherwise all share the proxy's.
    assert answer == (302 if trusted else 429)


def test_an_admin_sees_a_locked_user_and_unlocks_them(client, client_for, admin, viewer):
    fail(client, viewer.username, 5)
    page = client_for(admin).get(reverse("users")).content.decode()
    assert ">locked</span>" in page and reverse("user_unlock", args=[viewer.pk]) in page
    response = client_for(admin).post(reverse("user_unlock", args=[viewer.pk]), follow=True)
    assert f"Unlocked {viewer.username}" in response.content.decode()
    assert AuditEntry.objects.get().action == "user.unlocked"
    assert sign_in(Client(), viewer.username, PASSWORD).status_code == 302


def test_an_admin_sees_a_locked_address_and_unlocks_it_after_confirming(
    client, client_for, admin, marketer, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(6):
        fail(client, f"guess{n}", 2, address=OFFICE_PROXY)  # 12 failures: the address is locked
    assert sign_in(Client(), marketer.username, PASSWORD, address=OFFICE_PROXY).status_code == 429
    as_admin = client_for(admin)
    page = as_admin.get(reverse("users")).content.decode()
    assert "Locked addresses" in page and f"<code>{OFFICE_PROXY}</code>" in page
    assert f'name="address" value="{OFFICE_PROXY}"' in page
    unlock = reverse("address_unlock")
    assert as_admin.get(unlock).status_code == 405
    page = as_admin.post(unlock, {"address": OFFICE_PROXY}, follow=True).content.decode()
    assert f"Nothing changed: confirm first that you want to unlock the address {OFFICE_PROXY}." in page
    page = as_admin.post(unlock, {"address": "not-an-ip", "confirmed": "yes"}, follow=True).content.decode()
    assert "Nothing changed: that is not an IP address." in page
    assert not AuditEntry.objects.exists()
    page = as_admin.post(unlock, {"address": OFFICE_PROXY, "confirmed": "yes"}, follow=True).content.decode()
    assert f"Unlocked {OFFICE_PROXY}" in page and "Locked addresses" not in page
    entry = AuditEntry.objects.get()
    # The 12 guesses and the colleague's refused sign-in.
    assert (entry.action, entry.object_id, entry.changes) == (
        "address.unlocked",
        OFFICE_PROXY,
        {"failures": 13},
    )
    assert entry.actor == admin
    assert sign_in(Client(), marketer.username, PASSWORD, address=OFFICE_PROXY).status_code == 302


def test_only_admins_unlock_an_address(client_for, marketer, viewer):
    for user in (marketer, viewer):
        response = client_for(user).post(
            reverse("address_unlock"), {"address": OFFICE_PROXY, "confirmed": "yes"}
        )
        assert response.status_code == 403


def test_the_admin_login_page_leads_to_the_one_sign_in_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"
