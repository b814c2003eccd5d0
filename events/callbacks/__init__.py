"""Result callbacks: each finished delivery's result posted to its app's URL, signed as the
Standard Webhooks specification says, retried with backoff on a queue of its own.

- models.py: CallbackEndpoint (per app: URL, whsec_ secret encrypted at rest), Callback (the
  outbox row per finished delivery), CallbackAttempt (each try, kept like an MMP attempt);
- outbox.py: `add_results` (called by the engine in the batch's transaction), `enqueue` (after
  the commit), `requeue_stale` (the workers' maintenance);
- jobs.py: the RQ job that posts them; payload.py: the body; signing.py: the signature;
- destinations.py: which URLs may be posted to; forms.py, views.py, urls.py: the admin's page.

Imports run down: the engine imports outbox; this package never imports the engine.
"""
