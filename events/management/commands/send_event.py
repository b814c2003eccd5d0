"""Queue one event through the same validation and pipeline as the test form."""

import re
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from events import client_ids
from events.engine import create_delivery, send_queue
from events.models import App, Delivery, EventToken, Source
from events.providers import EventInvalid


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(text)
    return key, value


key_value.__name__ = "key=value"  # argparse names the type in its error message


class Command(BaseCommand):
    help = (
        "Send one event: validate it as the MMP would, queue it, and with --wait print the outcome. "
        "Example: send_event 'Demo Adjust iOS' f0ob4r --device idfa=D2CADB5F-410F-4963-AC0C-2A78534BDF1E "
        "--param order=42 --revenue 1.5 --currency EUR --wait"
    )

    def add_arguments(self, parser):
        parser.add_argument("app", help="App name or id.")
        parser.add_argument(
            "event", help="Event token (Adjust), event name (the others), or its readable name."
        )
        parser.add_argument(
            "--device", action="append", type=key_value, default=[], metavar="TYPE=VALUE",
            help="A device id, e.g. idfa=..., gps_adid=..., or for Tenjin advertising_id=..., "
            "analytics_installation_id=..., developer_device_id=..., for AppsFlyer appsflyer_id=..., "
            "for Singular sdid=... (repeatable).",
        )  # fmt: skip
        parser.add_argument("--param", action="append", type=key_value, default=[], metavar="K=V",
                            help="A callback parameter (repeatable).")  # fmt: skip
        parser.add_argument("--partner-param", action="append", type=key_value, default=[], metavar="K=V",
                            help="A partner parameter (repeatable).")  # fmt: skip
        parser.add_argument("--revenue")
        parser.add_argument("--currency", help="ISO 4217 code, e.g. EUR.")
        parser.add_argument("--created-at", help="Unix seconds or ISO 8601 with a zone; default now.")
        parser.add_argument("--environment", choices=["sandbox", "production"],
                            help="Default: the app's default environment.")  # fmt: skip
        parser.add_argument("--ip", dest="ip_address", help="The device's IP address.")
        parser.add_argument("--user-agent")
        parser.add_argument(
            "--set", action="append", type=key_value, default=[], metavar="FIELD=VALUE",
            help="Any other field of the provider, e.g. os_version=17.5, value=50, product_id=gems, "
            "quantity=1, price=4.99, event_value={...} (AppsFlyer), attributes={...} (Singular) (repeatable).",
        )  # fmt: skip
        parser.add_argument("--idempotency-key", help="Sending the same key twice queues the event once.")
        parser.add_argument("--wait", action="store_true", help="Wait for the outcome and print it.")
        parser.add_argument("--timeout", type=float, default=60, help="Seconds --wait waits (default 60).")

    def handle(self, *args, **options):
        app = find_app(options["app"])
        event_token = find_event_token(app, options["event"])
        fields = {
            "device_ids": dict(options["device"]),
            "callback_params": dict(options["param"]) or None,
            "partner_params": dict(options["partner_param"]) or None,
            "revenue": options["revenue"],
            "currency": options["currency"],
            "created_at": options["created_at"],
            "environment": options["environment"],
            "ip_address": options["ip_address"],
            "user_agent": options["user_agent"],
        }
        for key, value in options["set"]:
            if key in fields and fields[key] not in (None, {}):
                raise CommandError(f"--set {key}=... repeats a field that has its own option.")
            fields[key] = value
        fields = {key: value for key, value in fields.items() if value not in (None, {})}
        key_problem = options["idempotency_key"] and client_ids.problem(
            options["idempotency_key"], "--idempotency-key"
        )
        if key_problem:
            raise CommandError(f"The event was not sent: {key_problem}")
        try:
            delivery, created = create_delivery(
                app, event_token, fields, source=Source.CLI, idempotency_key=options["idempotency_key"]
            )
        except EventInvalid as exc:
            lines = [f"  {field}: {' '.join(messages)}" for field, messages in exc.errors.items()]
            raise CommandError("The event was not sent:\n" + "\n".join(lines)) from None
        verb = "Queued" if created else "Already queued with this idempotency key:"
        self.stdout.write(
            f"{verb} delivery {delivery.pk} ({app.name}, {event_token.token}, {delivery.environment})"
        )
        if not redis_reachable():
            self.stderr.write(
                "Redis is unreachable right now: the delivery is saved as queued and goes out once "
                "Redis and a worker are back."
            )
        if options["wait"]:
            self.wait_for(delivery, options["timeout"])

    def wait_for(self, delivery: Delivery, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            delivery.refresh_from_db()
            if delivery.is_final or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        self.stdout.write(describe(delivery))
        if not delivery.is_final:
            raise CommandError(
                f"Delivery {delivery.pk} is still {delivery.status} after {timeout:g} s "
                "(is a worker running? `manage.py rqworker sends --with-scheduler`)."
            )
        if delivery.status != "delivered":
            raise CommandError(f"Delivery {delivery.pk} {delivery.status}.")


def describe(delivery: Delivery) -> str:
    lines = [f"Status: {delivery.get_status_display()} after {delivery.attempt_count} attempt(s)"]
    if delivery.last_http_status:
        lines.append(f"HTTP status: {delivery.last_http_status}")
    if delivery.last_message:
        lines.append(f"MMP answer: {delivery.last_message}")
    if delivery.last_explanation:
        lines.append(f"What it means: {delivery.last_explanation}")
    if delivery.ambiguous:
        lines.append("Note: an attempt's answer left it unknown whether the MMP recorded it (ambiguous).")
    last = delivery.attempts.order_by("-number").first()
    if last and last.response_body:
        lines.append(f"Response body: {last.response_body[:500]}")
    return "\n".join(lines)


def find_app(name_or_id: str) -> App:
    # ASCII digits, and not so many that int() refuses them (4,300): then it can only be a name.
    is_id = re.fullmatch(r"[0-9]{1,19}", name_or_id) is not None
    query = Q(name=name_or_id) | (Q(pk=int(name_or_id)) if is_id else Q())
    app = App.objects.filter(query).first()
    if app is None:
        known = ", ".join(repr(n) for n in App.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"No app named {name_or_id!r}. Apps: {known}.")
    return app


def find_event_token(app: App, token_or_name: str) -> EventToken:
    tokens = app.event_tokens.filter(Q(token=token_or_name) | Q(name=token_or_name))
    if tokens.count() == 1:
        return tokens.get()
    known = (
        ", ".join(f"{t.token} ({t.name})" for t in app.event_tokens.filter(archived_at=None)) or "none yet"
    )
    problem = "matches several events" if tokens.exists() else "is not an event of this app"
    raise CommandError(f"{token_or_name!r} {problem}. Events of {app.name}: {known}.")


def redis_reachable() -> bool:
    try:
        return bool(send_queue().connection.ping())
    except Exception:
        return False
