"""The send engine: from a saved Delivery row to the MMP's answer, and what comes next.

Its public face, for the dashboard, the API, bulk sends and the commands:

- `create_delivery`, `resend_delivery`, `retry_now`; `resend_many` and `resend_refusals` for bulk
  resends (many at once; what the MMP would refuse, asked of the order guard): validate with the provider, save the row (the outbox) and
  enqueue after commit (outbox.py);
- `enqueue_deliveries`, `send_queue`: put saved ids on the send queue (queues.py);
- `send_deliveries`: the RQ job that claims, sends and records (jobs.py);
- `SendWorker`: the worker class that runs it (workers.py);
- `paused_hosts`: the MMP hosts whose sends are paused, why and until when (limits.py).

Inside, imports run one way: workers -> jobs, reconciler, retention -> queues, order_guard,
retry_policy, liveness -> providers, transport, models. Below the engine too: attempts writes the
result callbacks' outbox rows (events/callbacks/outbox.py) and counts each batch for /metrics
(events/metrics/counters.py); neither imports the engine.
"""

from events.engine.jobs import send_deliveries
from events.engine.limits import paused_hosts
from events.engine.outbox import (
    create_delivery,
    enqueue_after_commit,
    new_delivery,
    resend_delivery,
    resend_many,
    resend_refusals,
    retry_now,
)
from events.engine.queues import enqueue_deliveries, send_queue
from events.engine.workers import SendWorker

__all__ = [
    "SendWorker",
    "create_delivery",
    "enqueue_after_commit",
    "enqueue_deliveries",
    "new_delivery",
    "paused_hosts",
    "resend_delivery",
    "resend_many",
    "resend_refusals",
    "retry_now",
    "send_deliveries",
    "send_queue",
]
