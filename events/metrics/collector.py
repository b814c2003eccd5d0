"""What /metrics shows: the workers' counters from Redis, and gauges read at scrape time.

Gauges cost little to read: queue lengths and worker registrations are Redis lookups, and the
oldest waiting delivery is the first entry of the (status, created_at) index for two statuses
(events/reporting/queue.py). A source that is down is reported as `s2s_up{component=...} 0` and
its metrics are left out for that scrape, rather than failing the whole scrape.

Other capabilities add gauges through `gauges` (a list of ExtraGauge): the monitoring package's
open incidents are one (EXTRA_GAUGES below).
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import rq
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq.registry import ScheduledJobRegistry

from events.engine import liveness
from events.metrics import counters
from events.monitoring import open_incident_count
from events.reporting.queue import oldest_waiting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraGauge:
    """A gauge another capability provides: its name, its help text, and how to read it now."""

    name: str
    documentation: str
    read: Callable[[], float]


# Gauges other packages provide, read at each scrape.
EXTRA_GAUGES: list[ExtraGauge] = [
    ExtraGauge("s2s_open_incidents", "Incidents open now (the Alerts page).", open_incident_count),
]


class S2SCollector(Collector):
    def __init__(self, gauges: Sequence[ExtraGauge] = ()):
        self.gauges = list(gauges)

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "s2s_up", "Whether a source of these metrics answered (1) or not (0).", labels=["component"]
        )
        try:
            redis_metrics = list(self._from_redis())
        except (RedisError, OSError) as exc:
            log.warning("Metrics without Redis: %s", exc)
            up.add_metric(["redis"], 0)
        else:
            up.add_metric(["redis"], 1)
            yield from redis_metrics
        try:
            yield self._oldest_waiting()
        except DatabaseError as exc:
            log.warning("Metrics without the database: %s", exc)
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
        for gauge in self.gauges:
            try:
                value = float(gauge.read())
            except Exception:  # one plugged-in gauge must not take the others down
                log.exception("Gauge %s could not be read", gauge.name)
                continue
            yield GaugeMetricFamily(gauge.name, gauge.documentation, value=value)
        yield up

    def _from_redis(self) -> Iterable[Metric]:
        connection = counters.connection()
        with connection.pipeline(transaction=False) as pipe:
            for key in counters.KEYS:
                pipe.hgetall(key)
            attempts, finished, retries, latency = pipe.execute()
        yield _counter(
            "s2s_deliveries",
            "Deliveries that reached a final status, by app, MMP and status (delivered, failed, dead).",
            ["app", "mmp", "status"],
            finished,
        )
        yield _counter(
            "s2s_attempts",
            "Attempts answered (or failed on the network), by app, MMP and outcome (delivered, retry, permanent).",
            ["app", "mmp", "outcome"],
            attempts,
        )
        yield _counter("s2s_retries_scheduled", "Retries scheduled, by app and MMP.", ["app", "mmp"], retries)
        yield _latency(latency)
        yield from self._queue_gauges(connection)

    def _queue_gauges(self, connection) -> Iterable[Metric]:
        depth = GaugeMetricFamily("s2s_queue_depth", "Jobs waiting on each queue.", labels=["queue"])
        scheduled = GaugeMetricFamily(
            "s2s_queue_scheduled", "Jobs scheduled for later (retries) on each queue.", labels=["queue"]
        )
        for name in queue_names():
            queue = rq.Queue(name, connection=connection)
            depth.add_metric([name], queue.count)
            scheduled.add_metric([name], ScheduledJobRegistry(queue=queue).count)
        yield depth
        yield scheduled
        yield GaugeMetricFamily(
            "s2s_workers_alive",
            "Send workers alive (registered and renewing).",
            value=liveness.live_send_workers(connection),
        )

    def _oldest_waiting(self) -> Metric:
        oldest = oldest_waiting()
        age = (timezone.now() - oldest.created_at).total_seconds() if oldest else 0.0
        return GaugeMetricFamily(
            "s2s_oldest_waiting_seconds",
            "Age of the oldest delivery waiting to be sent (queued or retrying); 0 when none waits.",
            value=max(0.0, age),
        )


def queue_names() -> list[str]:
    return [settings.SEND_QUEUE, *settings.EXTRA_METRIC_QUEUES]


def _counter(name: str, documentation: str, labels: list[str], values: dict) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for field, value in sorted(values.items()):
        family.add_metric(counters.labels_of(field), float(value))
    return family


def _latency(values: dict) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "s2s_attempt_duration_seconds", "How long MMPs took to answer an attempt, by MMP.", labels=["mmp"]
    )
    per_mmp: dict[str, dict[str, float]] = {}
    for field, value in values.items():
        mmp, part = counters.labels_of(field)
        per_mmp.setdefault(mmp, {})[part] = float(value)
    for mmp, parts in sorted(per_mmp.items()):
        running = 0.0
        buckets = []
        for index, bound in enumerate(counters.LATENCY_BUCKETS):
            running += parts.get(str(index), 0.0)
            buckets.append((repr(bound), running))
        buckets.append(("+Inf", parts.get("count", 0.0)))
        family.add_metric([mmp], buckets, sum_value=parts.get("sum", 0.0))
    return family
