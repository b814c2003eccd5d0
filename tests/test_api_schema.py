"""Schemathesis drives the API from its own OpenAPI document, over a live server: no 500, and no
answer that breaks the document.

It runs through the programmatic API (one Hypothesis run per operation) because schemathesis'
pytest plugin does not work with pytest 9's collection internals.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from events.api.keys import create_api_key
from events.models import App

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def schema_and_auth(live_server, adjust_app, tenjin_app, redis_conn):
    _, raw = create_api_key("schemathesis", list(App.objects.all()), rate_limit_per_minute=100_000)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    return schema, {"Authorization": f"Bearer {raw}"}


def test_the_api_keeps_to_its_openapi_document(schema_and_auth):
    schema, auth = schema_and_auth
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {"POST /api/v1/events", "GET /api/v1/deliveries/{delivery_id}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case):
            case.call_and_validate(headers=auth)

        conforms()
