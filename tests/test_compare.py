"""Comparing two attempts, of one delivery or two: the decoded parameters, the headers, the answer
and the timing side by side, differences highlighted, and the response bodies diffed line by line."""

import json
import re

import pytest
from django.urls import reverse

from events.models import Outcome
from tests.conftest import IDFA
from tests.test_deliveries import SCRIPT, add_attempt, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(adjust_app):
    """A rejected attempt and a later delivered one for the same device."""
    first = make_delivery(adjust_app)
    rejected = add_attempt(
        first, status=451, outcome=Outcome.PERMANENT, body=json.dumps({"error": "Event request failed (Device is opted out)"}),
        mmp_message="Device is opted out", explanation="This device is opted out at Adjust.",
    )  # fmt: skip
    second = make_delivery(adjust_app, callback_params={"order": "43"})
    delivered = add_attempt(second, body=json.dumps({"status": "OK"}), duration_ms=55.0)
    delivered.request_body = delivered.request_body.replace("%2242%22", "%2243%22")
    delivered.save()
    return rejected, delivered


def changed_rows(page: str) -> list[str]:
    return [label.strip() for label in re.findall(r"<tr class=\"changed\"><th scope=\"row\">([^<]+)", page)]


@pytest.mark.parametrize("role", ["viewer", "marketer", "admin"])
def test_every_reader_may_compare(request, client_for, role, pair):
    a, b = pair
    response = client_for(request.getfixturevalue(role)).get(f"{reverse('compare')}?a={a.pk}&b={b.pk}")
    assert response.status_code == 200


def test_an_outsider_is_refused_and_anonymous_visitors_log_in(client, client_for, outsider, pair):
    a, b = pair
    url = f"{reverse('compare')}?a={a.pk}&b={b.pk}"
    assert client.get(url).status_code == 302
    assert client_for(outsider).get(url).status_code == 403


def test_compare_only_answers_get(client_for, viewer):
    assert client_for(viewer).post(reverse("compare")).status_code == 405


def test_unknown_or_malformed_attempt_ids_are_404(client_for, viewer, pair):
    a, _ = pair
    client = client_for(viewer)
    assert client.get(f"{reverse('compare')}?a={a.pk}&b=999999").status_code == 404
    assert client.get(f"{reverse('compare')}?a={a.pk}&b=x").status_code == 404


def test_without_two_ids_the_page_asks_for_them(client_for, viewer, db):
    page = client_for(viewer).get(reverse("compare")).content.decode()
    assert "Give two attempt ids" in page


def test_differences_are_highlighted_and_equal_rows_are_not(client_for, viewer, pair):
    a, b = pair
    page = client_for(viewer).get(f"{reverse('compare')}?a={a.pk}&b={b.pk}").content.decode()
    changed = changed_rows(page)
    assert "callback_params" in changed  # parameters
    assert "HTTP status" in changed and "Outcome" in changed and "MMP message" in changed  # answer
    assert "Duration" in changed  # timing
    assert "error" in changed and "status" in changed  # the JSON answers' fields
    assert "idfa" not in changed and "event_token" not in changed and "Authorization" not in changed
    assert '<tr class="same"><th scope="row">idfa</th>' in page
    # The bodies, line by line: A's line removed, B's added.
    assert (
        '<span class="removed">A   &quot;error&quot;: &quot;Event request failed (Device is opted out)&quot;</span>'
        in page
    )
    assert '<span class="added">B   &quot;status&quot;: &quot;OK&quot;</span>' in page
    # Both attempts in full, side by side, through the shared attempt partial.
    assert page.count('class="attempt outcome-') == 2
    assert IDFA in page


def test_the_second_attempt_may_be_typed(client_for, viewer, pair):
    a, b = pair
    page = client_for(viewer).get(f"{reverse('compare')}?a={a.pk}&b=&b_id={b.pk}").content.decode()
    assert f"attempt {b.number}</a>" in page and "difference" in page


def test_answers_with_a_script_are_escaped(client_for, viewer, adjust_app):
    d = make_delivery(adjust_app)
    a = add_attempt(
        d,
        status=400,
        outcome=Outcome.PERMANENT,
        body=SCRIPT,
        mmp_message=SCRIPT,
        response_headers={"X": SCRIPT},
    )
    b = add_attempt(d, status=400, outcome=Outcome.PERMANENT, body=json.dumps({SCRIPT: SCRIPT}))
    page = client_for(viewer).get(f"{reverse('compare')}?a={a.pk}&b={b.pk}").content.decode()
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_the_delivery_page_offers_its_attempts_and_the_same_devices_others(client_for, marketer, pair):
    rejected, delivered = pair
    page = client_for(marketer).get(reverse("delivery", args=[delivered.delivery_id])).content.decode()
    assert f'<option value="{delivered.pk}" selected>' in page
    assert f'<option value="{rejected.pk}">Delivery {rejected.delivery_id}, attempt 1' in page
