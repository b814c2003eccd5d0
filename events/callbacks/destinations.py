"""Whether a callback URL may be posted to: checked when an admin saves it and again before every
try (DNS can change), by the one transport (events/transport.py) like any outbound host.

Rules: http(s) only, no credentials in the URL, and every address the host resolves to must be
public; private, loopback, link-local (cloud metadata), reserved and multicast addresses are
refused unless CALLBACK_ALLOW_PRIVATE_ADDRESSES is set (a receiver on the same network; the tests'
receivers on 127.0.0.1). Plain http is accepted only for such an allowed private host: results
travel signed but readable, so anything crossing the internet goes over https.

Known limit: the host is resolved here and again when connecting; a DNS answer that changes in
between (rebinding) is not caught. Outbound firewalling stays the real boundary.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def url_problem(url: str) -> str | None:
    """What is wrong with posting to `url`, in a sentence; None when it may be posted to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return "A callback URL starts with https:// (or http:// for a private address when allowed)."
    if parts.username or parts.password:
        return "A callback URL must not carry a user or password: the signature authenticates s2sadmin."
    host = parts.hostname
    if not host:
        return "The callback URL has no host."
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return "The callback URL's port is not a number from 1 to 65535."
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        return f"Could not resolve {host} (DNS lookup failed)."
    private = sorted(a for a in addresses if not _public(a))
    allow_private = settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES
    if private and not allow_private:
        return (
            f"{host} resolves to a private or reserved address ({', '.join(private)}); callbacks go to "
            "public addresses only, unless CALLBACK_ALLOW_PRIVATE_ADDRESSES is set."
        )
    if scheme == "http" and not (private and allow_private):
        return "A callback to a public address must use https://."
    return None


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
