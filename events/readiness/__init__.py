"""/ready/: whether this deployment can take and send events now (checks.py), as a probe answers
it (views.py). /health/ stays the cheap liveness probe (events/views/__init__.py)."""
