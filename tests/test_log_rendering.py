"""The request log's page is rendered cheaply and shows the same: its rows' values worked out in
Python (events/views/log_rows.py) give the markup the per-cell template tags and filters gave, the
filter form's selects (events/forms/quick_select.py) the markup of Django's select templates, and
the `when` filter Django's date format."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from events.forms.log import LogFilterForm
from events.forms.quick_select import QuickSelect
from events.log import query as log_query
from events.models import Delivery, Source, Status
from events.templatetags.clock import when
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db

# The rows as _results.html wrote them before log_rows: each value worked out in the template.
TEMPLATE_ROWS = """{% load clock %}{% for d in rows %}
    <tr class="{% if d.is_test %}test-row{% endif %}">
      {% if can_resend %}<td class="pick"><input type="checkbox" name="ids" value="{{ d.pk }}" form="resend-form" aria-label="Choose delivery {{ d.pk }} to resend"></td>{% endif %}
      <td class="nowrap"><a href="{% url 'delivery' d.pk %}">{{ d.created_at|when:"seconds" }}</a></td>
      <td>{{ d.app.name }}</td>
      <td>{{ d.event_token.name }}</td>
      <td class="device" title="{{ d.device_id_type }}"><code>{{ d.device_id }}</code></td>
      <td>{% if d.is_test %}<span class="badge test">test</span>{% else %}{{ d.get_source_display }}{% endif %}</td>
      <td><span class="badge env-{{ d.environment }}">{{ d.environment }}</span></td>
      <td><span class="badge {{ d.status }}" title="{{ d.get_status_display }}">{{ d.status|capfirst }}</span>{% if d.ambiguous %} <span class="badge" title="The MMP may have recorded an attempt whose answer said otherwise">ambiguous</span>{% endif %}{% if d.last_message and d.status != "delivered" %}<div class="muted small message">{{ d.last_message|truncatechars:80 }}</div>{% endif %}</td>
      <td class="num" data-label="HTTP">{{ d.last_http_status|default:"—" }}</td>
      <td class="num" data-label="tries">{{ d.attempt_count }}</td>
      <td class="num nowrap" data-label="latency">{% if d.last_duration_ms is not None %}{{ d.last_duration_ms|floatformat:0 }} ms{% else %}—{% endif %}</td>
    </tr>
  {% endfor %}"""


@pytest.fixture
def varied(adjust_app, tenjin_app):
    """Rows that take every branch of a cell: test traffic, ambiguity, long and scripted words,
    no status or latency, a latency on the half (rounded up), each status."""
    now = timezone.now()
    cases = [
        {"source": Source.FORM, "last_duration_ms": 120.5},
        {"status": Status.FAILED, "last_http_status": 404, "last_message": "Device not found " * 8},
        {"status": Status.DEAD, "last_http_status": None, "last_duration_ms": None, "ambiguous": True},
        {"status": Status.RETRYING, "last_http_status": 503, "last_message": "<script>alert(1)</script>"},
        {"status": Status.DELIVERED, "last_message": "OK", "last_duration_ms": 0.49, "source": Source.BULK},
        {"status": Status.QUEUED, "last_http_status": None, "attempt_count": 0, "app": tenjin_app},
    ]
    rows = []
    for i, fields in enumerate(cases):
        app = fields.pop("app", adjust_app)
        values = {
            "source": Source.API, "environment": "sandbox", "device_id_type": "idfa", "device_id": IDFA,
            "status": Status.DELIVERED, "last_http_status": 200, "attempt_count": 1,
            "last_duration_ms": 80.0, "created_at": now - timedelta(minutes=i, microseconds=i * 1001),
        }  # fmt: skip
        rows.append(
            Delivery.objects.create(app=app, event_token=app.event_tokens.first(), **{**values, **fields})
        )
    return rows


def tbody(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


@pytest.mark.parametrize("role", ["viewer", "marketer"])
def test_the_rows_show_what_the_template_showed(request, client_for, varied, role):
    """Every cell, for a reader and for one who may resend (the tick box), in the reader's zone."""
    client = client_for(request.getfixturevalue(role))
    response = client.get(reverse("log"))
    expected = Template(TEMPLATE_ROWS).render(
        Context(
            {
                "rows": log_query.page({}).rows,
                "can_resend": response.context["can_resend"],
            }
        )
    )
    assert tbody(response.content.decode()) == "\n  " + expected + "\n  "
    assert len(re.findall(r"<tr ", expected)) == len(varied)


def test_the_form_renders_as_django_renders_it(adjust_app, tenjin_app):
    """Each select of the log's filters, unchosen, chosen and in error, is what Django's Select
    widget writes; the model choices are read with one query each."""
    for data in ({}, {"app": adjust_app.pk, "status": "failed", "event": adjust_app.event_tokens.first().pk},
                 {"mmp": "nope", "period": "24h", "tests": "exclude"}):  # fmt: skip
        form = LogFilterForm(data)
        form.is_valid()
        for field in form:
            if not isinstance(field.field.widget, QuickSelect):
                continue
            quick = str(field)
            field.field.widget.__class__ = forms.Select  # the same widget, through Django's templates
            try:
                assert quick == str(field), field.name
            finally:
                field.field.widget.__class__ = QuickSelect
    selects = [f.name for f in LogFilterForm() if isinstance(f.field.widget, QuickSelect)]
    assert selects == ["app", "event", "mmp", "status", "source", "skan", "environment", "tests", "period"]


def test_a_select_with_groups_and_odd_attributes_renders_as_django_renders_it():
    choices = [("", "any"), ("Group <1>", [("a", "A & a"), ("b", 'B "b"')]), ("c", "C")]
    attrs = {"id": "x", "required": True, "disabled": False, "data-x": '<"&>'}
    for value in ("", "b", "c", ["a"]):
        assert QuickSelect(choices=choices).render("n", value, attrs) == forms.Select(choices=choices).render(
            "n", value, attrs
        )


def test_times_read_as_djangos_date_format_gives_them():
    for moment in (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 7, 8, 9, 10, 11, tzinfo=UTC),
    ):
        for zone in ("UTC", "Asia/Kolkata", "America/St_Johns"):
            with timezone.override(ZoneInfo(zone)):
                local = timezone.localtime(moment)
                for precision, django_format in (("minutes", "Y-m-d H:i"), ("seconds", "Y-m-d H:i:s")):
                    shown = f"{date_format(local, django_format)} {local.tzname()}"
                    expected = f'<time datetime="{local.isoformat()}">{shown}</time>'
                    assert when(moment, precision) == expected
