"""Whether a URL that an admin typed may be posted to: the one check beneath the alert channels'
webhooks (events/transport.py, `check_webhook_url`) and the result callbacks
(events/callbacks/destinations.py), each run when the URL is saved and again before every post
(DNS answers change).

Rules: http(s) only, a host, no user or password in the URL, and every address the host resolves
to public; private, loopback, link-local (cloud metadata), reserved and multicast addresses are
refused unless the caller's setting allows them (a receiver on the same network; the tests'
receivers on 127.0.0.1). Plain http is accepted only to such an allowed private host: anything
crossing the internet goes over https.

Each caller keeps its own setting (WEBHOOK_ALLOW_PRIVATE_ADDRESSES, CALLBACK_ALLOW_PRIVATE_ADDRESSES):
alert receivers and result receivers are often in different places, and installs have set them
separately.

Known limit: the host is resolved here and again when connecting; a DNS answer that changes in
between (rebinding) is not caught. Outbound firewalling stays the real boundary.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Refusal:
    kind: str  # "not_allowed", or "dns" when the host could not be resolved
    message: str  # a sentence for the admin, naming the setting that would allow it if one would


def url_refusal(url: str, *, what: str, allow_private: bool, setting: str) -> Refusal | None:
    """Why `url` may not be posted to, or None. `what` names the URL's use in messages ("callback",
    "webhook"); `setting` is the name of the setting that `allow_private` comes from."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return _no(
            f"A {what} URL must start with https:// (or http:// to a private address, if {setting} is set)."
        )
    if parts.username or parts.password:
        return _no(f"A {what} URL must not carry a user name or password.")
    host = (parts.hostname or "").lower()
    if not host:
        return _no(f"The {what} URL has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return _no(f"The {what} URL's port is not a number from 1 to 65535.")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        return Refusal("dns", f"Could not resolve {host} (DNS lookup failed).")
    private = sorted(a for a in addresses if not _public(a))
    if private and not allow_private:
        return _no(
            f"{host} resolves to a private or reserved address ({', '.join(private)}); {what}s go to "
            f"public addresses only, unless {setting} is set."
        )
    if scheme == "http" and not (private and allow_private):
        return _no(f"A {what} to a public address must use https://.")
    return None


def _no(message: str) -> Refusal:
    return Refusal("not_allowed", message)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 zone ("fe80::1%eth0") is no part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast
