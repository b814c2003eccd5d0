"""Bulk resends from the request log: choose deliveries (ticked, or all matching the filters, up
to BULK_RESEND_MAX), preview what would happen to each, confirm, then a job resends them while
the page shows the progress.

- preview.py: `matching(filters)` (the ids the log's filters match; `TooMany` past the cap) and
  `preview(user, ids)`, the plan saved as a BulkResend waiting for confirmation;
- plan.py: what happens to each delivery (retry now, skip, refused and why, resend); the MMP's
  rules are asked of the engine (`events.engine.resend_refusals`), which asks the providers;
- jobs.py: `start(bulk)` once confirmed, and the RQ job `resend_bulk` (through
  `events.engine.resend_many`; no original is resent twice);
- report.py: `summary(bulk)` for the preview, `progress(bulk)` once started;
- models.py: BulkResend and ResendItem (registered through events/models.py).

Like events/reporting, nothing is imported at package import time, so events/models.py can load
the models without a circle.
"""
