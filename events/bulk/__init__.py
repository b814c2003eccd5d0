"""Bulk sends: a CSV of events for one app, checked first (a report, nothing sent), then queued in
streaming batches while its progress is followed live; cancellable; its results as CSV.

Its public face:

- `enqueue_check`, `start`, `cancel`, `progress`: a bulk send's life (jobs.py, which also holds
  the RQ jobs `check_bulk` and `queue_bulk`);
- `read_columns`, `Columns`, `CsvUnusable`, `max_bytes`, `template_csv`, `provider_fields`,
  `PLAIN_FIELDS`, `MAX_PROBLEMS`: the file's columns and its template (files.py);
- `result_lines`: the results file, streamed (results.py).

models.py holds BulkSend (registered through events/models.py). Imports run down: jobs, results ->
files -> the API's ingest (events/api/ingest.py), which checks each row as the API checks an event.
"""

from events.lazy_face import lazy_face

# events/models.py imports this package's models while it loads, so nothing else is imported at
# package import time: each name is looked up in its module on first use (PEP 562).
_HOMES = {
    "enqueue_check": "jobs",
    "start": "jobs",
    "cancel": "jobs",
    "progress": "jobs",
    "read_columns": "files",
    "Columns": "files",
    "CsvUnusable": "files",
    "max_bytes": "files",
    "template_csv": "files",
    "provider_fields": "files",
    "PLAIN_FIELDS": "files",
    "MAX_PROBLEMS": "files",
    "result_lines": "results",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_face(__name__, _HOMES)
