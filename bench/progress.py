"""Waiting for deliveries without ever hanging: the wait ends when all are delivered, and otherwise
with a report of which are stuck and why (status, attempts, last answer, last explanation) when
they can no longer all be delivered, a worker died, nothing moved for a while, or the deadline passed.
"""

import subprocess
import time
from collections import Counter


class Stuck(Exception):
    """The run cannot finish; the message says which deliveries are stuck and why."""


def wait_delivered(
    n: int, workers: list[subprocess.Popen], *, deadline: float, stall_seconds: float, on_progress=None
) -> None:
    """Until n deliveries are delivered. `deadline` is a time.monotonic() value."""
    from django.db.models import Count

    from events.models import Delivery, Status

    last_count, last_change = -1, time.monotonic()
    while True:
        counts = Counter(dict(Delivery.objects.order_by().values_list("status").annotate(Count("pk"))))
        delivered = counts.get(Status.DELIVERED, 0)
        if on_progress:
            on_progress(delivered)
        if delivered >= n:
            return
        now = time.monotonic()
        if delivered != last_count:
            last_count, last_change = delivered, now
        final = counts.get(Status.FAILED, 0) + counts.get(Status.DEAD, 0)
        if delivered + final >= n:
            raise Stuck(report(f"{final} deliveries ended without being delivered, so {n} never will"))
        dead = [w for w in workers if w.poll() is not None]
        if dead:
            raise Stuck(report(f"a worker exited (code {dead[0].returncode})"))
        if now - last_change > stall_seconds:
            raise Stuck(report(f"no delivery was delivered for {stall_seconds:g} s"))
        if now > deadline:
            raise Stuck(report("the benchmark's deadline passed"))
        time.sleep(0.1)  # a light poll: the workers share the same cores


def report(reason: str, examples: int = 10) -> str:
    from django.db.models import Count

    from events.models import Delivery, Status

    pending = Delivery.objects.exclude(status=Status.DELIVERED)
    by_status = dict(pending.order_by().values_list("status").annotate(Count("pk")))
    lines = [
        f"Stuck: {reason}.",
        f"Not delivered: {pending.count()} ({', '.join(f'{s}: {c}' for s, c in sorted(by_status.items()))}).",
    ]
    fields = ("pk", "status", "attempt_count", "last_http_status", "claimed_by", "last_explanation")
    for row in pending.order_by("pk").values(*fields)[:examples]:
        lines.append(
            f"  delivery {row['pk']}: {row['status']}, {row['attempt_count']} attempt(s), "
            f"last HTTP {row['last_http_status'] or '-'}, worker {row['claimed_by'] or '-'}: "
            f"{(row['last_explanation'] or '(no explanation yet)')[:300]}"
        )
    return "\n".join(lines)
