"""The ingestion API for backends, at /api/v1/: events in, delivery status out.

- site.py: the NinjaAPI object, its API-key authentication and its error answers;
  endpoints.py: the operations; schemas.py: their bodies; urls.py: the URL patterns;
  body.py: the size limit and strict JSON parsing of request bodies;
- keys.py: API keys (`create_api_key`, `authenticate`, `revoke`), stored as keyed hashes;
  ratelimit.py: requests per minute per key; idempotency.py: `Idempotency-Key` replays;
- ingest.py: accepting events in batches (`check_batch`, `save`, `ingest`), which bulk sends
  (events/bulk/) use too;
- models.py: ApiKey and ApiRequest (registered through events/models.py).

Imports run down: site -> keys, ratelimit, body; endpoints -> site, ingest, idempotency; ingest ->
the engine. This file imports nothing: events/models.py imports events.api.models while it loads,
and importing the package must not pull in the rest of it then.
"""
