"""Prometheus metrics for /metrics.

- counters.py: what the send workers count as they record each batch (kept in Redis);
- collector.py: renders those counters and the gauges read at scrape time (queue depth, the
  oldest waiting delivery, workers alive, and the gauges others plug in, such as open incidents);
- views.py: the /metrics endpoint, behind a token or an allowed address.

The engine imports only counters.py (imports run down: engine -> metrics.counters).
"""
