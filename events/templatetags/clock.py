"""Times as every page shows them: one filter, so each says which zone it is in."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# Django's date format "Y-m-d H:i" and "Y-m-d H:i:s", written out: django.utils.dateformat costs
# 15 µs a time and the request log shows fifty on each refresh (tests/test_time_zones.py).
FORMATS = {
    "minutes": "{0.year:04d}-{0.month:02d}-{0.day:02d} {0.hour:02d}:{0.minute:02d}",
    "seconds": "{0.year:04d}-{0.month:02d}-{0.day:02d} {0.hour:02d}:{0.minute:02d}:{0.second:02d}",
}


@register.filter
def when(value: datetime | None, precision: str = "minutes") -> str:
    """`2026-11-30 01:10 UTC` in a <time> element (machine-readable); empty for no time."""
    if not value:
        return ""
    local = timezone.localtime(value)
    shown = f"{FORMATS[precision].format(local)} {local.tzname()}"
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), shown)
