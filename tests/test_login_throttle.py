"""Sign-in throttling: five failures in fifteen minutes for one username, or from one address,
and the next attempts get HTTP 429 with a message saying when to try again, right password or not."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from django.urls import reverse
from redis.backoff import NoBackoff
from redis.retry import Retry

from events import login_throttle
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts(settings, redis_conn):
    """The counts live in the Redis production uses (emptied by redis_conn before and after)."""
    # A fast hasher: these tests check passwords dozens of times (users are created after this).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


def test_with_redis_down_signing_in_still_works(client, viewer, monkeypatch):
    # A Redis nobody listens on: the only way to have it down without stopping the one the rest
    # of the run shares.
    down = redis.Redis(port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(login_throttle, "_redis", lambda: down)
    for _ in range(6):
        assert sign_in(client, viewer.username, "wrong").status_code == 200
    assert sign_in(client, viewer.username, PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_count_against_their_address(client, viewer):
    for _ in range(8):
        assert sign_in(client, viewer.username, PASSWORD, address="192.0.2.80").status_code == 302
        client.logout()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_guesses_get_no_more_password_checks_than_the_limit(live_server, viewer, redis_conn):
    """Twenty guesses at once, each on its own connection to a real server thread."""
    guesses = 20
    barrier = threading.Barrier(guesses)

    def guess(n: int) -> int:
        with requests.Session() as session:
            page = session.get(f"{live_server.url}{reverse('login')}", timeout=30)
            token = session.cookies["csrftoken"]
            assert page.status_code == 200
            barrier.wait(30)
            response = session.post(
                f"{live_server.url}{reverse('login')}",
                data={"username": viewer.username, "password": f"wrong-{n}", "csrfmiddlewaretoken": token},
                headers={"Referer": f"{live_server.url}/login/"},
                timeout=30,
            )
            return response.status_code

    with ThreadPoolExecutor(guesses) as pool:
        statuses = list(pool.map(guess, range(guesses)))
    # Only the first five reached the password check, and stay counted as failures.
    user_key, _ = login_throttle._keys(None, viewer.username)
    assert redis_conn.zcard(user_key) == 5
    assert statuses.count(429) >= guesses - 5
    assert set(statuses) <= {200, 429}
