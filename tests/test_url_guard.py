"""One check of admin-typed destinations (events/url_guard.py) beneath both callers: alert
webhooks (transport.check_webhook_url, WEBHOOK_ALLOW_PRIVATE_ADDRESSES) and result callbacks
(callbacks.destinations.url_problem, CALLBACK_ALLOW_PRIVATE_ADDRESSES). IP literals only: no DNS."""

import pytest

from events import transport
from events.callbacks.destinations import url_problem


def webhook_problem(url: str) -> str | None:
    try:
        transport.check_webhook_url(url)
    except transport.TransportError as exc:
        return exc.message
    return None


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "https://127.0.0.1/x",
        "https://[::ffff:127.0.0.1]/x",  # loopback written as IPv4-mapped IPv6
        "https://10.0.0.5/x",
        "https://[::1]/x",
        "https://224.0.0.1/x",  # multicast
        "https://user:pass@8.8.8.8/x",
        "ftp://8.8.8.8/x",
        "https:///x",
        "https://8.8.8.8:99999/x",
        "http://8.8.8.8/x",  # public over plain http
    ],
)
def test_both_callers_refuse_the_same_urls_with_their_own_words(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES = False
    webhook, callback = webhook_problem(url), url_problem(url)
    assert webhook and callback
    assert webhook == callback.replace("callback", "webhook").replace("CALLBACK_", "WEBHOOK_")


def test_a_public_https_url_passes_both(settings):
    assert webhook_problem("https://8.8.8.8/hook") is None
    assert url_problem("https://8.8.8.8/hook") is None


def test_each_setting_allows_private_addresses_for_its_own_caller_only(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES = False
    assert webhook_problem("http://127.0.0.1:9/x") is None  # plain http too, to an allowed private host
    assert "CALLBACK_ALLOW_PRIVATE_ADDRESSES" in url_problem("http://127.0.0.1:9/x")

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES = True
    assert url_problem("http://127.0.0.1:9/x") is None
    assert "WEBHOOK_ALLOW_PRIVATE_ADDRESSES" in webhook_problem("http://127.0.0.1:9/x")
    # Allowing private addresses never allows plain http to a public one.
    assert "https://" in url_problem("http://8.8.8.8/x")
