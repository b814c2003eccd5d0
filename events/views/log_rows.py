"""A request-log row as the page shows it, worked out in Python in one pass over the page.

The log's table is fifty rows of eleven cells, and the page is fetched again every 5 s by each
tab with auto-refresh on. Worked out in the template, each cell was a few variable lookups and a
filter or a tag (`{% url %}`, `when`, `capfirst`, `truncatechars`, `floatformat`, the choices'
labels): about 120 µs a row, a third of the page's server time. Here every value is computed
once, and the template only places them (templates/events/log/_results.html). A row is a dict:
the template engine tries a key before an attribute, and a miss costs an exception per lookup.
"""

from typing import TypedDict

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from events.models import Delivery, Source, Status
from events.templatetags.clock import when

# How much of the MMP's words a row shows under its status (the delivery page has all of them).
MESSAGE_CHARS = 80
_SOURCES = dict(Source.choices)
_STATUSES = dict(Status.choices)


class LogRow(TypedDict):
    pk: int
    url: str
    time: SafeString  # a <time> element, as the `when` filter gives it
    app: str
    event: str
    device_id_type: str
    device_id: str
    is_test: bool
    source: str  # the source's label
    environment: str
    status: str  # the status's value (its CSS class)
    status_label: str
    status_text: str  # the value, capitalised, as the badge shows it
    ambiguous: bool
    message: str  # the MMP's words, shortened; empty for a delivered row
    http: str
    tries: int
    latency: str


def log_rows(deliveries: list[Delivery]) -> list[LogRow]:
    """The rows of a log page (log_query.page's rows: app and event token already joined)."""
    # One reverse for the page: every row's link is the same path around its id.
    prefix, suffix = reverse("delivery", args=[0]).rsplit("0", 1)
    return [
        LogRow(
            pk=d.pk,
            url=f"{prefix}{d.pk}{suffix}",
            time=when(d.created_at, "seconds"),
            app=d.app.name,
            event=d.event_token.name,
            device_id_type=d.device_id_type,
            device_id=d.device_id,
            is_test=d.is_test,
            source=_SOURCES.get(d.source, d.source),
            environment=d.environment,
            status=d.status,
            status_label=_STATUSES.get(d.status, d.status),
            status_text=d.status[:1].upper() + d.status[1:],
            ambiguous=d.ambiguous,
            message=(
                Truncator(d.last_message).chars(MESSAGE_CHARS)
                if d.last_message and d.status != Status.DELIVERED
                else ""
            ),
            http=str(d.last_http_status) if d.last_http_status else "—",
            tries=d.attempt_count,
            # floatformat as the template had it: rounded half up, as every page shows latencies.
            latency="—" if d.last_duration_ms is None else f"{floatformat(d.last_duration_ms, 0)} ms",
        )
        for d in deliveries
    ]
