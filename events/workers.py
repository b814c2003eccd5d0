"""The worker that runs send jobs: no fork per job, code and HTTP session loaded once.

The default forking worker is about ten times slower on this stack and its per-job children
cannot keep connections alive between jobs (stack notes §8).
"""

import rq

import events.jobs  # noqa: F401  (imported up front so every job finds it loaded)


class SendWorker(rq.SimpleWorker):
    def __init__(self, *args, **kwargs):
        # Registry clean-up (which re-queues jobs of a worker that died) every minute, not ten.
        kwargs.setdefault("maintenance_interval", 60)
        super().__init__(*args, **kwargs)
