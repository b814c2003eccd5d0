"""Apps, event tokens and security tokens as JSON, for `export_config` and `import_config`.

An import is checked whole before anything is written, then applied in one transaction: a file
with any problem changes nothing, and every problem is reported with its place in the file.
"""

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from events import audit
from events.forms.apps import AppForm
from events.forms.tokens import event_token_problem, security_token_problem
from events.json_keys import unique_keys
from events.models import App, Environment, EventKind, EventToken, Platform, Provider, SecurityToken
from events.names import name_problem
from events.nul import has_lone_surrogate, has_nul
from events.providers import PROVIDERS

FORMAT_VERSION = 1
APP_FIELDS = ("name", "provider", "platform", "bundle_id", "api_version", "default_environment", "active")
LIST_KEYS = {
    "event_tokens": {"name", "token", "kind", "archived"},
    "security_tokens": {"label", "active", "value"},
}


class ConfigInvalid(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def export_config(*, include_secrets: bool = False) -> dict[str, Any]:
    apps = []
    for app in App.objects.prefetch_related("event_tokens", "security_tokens").order_by("name"):
        entry: dict[str, Any] = {field: getattr(app, field) for field in APP_FIELDS}
        if include_secrets:
            entry["app_key"] = app.app_key
        entry["event_tokens"] = [
            {"name": t.name, "token": t.token, "kind": t.kind, "archived": t.archived}
            for t in app.event_tokens.order_by("token")
        ]
        entry["security_tokens"] = [
            {"label": t.label, "active": t.active, **({"value": t.value} if include_secrets else {})}
            for t in app.security_tokens.order_by("label")
        ]
        apps.append(entry)
    return {"version": FORMAT_VERSION, "secrets_included": include_secrets, "apps": apps}


def parse_config(text: str) -> dict[str, Any]:
    try:
        data = json.loads(
            text,
            object_pairs_hook=unique_keys(
                lambda key: RepeatedKey(f"The key {key!r} appears twice in one object; keep one.")
            ),
        )
    except json.JSONDecodeError as exc:
        raise ConfigInvalid(
            [f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."]
        ) from None
    except RepeatedKey as exc:
        raise ConfigInvalid([str(exc)]) from None
    except RecursionError:
        raise ConfigInvalid(["The JSON is nested too deeply to be a configuration file."]) from None
    except UnicodeDecodeError:
        raise ConfigInvalid(["The file is not UTF-8 text."]) from None
    if has_nul(data):
        # PostgreSQL cannot store U+0000; no app or token needs it.
        raise ConfigInvalid(["The file contains a NUL character (\\u0000), which cannot be stored."])
    if has_lone_surrogate(data):
        raise ConfigInvalid(
            [
                "The file contains half of a UTF-16 pair on its own (like \\udc80): not valid text, cannot be stored."
            ]
        )
    return data


class RepeatedKey(ValueError):
    pass


# What the audit trail compares for each kind of object an import may change (secrets masked there).
AUDITED_APP_FIELDS = (*APP_FIELDS, "app_key")
AUDITED_TOKEN_FIELDS = ("name", "kind")
AUDITED_SECURITY_FIELDS = ("value", "active")
VIA = {"via": "import_config"}


def _audit(
    obj, kind: str, before: dict | None, fields: tuple[str, ...], verb_created: str = "created"
) -> None:
    """One audit entry (by "(system)") for an object the import created or changed; none if unchanged."""
    after = audit.snapshot(obj, fields)
    if before is None:
        audit.record_change(None, f"{kind}.{verb_created}", obj, {**after, **VIA})
    elif changes := audit.diff(before, after):
        audit.record_change(None, f"{kind}.updated", obj, {**changes, **VIA})


def import_config(data: Any) -> dict[str, int]:
    """Create or update apps (by name), their event tokens (by token) and security tokens (by label).

    Nothing that is absent from the file is removed. Every change is in the audit trail. Returns
    counts of what changed.
    """
    _check(data)
    counts = {"apps created": 0, "apps updated": 0, "event tokens": 0, "security tokens": 0}
    with transaction.atomic():
        for entry in data["apps"]:
            app = App.objects.filter(name=entry["name"]).first()
            counts["apps updated" if app else "apps created"] += 1
            before = audit.snapshot(app, AUDITED_APP_FIELDS) if app else None
            app = app or App(name=entry["name"])
            for field in APP_FIELDS[1:]:
                if field in entry:
                    setattr(app, field, entry[field])
            if entry.get("app_key"):
                app.app_key = entry["app_key"]
            app.save()
            _audit(app, "app", before, AUDITED_APP_FIELDS)
            for token in entry.get("event_tokens", []):
                existing = app.event_tokens.filter(token=token["token"]).first()
                before = audit.snapshot(existing, AUDITED_TOKEN_FIELDS) if existing else None
                event_token, _ = EventToken.objects.update_or_create(
                    app=app,
                    token=token["token"],
                    defaults={
                        "name": token.get("name") or token["token"],
                        "kind": token.get("kind", EventKind.EVENT),
                    },
                )
                if "archived" in token and token["archived"] != event_token.archived:
                    event_token.archived_at = timezone.now() if token["archived"] else None
                    event_token.save(update_fields=["archived_at"])
                _audit(event_token, "event_token", before, AUDITED_TOKEN_FIELDS)
                counts["event tokens"] += 1
            for token in entry.get("security_tokens", []):
                existing = app.security_tokens.filter(label=token["label"]).first()
                before = audit.snapshot(existing, AUDITED_SECURITY_FIELDS) if existing else None
                existing = existing or SecurityToken(app=app, label=token["label"])
                if token.get("value"):
                    existing.value = token["value"]
                existing.active = token.get("active", True)
                existing.save()
                _audit(existing, "security_token", before, AUDITED_SECURITY_FIELDS, verb_created="added")
                counts["security tokens"] += 1
    return counts


def _check(data: Any) -> None:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigInvalid(["The top level must be a JSON object with an 'apps' list."])
    if data.get("version") != FORMAT_VERSION:
        problems.append(f"version must be {FORMAT_VERSION} (got {data.get('version')!r}).")
    apps = data.get("apps")
    if not isinstance(apps, list):
        raise ConfigInvalid([*problems, "'apps' must be a list."])
    names: set[str] = set()
    for i, entry in enumerate(apps):
        where = f"apps[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object.")
            continue
        name = entry.get("name")
        if isinstance(name, str):
            where = f"apps[{i}] ({name!r})"
            if name in names:
                problems.append(f"{where}: the name appears twice in the file.")
            names.add(name)
        entry_problems = [
            *(f"{where}: {p}" for p in _app_problems(entry)),
            *(f"{where}.event_tokens{p}" for p in _list_problems(entry, "event_tokens", "token")),
            *(f"{where}.security_tokens{p}" for p in _list_problems(entry, "security_tokens", "label")),
        ]
        if not entry_problems:  # the dashboard's own rules, once the values have the right types
            entry_problems = [f"{where}: {p}" for p in _dashboard_problems(entry)]
        problems.extend(entry_problems)
    if problems:
        raise ConfigInvalid(problems)


def _app_problems(entry: dict) -> list[str]:
    problems = []
    unknown = set(entry) - {*APP_FIELDS, "app_key", "event_tokens", "security_tokens"}
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}.")
    exists = isinstance(entry.get("name"), str) and App.objects.filter(name=entry["name"]).exists()
    if not exists and not entry.get("app_key"):
        problems.append("a new app needs its app_key (export with --include-secrets).")
    choices = {
        "provider": Provider.values,
        "platform": Platform.values,
        "default_environment": Environment.values,
    }
    for field, allowed in choices.items():
        if (field != "default_environment" or field in entry) and entry.get(field) not in allowed:
            problems.append(f"{field} must be one of {allowed}, not {entry.get(field)!r}.")
    if "active" in entry and not isinstance(entry["active"], bool):
        problems.append("active must be true or false.")
    for field, limit in {"name": 100, "bundle_id": 255, "app_key": 500, "api_version": 10}.items():
        value = entry.get(field, "")
        if not isinstance(value, str) or len(value) > limit or (field == "name" and not value.strip()):
            problems.append(f"{field} must be a string of at most {limit} characters.")
    provider = PROVIDERS.get(entry.get("provider"))
    if provider and not provider.has_sandbox and entry.get("default_environment") == Environment.SANDBOX:
        problems.append(f"{provider.label} has no sandbox: default_environment must be production.")
    return problems


