"""Accepting events in batches (the API, bulk uploads): validate each, insert all valid ones in one
statement, enqueue them in pipelined batches after commit. A result for every item."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from events.models import App, Delivery, EventToken, Source
from events.providers import EventInvalid, get_provider
from events.sending import enqueue_deliveries

# What the provider-neutral item carries besides its own id, app and event.
EVENT_FIELDS = (
    "device_ids",
    "callback_params",
    "partner_params",
    "revenue",
    "currency",
    "created_at",
    "environment",
    "ip_address",
    "user_agent",
)


@dataclass
class ItemResult:
    index: int
    id: str | None
    status: str  # accepted | duplicate | rejected
    delivery_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


class Catalogue:
    """The apps (and their event tokens) a caller may send to, loaded once per batch."""

    def __init__(self, apps: Iterable[App]):
        self.apps = {app.pk: app for app in apps}
        self.by_name = {app.name: app for app in self.apps.values()}
        self.tokens: dict[int, dict[str, EventToken]] = {pk: {} for pk in self.apps}
        for token in EventToken.objects.filter(app__in=self.apps.keys()):
            token.app = self.apps[token.app_id]
            # By token first; a readable name only where it is not also some token.
            self.tokens[token.app_id].setdefault(token.name, token)
            self.tokens[token.app_id][token.token] = token

    def app(self, ref: Any) -> App | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.apps.get(int(ref))
        return self.by_name.get(ref) if isinstance(ref, str) else None

    def event_token(self, app: App, ref: Any) -> EventToken | None:
        return self.tokens[app.pk].get(ref) if isinstance(ref, str) else None


def ingest(
    items: list[Mapping[str, Any]], apps: Iterable[App], *, source: Source = Source.API
) -> list[ItemResult]:
    catalogue = Catalogue(apps)
    results: list[ItemResult] = []
    pending: list[tuple[ItemResult, Delivery]] = []
    seen: dict[tuple[int, str], ItemResult] = {}
    repeats: list[tuple[ItemResult, ItemResult]] = []  # (a repeat in this batch, its first)
    existing = _existing_ids(items, catalogue)
    for index, item in enumerate(items):
        client_id = _client_id(item.get("id"))
        result = ItemResult(index=index, id=client_id, status="rejected")
        results.append(result)
        row = _validate(item, catalogue, result, source)
        if row is None:
            continue
        if client_id:
            key = (row.app_id, client_id)
            if key in existing:
                result.status, result.delivery_id = "duplicate", existing[key]
                continue
            if key in seen:  # the same event twice in one batch: one delivery, both pointing at it
                result.status = "duplicate"
                repeats.append((result, seen[key]))
                continue
            seen[key] = result
            row.idempotency_key = client_id
        pending.append((result, row))
    _save(pending)
    for repeat, first in repeats:
        repeat.delivery_id = first.delivery_id
    return results


def _client_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:100]


def _validate(
    item: Mapping[str, Any], catalogue: Catalogue, result: ItemResult, source: Source
) -> Delivery | None:
    app = catalogue.app(item.get("app"))
    if app is None:
        result.errors["app"] = [f"No app {item.get('app')!r} that this API key may send to."]
        return None
    token = catalogue.event_token(app, item.get("event"))
    if token is None:
        result.errors["event"] = [f"{item.get('event')!r} is not an event token or event name of {app.name}."]
        return None
    fields = {name: item[name] for name in EVENT_FIELDS if item.get(name) not in (None, "", {})}
    extra = item.get("fields") or {}
    if not isinstance(extra, Mapping):
        result.errors["fields"] = ["fields must be an object of provider-specific fields."]
        return None
    clash = sorted(set(extra) & set(fields))
    if clash:
        result.errors["fields"] = [f"{', '.join(clash)} given twice (top level and in fields)."]
        return None
    fields.update(extra)
    try:
        valid = get_provider(app).validate(app, token, fields)
    except EventInvalid as exc:
        result.errors = exc.errors
        return None
    return Delivery(
        app=app,
        event_token=token,
        source=source,
        params=valid.params,
        environment=valid.environment,
        device_id_type=valid.device_id_type,
        device_id=valid.device_id,
        idempotency_key=uuid.uuid4().hex,
    )


def _existing_ids(items: list[Mapping[str, Any]], catalogue: Catalogue) -> dict[tuple[int, str], int]:
    ids = {_client_id(item.get("id")) for item in items} - {None}
    if not ids:
        return {}
    rows = Delivery.objects.filter(app__in=catalogue.apps.keys(), idempotency_key__in=ids)
    return {(app_id, key): pk for app_id, key, pk in rows.values_list("app_id", "idempotency_key", "pk")}


def _save(pending: list[tuple[ItemResult, Delivery]]) -> None:
    if not pending:
        return
    try:
        with transaction.atomic():
            created = Delivery.objects.bulk_create([row for _, row in pending], batch_size=500)
            ids = [row.pk for row in created]
            transaction.on_commit(lambda: enqueue_deliveries(ids))
    except IntegrityError:
        # A concurrent request inserted one of these ids first: go one by one for this batch.
        _save_one_by_one(pending)
        return
    for (result, _), row in zip(pending, created, strict=True):
        result.status, result.delivery_id = "accepted", row.pk


def _save_one_by_one(pending: list[tuple[ItemResult, Delivery]]) -> None:
    for result, row in pending:
        row.pk = None
        try:
            with transaction.atomic():
                row.save()
                transaction.on_commit(lambda pk=row.pk: enqueue_deliveries([pk]))
            result.status, result.delivery_id = "accepted", row.pk
        except IntegrityError:
            existing = Delivery.objects.get(app=row.app, idempotency_key=row.idempotency_key)
            result.status, result.delivery_id = "duplicate", existing.pk
