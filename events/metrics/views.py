"""GET /metrics: Prometheus's text format, for a scraper that shows the token or comes from an
allowed address; nothing is shown to anyone else, and nothing at all until one of the two is set.

METRICS_TOKEN is compared in constant time (`Authorization: Bearer <token>`);
METRICS_ALLOWED_ADDRESSES lists addresses or networks (10.0.0.0/8), matched against the client's
address as the sign-in lockout reads it (X-Forwarded-For only through TRUSTED_PROXIES).
"""

import ipaddress
from hmac import compare_digest

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from events.accounts.lockout import client_address
from events.metrics.collector import EXTRA_GAUGES, S2SCollector


@login_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = refused(request)
    if refusal is not None:
        return refusal
    registry = CollectorRegistry(auto_describe=False)
    registry.register(S2SCollector(EXTRA_GAUGES))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def refused(request: HttpRequest) -> HttpResponse | None:
    """The answer for a scraper that may not read the metrics; None when it may."""
    token = settings.METRICS_TOKEN
    networks = settings.METRICS_ALLOWED_ADDRESSES
    if not token and not networks:
        return _plain(
            403, "Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES to allow a scraper."
        )
    if networks and _address_allowed(client_address(request), networks):
        return None
    sent = request.headers.get("Authorization", "")
    if (
        token
        and sent.startswith("Bearer ")
        and compare_digest(sent.removeprefix("Bearer ").encode(), token.encode())
    ):
        return None
    if token:
        answer = _plain(401, "A valid `Authorization: Bearer <METRICS_TOKEN>` header is required.")
        answer["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    return _plain(403, "This address may not read the metrics (METRICS_ALLOWED_ADDRESSES).")


def _address_allowed(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
