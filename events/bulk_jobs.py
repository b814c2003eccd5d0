"""The bulk-send RQ jobs under their old dotted path, for jobs already waiting in Redis.

RQ stores a job's function, and its on_failure callback, as a dotted path ("events.bulk_jobs.
check_bulk") and imports it when a worker runs the job, retries it or reports its failure. The
jobs moved to events/bulk/jobs.py; new jobs are enqueued under that path, but a queue filled before
an upgrade still names this one. Keeping the jobs' own path stable instead would have kept the
module at the top of events/. Remove this module one release after the move.
"""

from events.bulk.jobs import check_bulk, job_failed, queue_bulk

__all__ = ["check_bulk", "job_failed", "queue_bulk"]
