"""Sign-in throttling: five failures in fifteen minutes for one username, or from one address,
and the next attempts get HTTP 429 with a message saying when to try again, right password or not."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts(settings):
    # A fast hasher: these tests check passwords dozens of times (users are created after this).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


class Clock:
    def __init__(self):
        self.now = time.time()

    def time(self) -> float:
        return self.now


def sign_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_four_failures_still_leave_the_right_password_working(client, viewer):
    for _ in range(4):
        assert sign_in(client, viewer.username, "wrong").status_code == 200
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302


def test_the_fifth_failure_for_a_username_locks_it_with_a_429_and_a_clear_message(client, viewer):
    for _ in range(4):
        sign_in(client, viewer.username, "wrong")
    response = sign_in(client, viewer.username, "wrong")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "Try again in 15 minutes." in response.content.decode()
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60


def test_a_locked_username_is_refused_even_with_the_right_password_from_elsewhere(client, viewer):
    for _ in range(5):
        sign_in(client, viewer.username, "wrong", address="198.51.100.1")
    response = sign_in(client, viewer.username, PASSWORD, address="198.51.100.99")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_address_guessing_at_many_usernames_is_locked_out(client, viewer, marketer):
    for n in range(5):
        sign_in(client, f"nobody-{n}", "wrong", address="192.0.2.50")
    assert sign_in(client, viewer.username, PASSWORD, address="192.0.2.50").status_code == 429
    assert sign_in(client, marketer.username, PASSWORD, address="192.0.2.51").status_code == 302


def test_the_count_is_the_same_for_a_username_in_another_case(client, viewer):
    for _ in range(5):
        sign_in(client, viewer.username.upper(), "wrong", address="192.0.2.60")
    assert sign_in(client, viewer.username, PASSWORD, address="192.0.2.61").status_code == 429


def test_failures_older_than_the_window_no_longer_count(client, viewer, monkeypatch):
    clock = Clock()
    monkeypatch.setattr("events.login_throttle.time", clock)
    for _ in range(5):
        sign_in(client, viewer.username, "wrong")
        clock.now += 60
    response = sign_in(client, viewer.username, PASSWORD)
    assert response.status_code == 429
    assert "Try again in 10 minutes." in response.content.decode()  # the first failure was 5 minutes ago
    clock.now += 10 * 60
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_username_count(client, viewer):
    for _ in range(4):
        sign_in(client, viewer.username, "wrong", address="192.0.2.70")
    sign_in(client, viewer.username, PASSWORD, address="192.0.2.71")
    client.logout()
    for _ in range(4):
        assert sign_in(client, viewer.username, "wrong", address="192.0.2.72").status_code == 200


def test_the_admin_login_page_leads_to_the_throttled_one(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_with_the_cache_down_signing_in_still_works(client, viewer, settings):
    working = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    try:
        for _ in range(6):
            assert sign_in(client, viewer.username, "wrong").status_code == 200
        assert sign_in(client, viewer.username, PASSWORD).status_code == 302
    finally:
        settings.CACHES = working
