"""Whether a callback URL may be posted to: checked when an admin saves it and again before every
try (DNS can change), by events/url_guard.py's rules, the ones alert webhooks follow too, with
CALLBACK_ALLOW_PRIVATE_ADDRESSES (a receiver on the same network; the tests' receivers on
127.0.0.1). Results travel signed but readable, so anything crossing the internet goes over https.
"""

from django.conf import settings

from events.url_guard import url_refusal


def url_problem(url: str) -> str | None:
    """What is wrong with posting to `url`, in a sentence; None when it may be posted to."""
    refusal = url_refusal(
        url,
        what="callback",
        allow_private=settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES,
        setting="CALLBACK_ALLOW_PRIVATE_ADDRESSES",
    )
    return refusal.message if refusal is not None else None
