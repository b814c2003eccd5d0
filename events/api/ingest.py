"""Accepting events in batches (the API, bulk uploads): validate each, insert all valid ones in one
statement, enqueue them in pipelined batches after commit. A result for every item.

Two steps, so a CSV can be checked without sending anything: `check_batch` validates a batch
(provider rules, ids already used, the order and age guard) and `save` inserts what passed.
"""

import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from events import client_ids
from events.engine import enqueue_deliveries, new_delivery, order_guard
from events.models import App, Delivery, EventToken, Source
from events.nul import printable, unstorable_problem
from events.providers import EventInvalid, ValidEvent, get_provider

log = logging.getLogger(__name__)
UNEXPECTED = (
    "This event could not be checked because of an error in s2sadmin (it is logged); the others were."
)
_APP_ID = re.compile(r"[0-9]{1,19}")

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


@dataclass
class Batch:
    """A checked batch: a result for every item, and the new valid rows not saved yet."""

    results: list[ItemResult] = field(default_factory=list)
    pending: list[tuple[ItemResult, Delivery]] = field(default_factory=list)
    # Indexes of the items the order and age guard refused (rejected, on created_at).
    guarded: set[int] = field(default_factory=set)
    # (a repeat of an id within this batch, its first occurrence): one delivery for both.
    repeats: list[tuple[ItemResult, ItemResult]] = field(default_factory=list)


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
        # An id is an int or ASCII digits: not a boolean (True is 1 to Python), not "²" (isdigit()
        # but not int()), and not so long that int() refuses it (4,300 digits).
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.apps.get(ref)
        if isinstance(ref, str) and _APP_ID.fullmatch(ref):
            return self.apps.get(int(ref))
        return self.by_name.get(ref) if isinstance(ref, str) else None

    def event_token(self, app: App, ref: Any) -> EventToken | None:
        return self.tokens[app.pk].get(ref) if isinstance(ref, str) else None


def ingest(
    items: list[Mapping[str, Any]], apps: Iterable[App], *, source: Source = Source.API
) -> list[ItemResult]:
    batch = check_batch(items, Catalogue(apps), source=source)
    save(batch)
    return batch.results


def check_batch(
    items: Sequence[Mapping[str, Any]],
    catalogue: Catalogue,
    *,
    source: Source,
    indexes: Sequence[int] | None = None,
) -> Batch:
    """Validate each item; nothing is saved. `indexes` number the results (default 0, 1, ...)."""
    batch = Batch()
    seen: dict[tuple[int, str], ItemResult] = {}
    existing = _existing_ids(items, catalogue)
    candidates: list[tuple[ItemResult, Delivery, order_guard.Candidate | None]] = []
    for index, item in zip(indexes if indexes is not None else range(len(items)), items, strict=True):
        client_id = _client_id(item.get("id"))
        result = ItemResult(index=index, id=client_id, status="rejected")
        batch.results.append(result)
        try:
            row, valid = validate_item(item, catalogue, source=source)
        except EventInvalid as exc:
            result.errors = exc.errors
            continue
        except Exception:
            # A bug in a validator must not take the rest of the batch (or of a 100,000-line file)
            # with it: this item is refused, and the traceback logged for us to fix.
            log.exception("Validating item %s failed unexpectedly", index)
            result.errors = {"__all__": [UNEXPECTED]}
            continue
        if client_id:
            key = (row.app_id, client_id)
            if key in existing:
                result.status, result.delivery_id = "duplicate", existing[key]
                continue
            if key in seen:  # the same event twice in one batch: one delivery, both pointing at it
                result.status = "duplicate"
                batch.repeats.append((result, seen[key]))
                continue
            seen[key] = result
            row.idempotency_key = client_id
        candidates.append(
            (result, row, order_guard.candidate(row.app, row.event_token, row.device_id, valid.event_time))
        )
    _apply_guard(batch, candidates)
    return batch


def _apply_guard(batch: Batch, candidates: list[tuple[ItemResult, Delivery, Any]]) -> None:
    """Adjust would reject these (too old, or older than an event it accepted): refuse them now."""
    reasons = order_guard.check_many([candidate for _, _, candidate in candidates])
    for (result, row, _), reason in zip(candidates, reasons, strict=True):
        if reason is None:
            batch.pending.append((result, row))
        else:
            result.errors = {"created_at": [reason]}
            batch.guarded.add(result.index)
    for repeat, first in batch.repeats:
        if first.index in batch.guarded:
            repeat.status, repeat.errors = "rejected", first.errors
            batch.guarded.add(repeat.index)


def validate_item(
    item: Mapping[str, Any], catalogue: Catalogue, *, source: Source
) -> tuple[Delivery, ValidEvent]:
    """The unsaved delivery for one provider-neutral item, or EventInvalid with errors by field."""
    unstorable = {name: unstorable_problem(value) for name, value in item.items()}
    if any(unstorable.values()):
        raise EventInvalid({name: [problem] for name, problem in sorted(unstorable.items()) if problem})
    if item.get("id") not in (None, ""):
        id_problem = client_ids.problem(str(item["id"]))
        if id_problem:
            raise EventInvalid({"id": [id_problem]})
    app = catalogue.app(item.get("app"))
    if app is None:
        raise EventInvalid({"app": [f"No app {item.get('app')!r} that this API key may send to."]})
    token = catalogue.event_token(app, item.get("event"))
    if token is None:
        raise EventInvalid(
            {"event": [f"{item.get('event')!r} is not an event token or event name of {app.name}."]}
        )
    fields = {name: item[name] for name in EVENT_FIELDS if item.get(name) not in (None, "", {})}
    extra = item.get("fields") or {}
    if not isinstance(extra, Mapping):
        raise EventInvalid({"fields": ["fields must be an object of provider-specific fields."]})
    clash = sorted(set(extra) & set(fields))
    if clash:
        raise EventInvalid({"fields": [f"{', '.join(clash)} given twice (top level and in fields)."]})
    fields.update(extra)
    valid = get_provider(app).validate(app, token, fields)
    row = new_delivery(app, token, valid, source=source, idempotency_key=uuid.uuid4().hex)
    return row, valid


def _client_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    # An id with U+0000 or a lone surrogate is refused with its item; its echo must still be
    # storable (jsonb) and encodable.
    return printable(str(value)[:100])


def _existing_ids(items: Sequence[Mapping[str, Any]], catalogue: Catalogue) -> dict[tuple[int, str], int]:
    ids = {_client_id(item.get("id")) for item in items} - {None}
    if not ids:
        return {}
    rows = Delivery.objects.filter(app__in=catalogue.apps.keys(), idempotency_key__in=ids)
    return {(app_id, key): pk for app_id, key, pk in rows.values_list("app_id", "idempotency_key", "pk")}


def save(batch: Batch) -> None:
    """Insert the batch's pending rows in one statement and enqueue them once committed.

    Inside a caller's transaction the enqueue waits for that transaction's commit."""
    _save(batch.pending)
    for repeat, first in batch.repeats:
        if repeat.status == "duplicate":
            repeat.delivery_id = first.delivery_id


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
