"""Times as every page shows them: one filter, so each says which zone it is in."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()

FORMATS = {"minutes": "Y-m-d H:i", "seconds": "Y-m-d H:i:s"}


@register.filter
def when(value: datetime | None, precision: str = "minutes") -> str:
    """`2026-11-30 01:10 UTC` in a <time> element (machine-readable); empty for no time."""
    if not value:
        return ""
    local = timezone.localtime(value)
    shown = f"{date_format(local, FORMATS[precision])} {local.tzname()}"
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), shown)
