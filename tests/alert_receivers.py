"""Real receivers for alert tests: an SMTP server (aiosmtpd) and a webhook receiver over HTTP."""

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager

import django_rq
from aiosmtpd.controller import Controller

from events.engine.liveness import ALERT_CHECK_LOCK
from tests.local_server import LocalServer, answer, free_port


class MailBox:
    """Collects what the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@contextmanager
def smtp_server() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def use_smtp(settings, port: int) -> None:
    """Django's mail settings pointed at the test's SMTP server (pytest-django swaps in locmem)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[LocalServer]:
    with LocalServer(answer(status, b"ok", {"Content-Type": "text/plain"})) as server:
        yield server


def run_alert_jobs() -> None:
    """A real worker of the default queue, until it is empty: the alert messages queued so far.
    Its maintenance would also enqueue a run of the checks; the checks' lock is taken first, so
    that a test decides when the checks run (and at which moment)."""
    connection = django_rq.get_connection("default")
    connection.set(ALERT_CHECK_LOCK, "a test", ex=600)
    django_rq.get_worker("default").work(burst=True)
