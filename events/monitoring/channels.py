"""Where alerts go: email (Django's mail settings), a Slack-compatible incoming webhook, or a
generic JSON webhook signed as the Standard Webhooks specification describes.

Webhooks go through events/transport.py's `send_to_webhook` (the channel's own host only, no
redirects, no private addresses unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES). Whatever is kept or shown
of a failure is masked: a Slack URL's path is its secret.
"""

import base64
import binascii
import hashlib
import hmac
import json
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from events import transport
from events.monitoring.models import AlertChannel, ChannelKind, email_addresses
from events.secrets import Masker


class ChannelError(Exception):
    """The channel did not take the message; the text says why, secrets masked."""


@dataclass(frozen=True)
class Message:
    """One alert, in the words each channel needs."""

    event: str  # "incident.opened", "incident.resolved" or "test"
    subject: str  # one line
    text: str  # the whole message, plain text
    data: dict[str, Any] = field(default_factory=dict)  # the generic webhook's JSON "data"


def deliver(channel: AlertChannel, message: Message) -> None:
    """Send the message on the channel; ChannelError (masked) when it was not taken."""
    masker = Masker([channel.target, channel.signing_secret, *_url_parts(channel)])
    try:
        if channel.kind == ChannelKind.EMAIL:
            _send_email(channel, message)
        elif channel.kind == ChannelKind.SLACK:
            _post(channel, {"text": message.text}, {})
        else:
            body = json.dumps({"type": message.event, "timestamp": _now_iso(), "data": message.data})
            _post(channel, body, signature_headers(channel.signing_secret, body))
    except ChannelError as exc:
        raise ChannelError(masker.text(str(exc))) from None


def _url_parts(channel: AlertChannel) -> list[str]:
    if channel.kind == ChannelKind.EMAIL:
        return []
    path = urlsplit(channel.target).path
    return [part for part in path.split("/") if len(part) >= 8]


def _send_email(channel: AlertChannel, message: Message) -> None:
    to = email_addresses(channel.target)
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        EmailMessage(
            message.subject, message.text, settings.DEFAULT_FROM_EMAIL, to, connection=connection
        ).send()
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"The mail server did not take the message: {exc}") from exc


def _post(channel: AlertChannel, payload: dict | str, headers: dict[str, str]) -> None:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    request = transport.OutboundRequest(
        method="POST",
        url=channel.target,
        headers={"Content-Type": "application/json", **headers},
        body=body.encode(),
        secrets=(channel.target,),
    )
    try:
        answer = transport.send_to_webhook(request)
    except transport.TransportError as exc:
        raise ChannelError(exc.message) from exc
    if not 200 <= answer.status < 300:
        raise ChannelError(f"The webhook answered HTTP {answer.status}: {answer.text()[:200]}")


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def signing_key(secret: str) -> bytes:
    """A Standard Webhooks secret is `whsec_` + base64 of the key; any other text is the key."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def signature_headers(secret: str, body: str, *, msg_id: str | None = None, at: int | None = None) -> dict:
    """webhook-id, webhook-timestamp and webhook-signature (v1: HMAC-SHA256 of id.timestamp.body)."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = int(time.time()) if at is None else at
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(at)}
    if secret:
        digest = hmac.new(signing_key(secret), f"{msg_id}.{at}.{body}".encode(), hashlib.sha256).digest()
        headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode()
    return headers
