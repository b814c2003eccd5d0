"""Reporting: the overview's figures and the hourly rollups they are read from.

- rollups.py: the write side, `record_attempts(rows)`, called by the send engine as it records
  attempts (the counting rule is in its docstring).
- figures.py: the read side, a time range's figures, per app and per MMP, from the rollups.
- charts.py: server-drawn SVG geometry for the overview; queue.py: the queue's health.
- models.py: the rollup tables (registered through events/models.py).

Only rollups and models are imported by events/models.py and the engine; nothing here is imported
at package import time, so the models module can load this package without a circle.
"""
