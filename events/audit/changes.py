"""The audit trail: every change to apps, tokens and users goes through record_change().

Callers hand over the values as they are; fields that hold a secret are masked here, so no
caller can store one by mistake.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from events.audit.models import AuditEntry
from events.models import App
from events.secrets import mask

# Field names whose values are secrets wherever they appear (App.app_key, SecurityToken.value,
# and the password a user form might carry).
SECRET_FIELDS = frozenset({"app_key", "value", "password", "password1", "password2"})


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The fields' current values, to compare with after a change."""
    return {name: getattr(obj, name) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """field -> [before, after] for the fields whose value changed."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def _plain(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    value = str(value)
    return mask(value) if name in SECRET_FIELDS and value else value


def record_change(
    actor,
    action: str,
    obj: models.Model,
    changes: Mapping[str, Any] | None = None,
    app: App | None = None,
    *,
    object_id: Any = None,
) -> AuditEntry:
    """Write one audit entry for `action` ("<object type>.<verb>", e.g. "security_token.rotated").

    `changes` maps a field to [before, after], or to a single value for a one-sided fact; secret
    fields are stored masked. Pass `object_id` when the object is already deleted (its pk is gone).
    """
    stored: dict[str, Any] = {}
    for name, change in (changes or {}).items():
        if isinstance(change, list | tuple):
            stored[name] = [_plain(name, value) for value in change]
        else:
            stored[name] = _plain(name, change)
    if app is None:
        # The app a change belongs to, for the audit page's filter: the app itself or its owner.
        app = obj if isinstance(obj, App) else getattr(obj, "app", None)
    if app is not None and app.pk is None:
        app = None  # the app itself was just deleted: the entry outlives it
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor.get_username() if getattr(actor, "pk", None) else "",
        action=action,
        object_type=action.partition(".")[0],
        object_id=str(object_id if object_id is not None else obj.pk or ""),
        object_repr=str(obj)[:200],
        app=app,
        changes=stored,
    )


def describe(changes: Mapping[str, Any]) -> list[str]:
    """One readable line per change, e.g. "app key changed (••••b54d → ••••9f3a)"."""
    lines = []
    for name, change in changes.items():
        label = FIELD_LABELS.get(name, name.replace("_", " "))
        if isinstance(change, list) and len(change) == 2:
            before, after = (_shown(value) for value in change)
            lines.append(
                f"{label} changed ({before} → {after})" if change[0] is not None else f"{label}: {after}"
            )
        else:
            lines.append(f"{label}: {_shown(change)}")
    return lines


FIELD_LABELS = {"value": "token", "default_environment": "default environment", "is_active": "active"}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def described(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """The entries, each with `.lines` from describe(), for templates."""
    entries = list(entries)
    for entry in entries:
        entry.lines = describe(entry.changes)
    return entries