def _list_problems(entry: dict, key: str, identity: str) -> list[str]:
    items = entry.get(key, [])
    if not isinstance(items, list):
        return [": must be a list."]
    problems, seen = [], set()
    for j, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get(identity), str)
            or not item[identity].strip()
        ):
            problems.append(f"[{j}]: must be an object with a non-empty {identity!r}.")
            continue
        if item[identity] in seen:
            problems.append(f"[{j}]: {identity} {item[identity]!r} appears twice.")
        seen.add(item[identity])
        if len(item[identity]) > 100:
            problems.append(f"[{j}]: {identity} is longer than 100 characters.")
        unknown = set(item) - LIST_KEYS[key]
        if unknown:
            problems.append(f"[{j}]: unknown keys {sorted(unknown)}.")
        if key == "event_tokens" and item.get("kind", EventKind.EVENT) not in EventKind.values:
            problems.append(f"[{j}]: kind must be one of {EventKind.values}.")
        if key == "event_tokens" and not isinstance(item.get("name", ""), str):
            problems.append(f"[{j}]: name must be a string.")
        elif key == "event_tokens" and len(item.get("name", "")) > 100:
            problems.append(f"[{j}]: name is longer than 100 characters.")
        for name_field in ("name", "label"):
            problem = isinstance(item.get(name_field), str) and name_problem(item[name_field], name_field)
            if problem:
                problems.append(f"[{j}]: {problem}")
        for flag in ("archived", "active"):
            if flag in item and not isinstance(item[flag], bool):
                problems.append(f"[{j}]: {flag} must be true or false, not {item[flag]!r}.")
        if key == "security_tokens" and "value" in item and not isinstance(item["value"], str):
            problems.append(f"[{j}]: value must be a string.")
        elif key == "security_tokens" and item.get("value"):
            problem = security_token_problem(item["value"])
            if problem:
                problems.append(f"[{j}]: {problem}")
        if key == "security_tokens" and not item.get("value"):
            app_name = entry.get("name")
            if not SecurityToken.objects.filter(app__name=app_name, label=item[identity]).exists():
                problems.append(
                    f"[{j}]: a new security token needs its value (export with --include-secrets)."
                )
    return problems


def _dashboard_problems(entry: dict) -> list[str]:
    """What the dashboard's app form and token rules say about this entry: one set of rules."""
    existing = App.objects.filter(name=entry["name"]).first()
    instance = existing or App()
    data = {field: entry.get(field, getattr(instance, field)) for field in AppForm.Meta.fields}
    data["app_key"] = entry.get("app_key") or ""
    form = AppForm(data=data, instance=existing)
    problems = [
        f"{field if field != '__all__' else 'app'}: {message}"
        for field, messages in form.errors.items()
        for message in messages
    ]
    app = form.instance
    for j, token in enumerate(entry.get("event_tokens", [])):
        problem = event_token_problem(app, token["token"], token.get("kind", EventKind.EVENT))
        if problem:
            problems.append(f"event_tokens[{j}]: {token['token']!r}: {problem}")
    return problems
