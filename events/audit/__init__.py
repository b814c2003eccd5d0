"""The audit trail: who changed which app, token, key or setting, when, and what changed (secrets
masked, passwords never recorded).

Its public face, used as `from events import audit` then `audit.record_change(...)`:

- `record_change`, `snapshot`, `diff`: write an entry, and take the before/after of a row (changes.py);
- `described`: entries with their changes in words, for the audit pages (changes.py);
- `AuditedAdmin`, `VIA`: the Django admin's changes recorded the same way (admin.py).

models.py holds AuditEntry (registered through events/models.py). Imports run down: admin ->
changes -> models, secrets.
"""

from events.lazy_face import lazy_face

# events/models.py imports this package's models while it loads, so nothing else is imported at
# package import time: each name is looked up in its module on first use (PEP 562).
_HOMES = {
    "record_change": "changes",
    "snapshot": "changes",
    "diff": "changes",
    "describe": "changes",
    "described": "changes",
    "SECRET_FIELDS": "changes",
    "AuditedAdmin": "admin",
    "VIA": "admin",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_face(__name__, _HOMES)
