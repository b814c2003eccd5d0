"""API keys moved to events/api/keys.py; this name stays for bench/ingest.py, which another branch
was editing when the API's modules moved (and for code written against the old path meanwhile).
Remove it once nothing imports events.apikeys (`grep -rn events.apikeys`)."""

from events.api.keys import authenticate, create_api_key, revoke

__all__ = ["authenticate", "create_api_key", "revoke"]
